//! Signing in with an upstream identity provider (docs/API.md §2, "Signing in with a
//! provider"): the start, which sends the browser to the provider with a fresh `state`,
//! `nonce` and PKCE verifier, and the callback, which checks what came back (the state,
//! once, bound to the browser that started; RFC 9207's `iss`; the code exchange; the ID
//! token) and then decides whose account it is. A linked identity signs in to its account;
//! an unknown one gets a new account only as the provider's `signup` allows, and never the
//! account of someone whose email it merely shares: that person must sign in and link it
//! (pre-account takeover). Whatever it decides ends through `ending`, like every sign-in.
use jsonwebtoken::Algorithm;
use secrecy::SecretString;
use serde_json::{Map, Value};
use url::Url;

use crate::audit::{self, Event};
use crate::auth::keys::Sealer;
use crate::auth::starts::Start;
use crate::auth::upstream::discovery::{self, ProviderMetadata};
use crate::auth::upstream::{id_token, pkce, token, UpstreamError};
use crate::domain::{Email, ProviderConfig, ProviderKind, RoleSet, SigninMethod, Username};
use crate::service::ending::{self, Outcome, Proven};
use crate::service::factors::{FactorError, Factors};
use crate::service::providers::{self as configured, Provider};
use crate::service::Client;
use crate::store::{self, identities, upstream_logins, upstream_logins::PendingLogin, StoreError};

/// How long a sign-in begun at a provider may take to come back.
pub const PENDING_TTL_SECS: i64 = 600;

/// What the start and the callback work with, besides the sign-in's own components.
#[derive(Clone, Copy)]
pub struct Upstream<'a> {
    pub sealer: &'a Sealer,
    pub http: &'a reqwest::Client,
    /// Portcullis' public URL: the callback is `{public_base}/api/auth/providers/{id}/callback`.
    pub public_base: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderSigninError {
    /// No such provider, or it is turned off.
    #[error("no such provider")]
    UnknownProvider,
    /// A preset whose flow this build does not have yet.
    #[error("signing in with a {0} provider is not available yet")]
    NotAvailable(&'static str),
    #[error("too many sign-ins started from this address")]
    TooManyStarts(u64),
    /// The provider could not be reached, or answered something unusable.
    #[error("the provider: {0}")]
    Unavailable(UpstreamError),
    /// The provider said no (the person declined, or it refused the code).
    #[error("the provider refused the sign-in")]
    Refused,
    /// No pending sign-in for this state in this browser: forged, replayed, or expired.
    #[error("the sign-in's state is unknown, used or expired")]
    StateInvalid,
    /// The answer came from another issuer than the one configured (mix-up, RFC 9207).
    #[error("the answer came from another issuer")]
    IssuerMismatch,
    #[error("the ID token is invalid: {0}")]
    IdTokenInvalid(String),
    /// A new account needs an email the provider vouches for.
    #[error("the provider gave no verified email")]
    EmailMissing,
    /// An account has this email: its owner must sign in and link the identity.
    #[error("an account has this email: sign in to it and link the provider")]
    LinkRequired,
    /// The provider's `signup` makes no account for this identity.
    #[error("no account is linked to this identity")]
    NoAccount,
    /// Disabled, or a service account: it does not sign in.
    #[error("the account cannot sign in")]
    AccountRefused,
    /// Linking: the identity signs in to another account already.
    #[error("the identity is linked to another account")]
    LinkedElsewhere,
    #[error(transparent)]
    Factor(#[from] FactorError),
    #[error("database: {0}")]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ProviderSigninError {
    /// The code the login page is sent with (`/login?error=…`), for it to explain.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderSigninError::UnknownProvider => "provider_unknown",
            ProviderSigninError::NotAvailable(_) => "provider_not_available",
            ProviderSigninError::TooManyStarts(_) => "too_many_requests",
            ProviderSigninError::Unavailable(_) => "provider_unavailable",
            ProviderSigninError::Refused => "provider_refused",
            ProviderSigninError::StateInvalid => "provider_state_invalid",
            ProviderSigninError::IssuerMismatch => "provider_issuer_mismatch",
            ProviderSigninError::IdTokenInvalid(_) => "provider_token_invalid",
            ProviderSigninError::EmailMissing => "provider_email_missing",
            ProviderSigninError::LinkRequired => "provider_link_required",
            ProviderSigninError::NoAccount => "provider_no_account",
            ProviderSigninError::AccountRefused => "provider_account_refused",
            ProviderSigninError::LinkedElsewhere => "provider_linked_elsewhere",
            ProviderSigninError::Factor(_)
            | ProviderSigninError::Db(_)
            | ProviderSigninError::Internal(_) => "provider_failed",
        }
    }
}

