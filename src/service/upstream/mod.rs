//! Signing in with an upstream identity provider (docs/API.md §2, "Signing in with a
//! provider"): the start, which sends the browser to the provider with a fresh `state`,
//! `nonce` and PKCE verifier, and the callback, which checks what came back (the state,
//! once, bound to the browser that started; RFC 9207's `iss`; the code exchange; the ID
//! token) and then decides whose account it is (`accounts`). `flow` holds what differs by
//! kind of provider, `identity` how an answer names a person. Whatever the callback decides
//! ends through `ending`, like every sign-in.
mod accounts;
mod flow;
mod identity;
mod mapping;

use secrecy::SecretString;
use url::Url;

use crate::audit::{self, Event};
use crate::auth::keys::Sealer;
use crate::auth::starts::Start;
use crate::auth::upstream::cache::ProviderCache;
use crate::auth::upstream::{pkce, token, UpstreamError};
use crate::domain::RoleSet;
use crate::service::ending::Outcome;
use crate::service::factors::{FactorError, Factors};
use crate::service::providers::{self as configured, Provider};
use crate::service::Client;
use crate::store::{upstream_logins, upstream_logins::PendingLogin, StoreError};

/// How long a sign-in begun at a provider may take to come back.
pub const PENDING_TTL_SECS: i64 = 600;

/// What the start and the callback work with, besides the sign-in's own components.
#[derive(Clone, Copy)]
pub struct Upstream<'a> {
    pub sealer: &'a Sealer,
    pub http: &'a reqwest::Client,
    /// Providers' metadata and keys, kept a while (`auth::upstream::cache`).
    pub cache: &'a ProviderCache,
    /// Portcullis' public URL: the callback is `{public_base}/api/auth/providers/{id}/callback`.
    pub public_base: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderSigninError {
    /// No such provider, or it is turned off.
    #[error("no such provider")]
    UnknownProvider,
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
    /// The provider answers with a cross-site form POST (Apple): the state's cookie must
    /// be sent with it, which `SameSite=Lax` would not be.
    pub form_post: bool,
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
    let flow = flow::discover(up, &provider).await?;
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
        authorization_endpoint: &flow.authorization,
        client_id: &provider.config.client_id,
        redirect_uri: &redirect_uri,
        scopes: &scopes,
        state: &pending.state,
        nonce,
        code_challenge: &pkce::code_challenge(&pending.code_verifier),
        extra: flow.extra_params(),
    });
    Ok(Started {
        redirect_to,
        state: pending.state,
        form_post: flow.form_post,
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
    /// Apple's `user` field (its form post, first sign-in only): the person's name.
    pub user: Option<&'a str>,
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
    let flow = flow::discover(up, &provider).await?;
    flow.check_callback_issuer(provider.kind, answer.iss)?;
    if answer.error.is_some() {
        return Err(ProviderSigninError::Refused);
    }
    let code = answer.code.ok_or(ProviderSigninError::Refused)?;
    let secret = open_secret(up, &provider.id, sealed.as_deref())?;
    let credential = flow.credential(&provider, secret, clock.now_secs())?;
    let token_client = token::Client {
        id: &provider.config.client_id,
        auth: credential.as_auth(),
    };
    let redirect_uri = callback_url(up, &provider.id);
    let tokens = token::exchange_code(
        up.http,
        &flow.token,
        &token_client,
        code,
        &redirect_uri,
        &pending.code_verifier,
    )
    .await?;
    let nonce = pending.nonce.as_deref().unwrap_or_default();
    let identity = flow
        .identity(up, &provider, &tokens, nonce, clock.now_secs(), answer.user)
        .await?;
    let identity = identity::within_bounds(identity)?;
    let return_to = pending.return_to.clone();
    if let Some(user_id) = pending.user_id {
        accounts::link(f, client, &provider, user_id, &identity).await?;
        return Ok(Finished::Linked { return_to });
    }
    let outcome = accounts::signin(f, client, require_mfa_for, &provider, identity).await?;
    Ok(Finished::Signin {
        outcome: Box::new(outcome),
        return_to,
    })
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