impl From<UpstreamError> for ProviderSigninError {
    fn from(e: UpstreamError) -> Self {
        match e {
            UpstreamError::IssuerMismatch => ProviderSigninError::IssuerMismatch,
            UpstreamError::IdTokenInvalid(why) => ProviderSigninError::IdTokenInvalid(why),
            UpstreamError::TokenRefused(_) => ProviderSigninError::Refused,
            other => ProviderSigninError::Unavailable(other),
        }
    }
}

impl From<StoreError> for ProviderSigninError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => ProviderSigninError::Db(e),
            other => ProviderSigninError::Internal(other.into()),
        }
    }
}

/// Where a provider's flow goes, from discovery or its settings.
struct Endpoints {
    authorization: Url,
    token: Url,
    userinfo: Option<Url>,
    /// OpenID Connect: the discovered metadata, for the `iss` and ID token checks.
    oidc: Option<ProviderMetadata>,
}

async fn endpoints(
    up: Upstream<'_>,
    provider: &Provider,
) -> Result<Endpoints, ProviderSigninError> {
    let config = &provider.config;
    let discovered = |issuer: String| async move {
        let metadata = discovery::discover(up.http, &issuer).await?;
        Ok::<_, ProviderSigninError>(Endpoints {
            authorization: metadata.authorization_endpoint.clone(),
            token: metadata.token_endpoint.clone(),
            userinfo: metadata.userinfo_endpoint.clone(),
            oidc: Some(metadata),
        })
    };
    match provider.kind {
        ProviderKind::Oidc => {
            let issuer = config
                .issuer
                .clone()
                .ok_or(ProviderSigninError::UnknownProvider)?;
            discovered(issuer).await
        }
        ProviderKind::Google => discovered("https://accounts.google.com".into()).await,
        ProviderKind::Gitlab => {
            let issuer = config
                .issuer
                .clone()
                .unwrap_or_else(|| "https://gitlab.com".into());
            discovered(issuer).await
        }
        ProviderKind::Oauth2 => {
            let url = |v: &Option<String>| {
                v.as_deref()
                    .and_then(|v| Url::parse(v).ok())
                    .ok_or(ProviderSigninError::UnknownProvider)
            };
            Ok(Endpoints {
                authorization: url(&config.authorization_endpoint)?,
                token: url(&config.token_endpoint)?,
                userinfo: Some(url(&config.userinfo_endpoint)?),
                oidc: None,
            })
        }
        kind @ (ProviderKind::Github | ProviderKind::Microsoft | ProviderKind::Apple) => {
            Err(ProviderSigninError::NotAvailable(kind.name()))
        }
    }
}

fn callback_url(up: Upstream<'_>, provider_id: &str) -> String {
    format!(
        "{}/api/auth/providers/{provider_id}/callback",
        up.public_base
    )
}

/// The provider, when it is on, and its client secret as stored (sealed).
async fn enabled_provider(
    f: &Factors<'_>,
    provider_id: &str,
) -> Result<(Provider, Option<String>), ProviderSigninError> {
    match configured::with_sealed_secret(f.sessions.db, provider_id).await {
        Ok(Some((provider, sealed))) if provider.enabled => Ok((provider, sealed)),
        Ok(_) => Err(ProviderSigninError::UnknownProvider),
        Err(crate::service::admin::AdminError::Db(e)) => Err(e.into()),
        Err(e) => Err(anyhow::Error::from(e).into()),
    }
}

/// A sign-in begun: where to send the browser, and the state the browser must bring back
/// (the caller keeps it in a cookie of its own, so that another browser cannot finish it).
pub struct Started {
    pub redirect_to: Url,
    pub state: String,
}

/// Begins a sign-in with `provider_id` (or, with `linking`, a signed-in account's link of
/// another identity); `return_to` is where the browser goes once signed in.
pub async fn start(
    f: &Factors<'_>,
    up: Upstream<'_>,
    client: Client<'_>,
    provider_id: &str,
    linking: Option<i64>,
    return_to: Option<String>,
) -> Result<Started, ProviderSigninError> {
    f.starts
        .admit(Start::ProviderSignin, client.ip)
        .map_err(ProviderSigninError::TooManyStarts)?;
    let (provider, _) = enabled_provider(f, provider_id).await?;
    let endpoints = endpoints(up, &provider).await?;
    let pending = pkce::new_pending();
    let nonce = provider.kind.is_oidc().then_some(pending.nonce.as_str());
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let login = PendingLogin {
        provider_id: provider.id.clone(),
        nonce: nonce.map(str::to_string),
        code_verifier: pending.code_verifier.clone(),
        user_id: linking,
        return_to,
        expires_at: now + PENDING_TTL_SECS * 1000,
    };
    upstream_logins::create(db, &pkce::hash_state(&pending.state), &login, now).await?;
    let scopes: Vec<&str> = provider.config.scopes.iter().map(String::as_str).collect();
    let redirect_uri = callback_url(up, &provider.id);
    let redirect_to = token::authorization_url(&token::AuthorizationRequest {
        authorization_endpoint: &endpoints.authorization,
        client_id: &provider.config.client_id,
        redirect_uri: &redirect_uri,
        scopes: &scopes,
        state: &pending.state,
        nonce,
        code_challenge: &pkce::code_challenge(&pending.code_verifier),
        extra: &[],
    });
    Ok(Started {
        redirect_to,
        state: pending.state,
    })
}

/// What the provider's redirect brought back.
pub struct Callback<'a> {
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    pub iss: Option<&'a str>,
    /// The provider's own error (`access_denied` …), instead of a code.
    pub error: Option<&'a str>,
    /// The state this browser was given at the start (its cookie).
    pub browser_state: Option<&'a str>,
}

/// How a callback ended well: signed in (or on its way, with a second step), or a link.
pub enum Finished {
    Signin {
        outcome: Box<Outcome>,
        return_to: Option<String>,
    },
    Linked {
        return_to: Option<String>,
    },
}

/// Who the provider says signed in.
#[derive(Debug)]
struct Identity {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    /// What to name a new account after.
    username_hints: Vec<String>,
}

/// Finishes a sign-in at the provider's redirect. Every failure is audited (with the
/// provider and why) and leaves nothing behind.
pub async fn callback(
    f: &Factors<'_>,
    up: Upstream<'_>,
    client: Client<'_>,
    require_mfa_for: RoleSet,
    provider_id: &str,
    answer: Callback<'_>,
) -> Result<Finished, ProviderSigninError> {
    let result = finish(f, up, client, require_mfa_for, provider_id, answer).await;
    if let Err(e) = &result {
        let (db, clock) = (f.sessions.db, f.sessions.clock);
        let detail = format!("provider {provider_id}: {}", e.code());
        let entry = audit::Entry {
            detail: Some(&detail),
            ..client.entry(None, None, None)
        };
        audit::record(db, clock, Event::ProviderSignin, false, &entry).await;
        if matches!(
            e,
            ProviderSigninError::Unavailable(_)
                | ProviderSigninError::Factor(_)
                | ProviderSigninError::Db(_)
                | ProviderSigninError::Internal(_)
        ) {
            tracing::warn!(provider = provider_id, error = %e, "sign-in with a provider failed");
        }
    }
    result
}

async fn finish(
    f: &Factors<'_>,
    up: Upstream<'_>,
    client: Client<'_>,
    require_mfa_for: RoleSet,
    provider_id: &str,
    answer: Callback<'_>,
) -> Result<Finished, ProviderSigninError> {
    f.starts
        .admit(Start::ProviderSignin, client.ip)
        .map_err(ProviderSigninError::TooManyStarts)?;
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    // The state first, and spent whatever follows: a callback is good once.
    let state = answer.state.ok_or(ProviderSigninError::StateInvalid)?;
    let same_browser = answer.browser_state.is_some_and(|b| {
        use subtle::ConstantTimeEq;
        bool::from(b.as_bytes().ct_eq(state.as_bytes()))
    });
    let pending = upstream_logins::take(db, &pkce::hash_state(state))
        .await?
        .filter(|p| p.provider_id == provider_id && clock.now_ms() < p.expires_at)
        .ok_or(ProviderSigninError::StateInvalid)?;
    if !same_browser {
        return Err(ProviderSigninError::StateInvalid);
    }
    let (provider, sealed) = enabled_provider(f, provider_id).await?;
    let endpoints = endpoints(up, &provider).await?;
    if let Some(metadata) = &endpoints.oidc {
        token::check_callback_issuer(
            answer.iss,
            &metadata.issuer,
            metadata.iss_parameter_supported,
        )?;
    }
    if answer.error.is_some() {
        return Err(ProviderSigninError::Refused);
    }
    let code = answer.code.ok_or(ProviderSigninError::Refused)?;
    let secret = open_secret(up, &provider.id, sealed.as_deref())?;
    let auth = match &secret {
        Some(secret) => match &endpoints.oidc {
            Some(m)
                if !m
                    .token_endpoint_auth_methods_supported
                    .iter()
                    .any(|a| a == "client_secret_basic")
                    && m.token_endpoint_auth_methods_supported
                        .iter()
                        .any(|a| a == "client_secret_post") =>
            {
                token::ClientAuth::Post(secret)
            }
            _ => token::ClientAuth::Basic(secret),
        },
        None => token::ClientAuth::None,
    };
    let token_client = token::Client {
        id: &provider.config.client_id,
        auth,
    };
    let redirect_uri = callback_url(up, &provider.id);
    let tokens = token::exchange_code(
        up.http,
        &endpoints.token,
        &token_client,
        code,
        &redirect_uri,
        &pending.code_verifier,
    )
    .await?;
    let identity = match &endpoints.oidc {
        Some(metadata) => {
            let id_token = tokens
                .id_token
                .as_deref()
                .ok_or_else(|| ProviderSigninError::IdTokenInvalid("none was issued".into()))?;
            let jwks = discovery::fetch_jwks(up.http, &metadata.jwks_uri).await?;
            let algs = allowed_algs(metadata);
            let nonce = pending.nonce.as_deref().unwrap_or_default();
            let verified = id_token::verify_id_token(
                &jwks,
                id_token,
                &id_token::Expected {
                    issuer: Some(&metadata.issuer),
                    client_id: &provider.config.client_id,
                    nonce,
                    now_secs: clock.now_secs(),
                    leeway_secs: id_token::DEFAULT_LEEWAY_SECS,
                    allowed_algs: &algs,
                },
            )?;
            let mut claims = verified.claims;
            // An ID token without the email: userinfo may have it, for the same subject.
            if !claims.contains_key("email") {
                if let Some(endpoint) = &endpoints.userinfo {
                    let more = token::userinfo(up.http, endpoint, &tokens.access_token).await?;
                    if more.get("sub").and_then(Value::as_str) == Some(verified.subject.as_str()) {
                        for (k, v) in more {
                            claims.entry(k).or_insert(v);
                        }
                    }
                }
            }
            oidc_identity(verified.subject, &claims)
        }
        None => {
            let endpoint = endpoints
                .userinfo
                .as_ref()
                .ok_or(ProviderSigninError::Refused)?;
            let info = token::userinfo(up.http, endpoint, &tokens.access_token).await?;
            oauth2_identity(&provider.config, &info)?
        }
    };
    let identity = within_bounds(identity)?;
    let return_to = pending.return_to.clone();
    if let Some(user_id) = pending.user_id {
        link(f, client, &provider, user_id, &identity).await?;
        return Ok(Finished::Linked { return_to });
    }
    let outcome = signin(f, client, require_mfa_for, &provider, identity).await?;
    Ok(Finished::Signin {
        outcome: Box::new(outcome),
        return_to,
    })
}

/// The algorithms the provider says it signs ID tokens with, of those we verify; RS256,
/// which OpenID Connect requires every provider to support, when it says none.
fn allowed_algs(metadata: &ProviderMetadata) -> Vec<Algorithm> {
    let named: Vec<Algorithm> = metadata
        .id_token_signing_alg_values_supported
        .iter()
        .filter_map(|a| a.parse().ok())
        .filter(|a| id_token::ASYMMETRIC_ALGS.contains(a))
        .collect();
    if named.is_empty() {
        vec![Algorithm::RS256]
    } else {
        named
    }
}

fn open_secret(
    up: Upstream<'_>,
    provider_id: &str,
    sealed: Option<&str>,
) -> Result<Option<SecretString>, ProviderSigninError> {
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let text = up
        .sealer
        .open_text(&configured::secret_context(provider_id), sealed)
        .map_err(|e| anyhow::anyhow!("opening provider {provider_id}'s secret: {e}"))?;
    Ok(Some(SecretString::from(text)))
}

fn text_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `email_verified` is a boolean by the standard; some providers send the string.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn oidc_identity(subject: String, claims: &Map<String, Value>) -> Identity {
    let email = text_claim(claims, "email");
    let username_hints = ["preferred_username", "nickname", "name"]
        .iter()
        .filter_map(|c| text_claim(claims, c))
        .chain(
            email
                .iter()
                .filter_map(|e| e.split('@').next().map(str::to_string)),
        )
        .collect();
    Identity {
        subject,
        email_verified: email.is_some() && truthy(claims.get("email_verified")),
        email,
        username_hints,
    }
}

fn oauth2_identity(
    config: &ProviderConfig,
    info: &Map<String, Value>,
) -> Result<Identity, ProviderSigninError> {
    let claims = config.claims.clone().unwrap_or_default();
    let document = Value::Object(info.clone());
    let at = |pointer: &Option<String>| pointer.as_deref().and_then(|p| document.pointer(p));
    let subject = match document.pointer(&claims.id) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(ProviderSigninError::Unavailable(UpstreamError::Garbage(
                "the user-info answer has no id where the provider's claims say".into(),
            )))
        }
    };
    let email = at(&claims.email)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    let username_hints = at(&claims.username)
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .chain(
            email
                .iter()
                .filter_map(|e| e.split('@').next().map(str::to_string)),
        )
        .collect();
    Ok(Identity {
        subject,
        email_verified: email.is_some() && truthy(at(&claims.email_verified)),
        email,
        username_hints,
    })
}

/// What is stored of an identity fits its columns: a subject of at most 255 bytes (OpenID
/// Connect's own bound), an email of at most 254 (a longer one is no address).
fn within_bounds(mut identity: Identity) -> Result<Identity, ProviderSigninError> {
    if identity.subject.is_empty() || identity.subject.len() > 255 {
        return Err(ProviderSigninError::Unavailable(UpstreamError::Garbage(
            "the provider's subject is empty or longer than 255 bytes".into(),
        )));
    }
    if identity.email.as_ref().is_some_and(|e| e.len() > 254) {
        identity.email = None;
        identity.email_verified = false;
    }
    Ok(identity)
}

/// A signed-in account links the identity it just proved at the provider.
async fn link(
    f: &Factors<'_>,
    client: Client<'_>,
    provider: &Provider,
    user_id: i64,
    identity: &Identity,
) -> Result<(), ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let user = store::users::find_by_id(db, user_id)
        .await?
        .filter(|u| !u.disabled && !u.service_account)
        .ok_or(ProviderSigninError::AccountRefused)?;
    if let Some(existing) = identities::find(db, &provider.id, &identity.subject).await? {
        if existing.user_id != user.id {
            return Err(ProviderSigninError::LinkedElsewhere);
        }
        return Ok(());
    }
    let email = identity.email.as_deref();
    if !identities::link(db, user.id, &provider.id, &identity.subject, email, now).await? {
        return Err(ProviderSigninError::LinkedElsewhere);
    }
    let detail = format!("provider {}", provider.id);
    let entry = audit::Entry {
        detail: Some(&detail),
        ..client.entry(Some(user.id), Some(user.id), Some(&user.username))
    };
    audit::record(db, clock, Event::ProviderLinked, true, &entry).await;
    Ok(())
}

/// The account the identity signs in to, made if the provider's `signup` allows, and the
/// sign-in's ending.
async fn signin(
    f: &Factors<'_>,
    client: Client<'_>,
    require_mfa_for: RoleSet,
    provider: &Provider,
    identity: Identity,
) -> Result<Outcome, ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let verified_email = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified);
    let user = match identities::find(db, &provider.id, &identity.subject).await? {
        Some(linked) => {
            identities::touch(db, linked.id, identity.email.as_deref(), now).await?;
            store::users::find_by_id(db, linked.user_id)
                .await?
                .ok_or(ProviderSigninError::NoAccount)?
        }
        None => {
            // Never the account of someone whose email this identity merely shares.
            if let Some(email) = &identity.email {
                if store::users::find_by_email(db, email).await?.is_some() {
                    return Err(ProviderSigninError::LinkRequired);
                }
            }
            if !provider.config.admits_new_account(verified_email) {
                return Err(ProviderSigninError::NoAccount);
            }
            let email = verified_email.ok_or(ProviderSigninError::EmailMissing)?;
            new_account(f, client, provider, &identity, email).await?
        }
    };
    if user.disabled || user.service_account {
        return Err(ProviderSigninError::AccountRefused);
    }
    let trusted = provider.config.trusted_for_mfa;
    let proven = Proven {
        user,
        method: if trusted {
            SigninMethod::ProviderMfa
        } else {
            SigninMethod::Provider
        },
        event: Event::ProviderSignin,
        login: None,
    };
    if trusted {
        return Ok(Outcome::SignedIn(
            ending::complete(f, client, proven, None).await?,
        ));
    }
    Ok(ending::after_first_factor(f, client, proven, require_mfa_for).await?)
}

/// Makes the account of a first sign-in: a username from the provider's claims (made
/// unique), the verified email, no password it knows.
async fn new_account(
    f: &Factors<'_>,
    client: Client<'_>,
    provider: &Provider,
    identity: &Identity,
    email: &str,
) -> Result<store::users::UserRecord, ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let email = Email::parse(email).map_err(|_| ProviderSigninError::EmailMissing)?;
    // A random password, hashed and forgotten: the account signs in with the provider
    // until it sets one (a reset link, or the profile).
    let random = SecretString::from(uuid::Uuid::new_v4().simple().to_string());
    let password_hash = f
        .hasher
        .hash(random)
        .await
        .map_err(|e| ProviderSigninError::Factor(FactorError::Hash(e)))?;
    let base = username_base(&identity.username_hints);
    let mut created = None;
    for attempt in 0..20u32 {
        let candidate = match attempt {
            0 => base.clone(),
            n if n < 10 => format!("{}{}", truncate(&base, 18), n + 1),
            _ => format!(
                "{}-{}",
                truncate(&base, 12),
                &uuid::Uuid::new_v4().simple().to_string()[..6]
            ),
        };
        let Ok(username) = Username::parse(&candidate) else {
            continue;
        };
        let new = store::users::NewUser {
            username: &username,
            email: &email,
            password_hash: &password_hash,
            roles: [crate::domain::Role::User].into_iter().collect(),
        };
        let first = store::users::FirstIdentity {
            provider_id: &provider.id,
            subject: &identity.subject,
            email_verified: true,
        };
        match store::users::create_from_identity(db, new, first, clock.now_ms()).await {
            Ok(id) => {
                created = Some(id);
                break;
            }
            Err(StoreError::UsernameTaken) => continue,
            // Another sign-in made it meanwhile: its owner links, as above.
            Err(StoreError::EmailTaken) => return Err(ProviderSigninError::LinkRequired),
            Err(e) => return Err(e.into()),
        }
    }
    let id = created.ok_or_else(|| anyhow::anyhow!("no free username for a new account"))?;
    let user = store::users::find_by_id(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the new account {id} is gone"))?;
    let detail = format!("provider {}", provider.id);
    let entry = audit::Entry {
        detail: Some(&detail),
        ..client.entry(Some(id), Some(id), Some(&user.username))
    };
    audit::record(db, clock, Event::Signup, true, &entry).await;
    Ok(user)
}

/// A username from the provider's hints: the first that has enough of the username rules'
/// characters once the others are dropped; `user` when none does.
fn username_base(hints: &[String]) -> String {
    hints
        .iter()
        .map(|h| {
            h.chars()
                .map(|c| if c == ' ' { '.' } else { c })
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .take(20)
                .collect::<String>()
        })
        .find(|h| h.len() >= 3)
        .unwrap_or_else(|| "user".into())
}

fn truncate(s: &str, max: usize) -> &str {
    &s[..s.len().min(max)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_the_hints_within_the_rules() {
        let hint = |h: &[&str]| username_base(&h.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(hint(&["Ada Lovelace"]), "Ada.Lovelace");
        assert_eq!(hint(&["é", "grace_h"]), "grace_h");
        assert_eq!(
            hint(&["a-very-long-name-beyond-twenty"]),
            "a-very-long-name-bey"
        );
        assert_eq!(hint(&[]), "user");
    }

    #[test]
    fn subjects_and_emails_beyond_their_columns_are_not_stored() {
        let identity = |subject: &str, email: &str| Identity {
            subject: subject.into(),
            email: Some(email.into()),
            email_verified: true,
            username_hints: vec![],
        };
        assert!(within_bounds(identity(&"s".repeat(256), "a@example.com")).is_err());
        assert!(within_bounds(identity("", "a@example.com")).is_err());
        let long_email = format!("{}@example.com", "a".repeat(250));
        let kept = within_bounds(identity(&"s".repeat(255), &long_email)).unwrap();
        assert_eq!(kept.email, None);
        assert!(!kept.email_verified);
    }

    #[test]
    fn only_a_provider_that_says_so_verifies_an_email() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        let said = oidc_identity(
            "s".into(),
            &claims(serde_json::json!({"email": "a@example.com", "email_verified": true})),
        );
        assert!(said.email_verified);
        let silent = oidc_identity(
            "s".into(),
            &claims(serde_json::json!({"email": "a@example.com"})),
        );
        assert!(!silent.email_verified);
        let text = oidc_identity(
            "s".into(),
            &claims(serde_json::json!({"email": "a@example.com", "email_verified": "true"})),
        );
        assert!(text.email_verified);
    }
}
