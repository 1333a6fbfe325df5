//! The OpenID Connect provider's rules (docs/API.md §5): authorization with PKCE, the
//! consent a user gives, the token endpoint's grants, ID tokens, userinfo, revocation,
//! introspection and logout. HTTP shapes are `http::oidc_routes`' business.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::auth::access_token::{OAuthClaims, TokenError};
use crate::auth::keys::KeyAlg;
use crate::auth::session_cache::SessionCache;
use crate::auth::sessions::{self, ClientGrant, RefreshError, Sessions};
use crate::auth::starts::{Start, Starts};
use crate::clock::Millis;
use crate::db::DbError;
use crate::domain::oauth::{self, join_scopes, parse_scopes};
use crate::domain::{Role, SecondFactor, SigninMethod, UserState};
use crate::service::clients::{self, secret_matches};
use crate::service::Client;
use crate::store::oauth_clients::{self, ClientRecord};
use crate::store::oauth_grants::{self, Kind, NewPending};
use crate::store::{self, oauth_grants::ConsentRecord};

/// How long a code may wait for its exchange (RFC 6749 §4.1.2 says at most 10 minutes).
const CODE_TTL_MS: Millis = 60_000;
/// How long the user has to sign in and consent.
const REQUEST_TTL_MS: Millis = 10 * 60_000;
/// The web app's page that signs the user in and asks for consent.
pub const CONSENT_PAGE: &str = "/oauth/consent";

/// What the provider works with: the session lifecycle (which holds the database, the
/// clock and the signer) and the issuer, `PORTCULLIS_PUBLIC_URL`.
pub struct Provider<'a> {
    pub sessions: Sessions<'a>,
    /// The states of sessions and users that first-party requests check too, so a token
    /// check at userinfo or introspection costs no query on a hit.
    pub cache: &'a SessionCache,
    pub issuer: &'a str,
    /// How many requests one address may leave waiting for consent.
    pub starts: &'a Starts,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The client or redirect URI is not what was registered: nothing may be redirected to,
    /// so the user is told on our own page (RFC 6749 §4.1.2.1).
    #[error("{0}")]
    NoRedirect(String),
    /// One address started more requests than the server will keep: wait this many seconds.
    #[error("too many authorization requests from this client")]
    TooManyRequests(u64),
    #[error("this sign-in request has expired or was already used")]
    UnknownRequest,
    #[error("sign in again to continue")]
    SignInAgain,
    /// An RFC 6749 §5.2 error of the token endpoint (or of revocation, introspection).
    #[error("{code}: {description}")]
    Token {
        code: &'static str,
        description: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for OidcError {
    fn from(e: DbError) -> Self {
        OidcError::Internal(e.into())
    }
}

fn token_error(code: &'static str, description: impl Into<String>) -> OidcError {
    OidcError::Token {
        code,
        description: description.into(),
    }
}

/// The query of `/authorize`, as given.
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    /// Seconds: a sign-in older than this must be made again (OIDC Core §3.1.2.1).
    pub max_age: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// The browser's session, when it has one.
#[derive(Clone, Debug)]
pub struct Browser {
    pub user_id: i64,
    pub session_id: String,
}

/// A request checked and waiting (for consent, or in a code for its exchange).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Pending {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    /// `prompt=login`: only a session signed in after this counts.
    #[serde(default)]
    login_after: Option<Millis>,
    #[serde(default)]
    prompt_consent: bool,
    /// In a code: the browser session it came from, and when and how that signed in.
    #[serde(default)]
    browser_session: Option<String>,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    second_factor: Option<String>,
}

/// Where `/authorize` sends the browser next.
#[derive(Debug)]
pub enum Next {
    /// Back to the client, with a code or an error.
    ToClient(String),
    /// To the web app's consent page, with this request token.
    ToConsent(String),
}

/// `GET /authorize`: checks the request and answers with a code at once when the browser is
/// signed in and the user consented before; otherwise parks it for the consent page.
pub async fn authorize(
    p: &Provider<'_>,
    params: AuthorizeParams,
    browser: Option<Browser>,
    ip: std::net::IpAddr,
) -> Result<Next, OidcError> {
    let client_id = params
        .client_id
        .as_deref()
        .ok_or_else(|| OidcError::NoRedirect("client_id is missing".into()))?;
    let client = oauth_clients::find(p.sessions.db, client_id)
        .await?
        .ok_or_else(|| OidcError::NoRedirect("unknown client_id".into()))?;
    let redirect_uri = params
        .redirect_uri
        .clone()
        .ok_or_else(|| OidcError::NoRedirect("redirect_uri is missing".into()))?;
    if !client.redirect_uris.contains(&redirect_uri) {
        return Err(OidcError::NoRedirect(
            "redirect_uri is not one registered for this client".into(),
        ));
    }
    let back = Back {
        redirect_uri: &redirect_uri,
        state: params.state.as_deref(),
        issuer: p.issuer,
    };
    let pending = match check_request(&client, &params, p.sessions.clock.now_ms()) {
        Ok(pending) => pending,
        Err((code, description)) => return Ok(Next::ToClient(back.error(code, &description))),
    };
    let prompt_none = prompt_has(&params, "none");
    if let Some(browser) = &browser {
        if ready_for_code(p, &pending, browser).await? {
            let code = issue_code(p, pending, browser).await?;
            return Ok(Next::ToClient(back.code(&code)));
        }
    }
    if prompt_none {
        let code = match &browser {
            Some(b) if signed_in_after(p, b, pending.login_after).await? => "consent_required",
            _ => "login_required",
        };
        return Ok(Next::ToClient(back.error(code, "the user must be asked")));
    }
    // Only now is something stored, for anyone who asks: bounded per address.
    p.starts
        .admit(Start::AuthorizationRequest, ip)
        .map_err(OidcError::TooManyRequests)?;
    let token = random_token();
    let now = p.sessions.clock.now_ms();
    oauth_grants::create(
        p.sessions.db,
        NewPending {
            kind: Kind::Request,
            token_hash: &hash(&token),
            client_id: &client.client_id,
            user_id: None,
            request: &serde_json::to_string(&pending).map_err(anyhow::Error::from)?,
            expires_at: now + REQUEST_TTL_MS,
        },
        now,
    )
    .await?;
    Ok(Next::ToConsent(token))
}

/// The rules a request must meet once its client and redirect URI are known; a breach is
/// reported to the client as `(error, description)`.
fn check_request(
    client: &ClientRecord,
    params: &AuthorizeParams,
    now: Millis,
) -> Result<Pending, (&'static str, String)> {
    if params.request.is_some() {
        return Err((
            "request_not_supported",
            "request objects are not supported".into(),
        ));
    }
    if params.request_uri.is_some() {
        return Err((
            "request_uri_not_supported",
            "request_uri is not supported".into(),
        ));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return Err(("invalid_request", "response_type is missing".into())),
        Some(_) => {
            return Err((
                "unsupported_response_type",
                "only response_type=code is supported".into(),
            ))
        }
    }
    if params
        .response_mode
        .as_deref()
        .is_some_and(|m| m != "query")
    {
        return Err((
            "invalid_request",
            "only response_mode=query is supported".into(),
        ));
    }
    let scopes = parse_scopes(params.scope.as_deref().unwrap_or_default())
        .map_err(|e| ("invalid_scope", e))?;
    if !scopes.contains(&"openid") {
        return Err(("invalid_scope", "scope must include openid".into()));
    }
    if let Some(extra) = scopes
        .iter()
        .find(|s| !client.scopes.iter().any(|c| c == *s))
    {
        return Err((
            "invalid_scope",
            format!("the client may not ask for {extra}"),
        ));
    }
    let challenge = params.code_challenge.as_deref();
    match (challenge, params.code_challenge_method.as_deref()) {
        (None, None) if !client.public => {}
        (None, _) => {
            return Err((
                "invalid_request",
                "code_challenge (S256) is required for this client".into(),
            ))
        }
        (Some(c), Some("S256")) if oauth::valid_challenge(c) => {}
        (Some(_), Some("S256")) => {
            return Err((
                "invalid_request",
                "code_challenge is not an S256 value".into(),
            ))
        }
        // RFC 9700 §2.1.1: "plain" gives no protection where it would matter.
        (Some(_), _) => {
            return Err((
                "invalid_request",
                "code_challenge_method must be S256".into(),
            ))
        }
    }
    for (name, value) in [("state", &params.state), ("nonce", &params.nonce)] {
        if value.as_deref().is_some_and(|v| v.len() > 512) {
            return Err((
                "invalid_request",
                format!("{name} is longer than 512 characters"),
            ));
        }
    }
    let prompts: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if prompts
        .iter()
        .any(|p| !matches!(*p, "none" | "login" | "consent"))
    {
        return Err((
            "invalid_request",
            "prompt may be none, login or consent".into(),
        ));
    }
    if prompts.contains(&"none") && prompts.len() > 1 {
        return Err(("invalid_request", "prompt=none goes alone".into()));
    }
    // The OP MUST re-authenticate a sign-in older than max_age: it is prompt=login for
    // those, and max_age=0 is prompt=login always.
    let max_age = match params.max_age.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<u32>() {
            Ok(secs) => Some(now - i64::from(secs) * 1000),
            Err(_) => {
                return Err((
                    "invalid_request",
                    "max_age must be a whole number of seconds".into(),
                ))
            }
        },
    };
    let login_after = match (prompts.contains(&"login").then_some(now), max_age) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    Ok(Pending {
        client_id: client.client_id.clone(),
        redirect_uri: params.redirect_uri.clone().unwrap_or_default(),
        scope: join_scopes(&scopes),
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge: challenge.map(String::from),
        login_after,
        prompt_consent: prompts.contains(&"consent"),
        browser_session: None,
        auth_time: None,
        method: None,
        second_factor: None,
    })
}

fn prompt_has(params: &AuthorizeParams, value: &str) -> bool {
    params
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|v| v == value))
}

/// Signed in recently enough, and consented to these scopes before.
async fn ready_for_code(
    p: &Provider<'_>,
    pending: &Pending,
    browser: &Browser,
) -> Result<bool, OidcError> {
    if pending.prompt_consent || !signed_in_after(p, browser, pending.login_after).await? {
        return Ok(false);
    }
    let consented = oauth_grants::consent(p.sessions.db, browser.user_id, &pending.client_id)
        .await?
        .unwrap_or_default();
    Ok(pending
        .scope
        .split(' ')
        .all(|s| consented.iter().any(|c| c == s)))
}

async fn signed_in_after(
    p: &Provider<'_>,
    browser: &Browser,
    after: Option<Millis>,
) -> Result<bool, OidcError> {
    let Some(after) = after else {
        return Ok(true);
    };
    let signed_in = store::sessions::signed_in_at(p.sessions.db, &browser.session_id).await?;
    Ok(signed_in.is_some_and(|at| at >= after))
}

/// What the consent page shows.
pub struct RequestView {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub sign_in_required: bool,
    /// The signed-in user allowed these scopes before (and no new consent was asked for):
    /// the page need not ask again. The authorization endpoint cannot always tell, since a
    /// browser arriving from another site does not send our SameSite=Strict cookies there.
    pub already_allowed: bool,
}

async fn find_request(
    p: &Provider<'_>,
    token: &str,
) -> Result<(oauth_grants::PendingRecord, Pending, ClientRecord), OidcError> {
    let now = p.sessions.clock.now_ms();
    let record = oauth_grants::find(p.sessions.db, Kind::Request, &hash(token))
        .await?
        .filter(|r| r.used_at.is_none() && now < r.expires_at)
        .ok_or(OidcError::UnknownRequest)?;
    let pending: Pending =
        serde_json::from_str(&record.request).map_err(|_| OidcError::UnknownRequest)?;
    let client = oauth_clients::find(p.sessions.db, &record.client_id)
        .await?
        .ok_or(OidcError::UnknownRequest)?;
    Ok((record, pending, client))
}

pub async fn view_request(
    p: &Provider<'_>,
    token: &str,
    browser: Option<&Browser>,
) -> Result<RequestView, OidcError> {
    let (_, pending, client) = find_request(p, token).await?;
    let fresh = match browser {
        Some(b) => signed_in_after(p, b, pending.login_after).await?,
        None => pending.login_after.is_none(),
    };
    let already_allowed = match browser {
        Some(b) => ready_for_code(p, &pending, b).await?,
        None => false,
    };
    Ok(RequestView {
        already_allowed,
        client_id: client.client_id,
        client_name: client.name,
        scopes: pending.scope.split(' ').map(String::from).collect(),
        sign_in_required: !fresh,
    })
}

/// The user's answer on the consent page: where the browser goes next (the client, with a
/// code or `access_denied`). The request is spent either way.
pub async fn decide(
    p: &Provider<'_>,
    token: &str,
    browser: &Browser,
    approve: bool,
    from: Client<'_>,
) -> Result<String, OidcError> {
    let (record, pending, client) = find_request(p, token).await?;
    if !signed_in_after(p, browser, pending.login_after).await? {
        return Err(OidcError::SignInAgain);
    }
    if !oauth_grants::spend(p.sessions.db, record.id, p.sessions.clock.now_ms()).await? {
        return Err(OidcError::UnknownRequest);
    }
    // The client could have lost this redirect URI since the request was made.
    if !client.redirect_uris.contains(&pending.redirect_uri) {
        return Err(OidcError::NoRedirect(
            "redirect_uri is no longer registered for this client".into(),
        ));
    }
    let back = Back {
        redirect_uri: &pending.redirect_uri,
        state: pending.state.as_deref(),
        issuer: p.issuer,
    };
    if !approve {
        return Ok(back.error("access_denied", "the user declined"));
    }
    oauth_grants::remember_consent(
        p.sessions.db,
        browser.user_id,
        &client.client_id,
        &pending.scope,
        p.sessions.clock.now_ms(),
    )
    .await?;
    let user = Some(browser.user_id);
    let entry = from.entry(user, user, None).for_client(&client.client_id);
    audit::record(
        p.sessions.db,
        p.sessions.clock,
        Event::ConsentGranted,
        true,
        &entry,
    )
    .await;
    let redirect_uri = pending.redirect_uri.clone();
    let state = pending.state.clone();
    let code = issue_code(p, pending, browser).await?;
    Ok(Back {
        redirect_uri: &redirect_uri,
        state: state.as_deref(),
        issuer: p.issuer,
    }
    .code(&code))
}

async fn issue_code(
    p: &Provider<'_>,
    mut pending: Pending,
    browser: &Browser,
) -> Result<String, OidcError> {
    let origin = store::sessions::origin(p.sessions.db, &browser.session_id)
        .await?
        .ok_or_else(|| OidcError::SignInAgain)?;
    pending.browser_session = Some(browser.session_id.clone());
    pending.auth_time = Some(origin.signed_in_at / 1000);
    pending.method = Some(origin.method.name().to_string());
    pending.second_factor = origin.second_factor.map(|f| f.name().to_string());
    let code = random_token();
    let now = p.sessions.clock.now_ms();
    oauth_grants::create(
        p.sessions.db,
        NewPending {
            kind: Kind::Code,
            token_hash: &hash(&code),
            client_id: &pending.client_id,
            user_id: Some(browser.user_id),
            request: &serde_json::to_string(&pending).map_err(anyhow::Error::from)?,
            expires_at: now + CODE_TTL_MS,
        },
        now,
    )
    .await?;
    Ok(code)
}

/// Builds the redirects back to a client (RFC 6749 §4.1.2, RFC 9207's `iss`).
struct Back<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    issuer: &'a str,
}

impl Back<'_> {
    fn code(&self, code: &str) -> String {
        self.with(&[("code", code)])
    }

    fn error(&self, error: &str, description: &str) -> String {
        self.with(&[("error", error), ("error_description", description)])
    }

    fn with(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = match url::Url::parse(self.redirect_uri) {
            Ok(url) => url,
            Err(_) => return self.redirect_uri.to_string(),
        };
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in pairs {
                query.append_pair(k, v);
            }
            if let Some(state) = self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", self.issuer);
        }
        url.to_string()
    }
}

/// How the client proved who it is at the token endpoint.
pub struct ClientAuth {
    pub client_id: Option<String>,
    pub secret: Option<String>,
}

/// The client behind `auth`: a confidential one by its secret, a public one by its id.
pub async fn authenticate_client(
    p: &Provider<'_>,
    auth: &ClientAuth,
) -> Result<ClientRecord, OidcError> {
    let invalid = || token_error("invalid_client", "client authentication failed");
    let client_id = auth.client_id.as_deref().ok_or_else(invalid)?;
    let client = oauth_clients::find(p.sessions.db, client_id)
        .await?
        .ok_or_else(invalid)?;
    match (&auth.secret, client.public) {
        (Some(secret), false) if secret_matches(&client, secret) => Ok(client),
        (None, true) => Ok(client),
        _ => Err(invalid()),
    }
}

/// The token endpoint's form, as given.
#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

pub async fn token(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
    from: Client<'_>,
) -> Result<TokenResponse, OidcError> {
    match params.grant_type.as_deref() {
        Some("authorization_code") => exchange_code(p, client, params, from).await,
        Some("refresh_token") => refresh(p, client, params).await,
        Some("client_credentials") => client_credentials(p, client, params),
        None => Err(token_error("invalid_request", "grant_type is missing")),
        Some(_) => Err(token_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code, refresh_token or client_credentials",
        )),
    }
}

async fn exchange_code(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
    from: Client<'_>,
) -> Result<TokenResponse, OidcError> {
    let invalid = |why: &str| token_error("invalid_grant", why);
    let code = params
        .code
        .as_deref()
        .ok_or_else(|| token_error("invalid_request", "code is missing"))?;
    let db = p.sessions.db;
    let now = p.sessions.clock.now_ms();
    let record = oauth_grants::find(db, Kind::Code, &hash(code))
        .await?
        .ok_or_else(|| invalid("unknown code"))?;
    if record.client_id != client.client_id {
        return Err(invalid("the code was issued to another client"));
    }
    if record.used_at.is_some() || !oauth_grants::spend(db, record.id, now).await? {
        // RFC 6749 §4.1.2: a code used twice revokes what the first use was given.
        if let Some(session) = &record.grant_session {
            sessions::end(&p.sessions, session).await?;
        }
        let entry = from
            .entry(None, record.user_id, None)
            .for_client(&client.client_id);
        audit::record(db, p.sessions.clock, Event::CodeReuse, false, &entry).await;
        return Err(invalid("the code was already used"));
    }
    if now >= record.expires_at {
        return Err(invalid("the code has expired"));
    }
    let pending: Pending =
        serde_json::from_str(&record.request).map_err(|_| invalid("unknown code"))?;
    if params.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str()) {
        return Err(invalid(
            "redirect_uri differs from the authorization request's",
        ));
    }
    match (&pending.code_challenge, params.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if oauth::pkce_matches(verifier, challenge) => {}
        (Some(_), _) => return Err(invalid("code_verifier does not match the code_challenge")),
        // A verifier for a request made without a challenge is a downgrade attempt.
        (None, Some(_)) => return Err(invalid("the authorization request had no code_challenge")),
        (None, None) => {}
    }
    let user_id = record.user_id.ok_or_else(|| invalid("unknown code"))?;
    let user = store::users::find_by_id(db, user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| invalid("the account is not active"))?;
    let method = SigninMethod::from_stored(pending.method.as_deref());
    let issued = sessions::open_for_client(
        &p.sessions,
        user.id,
        method,
        from.user_agent,
        from.ip_text,
        ClientGrant {
            client_id: &client.client_id,
            scope: &pending.scope,
        },
    )
    .await?;
    oauth_grants::set_grant_session(db, record.id, &issued.session_id).await?;
    let entry = from
        .entry(Some(user.id), Some(user.id), Some(&user.username))
        .for_client(&client.client_id);
    audit::record(db, p.sessions.clock, Event::ClientSignin, true, &entry).await;
    let scopes: Vec<&str> = pending.scope.split(' ').collect();
    let id_token = id_token(p, &user, client, &pending, &scopes, &issued.access_token)?;
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: p.sessions.tokens.ttl_secs(),
        refresh_token: scopes
            .contains(&"offline_access")
            .then_some(issued.refresh_token),
        id_token: Some(id_token),
        scope: pending.scope,
    })
}

/// The ID token's claims (OpenID Connect Core §2, §5.1).
#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: String,
    aud: &'a str,
    azp: &'a str,
    iat: i64,
    exp: i64,
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    amr: Vec<&'static str>,
    acr: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    at_hash: String,
    #[serde(flatten)]
    profile: serde_json::Map<String, serde_json::Value>,
}

fn id_token(
    p: &Provider<'_>,
    user: &store::users::UserRecord,
    client: &ClientRecord,
    pending: &Pending,
    scopes: &[&str],
    access_token: &str,
) -> Result<String, OidcError> {
    let now = p.sessions.clock.now_secs();
    let (amr, acr) = authentication(
        SigninMethod::from_stored(pending.method.as_deref()),
        SecondFactor::from_stored(pending.second_factor.as_deref()),
    );
    let profile = user_claims(user, scopes);
    p.sessions
        .tokens
        .sign_with("JWT", clients::id_token_alg(client), now, |alg| IdClaims {
            iss: p.issuer,
            sub: user.id.to_string(),
            aud: &client.client_id,
            azp: &client.client_id,
            iat: now,
            exp: now + p.sessions.tokens.ttl_secs(),
            auth_time: pending.auth_time,
            nonce: pending.nonce.as_deref(),
            amr,
            acr,
            sid: pending.browser_session.as_deref(),
            at_hash: half_hash(alg, access_token),
            profile,
        })
        .map_err(|e| OidcError::Internal(e.into()))
}

/// The ID token's `amr` (RFC 8176 values) and `acr`: `"2"` for a passkey sign-in or one
/// with a second factor, `"1"` for one factor.
fn authentication(
    method: SigninMethod,
    second: Option<SecondFactor>,
) -> (Vec<&'static str>, &'static str) {
    let mut amr = match method {
        SigninMethod::Password => vec!["pwd"],
        SigninMethod::MagicLink => vec!["mail"],
        SigninMethod::Passkey => vec!["hwk", "user"],
    };
    let Some(second) = second else {
        let acr = if method == SigninMethod::Passkey {
            "2"
        } else {
            "1"
        };
        return (amr, acr);
    };
    amr.push(match second {
        SecondFactor::Totp | SecondFactor::RecoveryCode => "otp",
        SecondFactor::Passkey => "hwk",
    });
    amr.push("mfa");
    (amr, "2")
}

/// OpenID Connect Core §3.1.3.6: the left half of the access token's hash, with the hash
/// of the signing algorithm (SHA-512 for Ed25519, SHA-256 for ES256 and RS256).
fn half_hash(alg: KeyAlg, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        KeyAlg::EdDSA => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
        KeyAlg::ES256 | KeyAlg::RS256 => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// The claims the scopes let a client see (ID token and userinfo alike).
fn user_claims(
    user: &store::users::UserRecord,
    scopes: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    if scopes.contains(&"profile") {
        claims.insert("preferred_username".into(), user.username.clone().into());
        claims.insert("name".into(), user.username.clone().into());
    }
    if scopes.contains(&"email") {
        claims.insert("email".into(), user.email.clone().into());
        claims.insert(
            "email_verified".into(),
            user.email_verified_at.is_some().into(),
        );
    }
    if scopes.contains(&"roles") {
        let roles: Vec<&str> = user.roles.iter().map(Role::name).collect();
        claims.insert("roles".into(), roles.into());
    }
    claims
}

async fn refresh(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
) -> Result<TokenResponse, OidcError> {
    let presented = params
        .refresh_token
        .as_deref()
        .ok_or_else(|| token_error("invalid_request", "refresh_token is missing"))?;
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one; checked before
    // anything changes, since an error must leave the grant as it was (§5.2).
    let narrowed = match params.scope.as_deref() {
        None => None,
        Some(asked) => {
            let asked = parse_scopes(asked).map_err(|e| token_error("invalid_scope", e))?;
            let hash = crate::auth::refresh_token::hash(presented);
            let granted = store::sessions::find_refresh(p.sessions.db, &hash)
                .await?
                .filter(|r| r.client_id.as_deref() == Some(client.client_id.as_str()))
                .and_then(|r| r.scope)
                .ok_or_else(|| token_error("invalid_grant", "unknown refresh token"))?;
            let granted: Vec<&str> = granted.split(' ').collect();
            if asked.iter().any(|s| !granted.contains(s)) {
                return Err(token_error("invalid_scope", "more scope than was granted"));
            }
            // In the grant's order, so that the token's scope reads as the grant's does.
            Some(join_scopes(
                &granted
                    .into_iter()
                    .filter(|g| asked.contains(g))
                    .collect::<Vec<_>>(),
            ))
        }
    };
    let issued = sessions::refresh_narrowed(
        &p.sessions,
        presented,
        Some(&client.client_id),
        narrowed.as_deref(),
    )
    .await
    .map_err(|e| match e {
        RefreshError::Internal(e) => OidcError::Internal(e),
        RefreshError::Reused { .. } => token_error(
            "invalid_grant",
            "the refresh token was used before; the grant is ended",
        ),
        RefreshError::Expired => token_error("invalid_grant", "the refresh token has expired"),
        RefreshError::Invalid => token_error("invalid_grant", "unknown refresh token"),
    })?;
    let claims = p
        .sessions
        .tokens
        .verify_oauth(&issued.access_token, p.sessions.clock.now_secs())
        .map_err(|_| OidcError::Internal(anyhow::anyhow!("a token just issued does not verify")))?;
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: p.sessions.tokens.ttl_secs(),
        refresh_token: Some(issued.refresh_token),
        id_token: None,
        scope: claims.scope,
    })
}

/// A service's own token: no user, no session, no refresh token.
fn client_credentials(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
) -> Result<TokenResponse, OidcError> {
    if client.public {
        return Err(token_error(
            "unauthorized_client",
            "a public client cannot use client_credentials",
        ));
    }
    // Scopes about a user mean nothing here; a service gets what it asks among the rest.
    let asked = parse_scopes(params.scope.as_deref().unwrap_or_default())
        .map_err(|e| token_error("invalid_scope", e))?;
    if let Some(s) = asked.iter().find(|s| {
        matches!(**s, "openid" | "offline_access") || !client.scopes.iter().any(|c| c == *s)
    }) {
        return Err(token_error(
            "invalid_scope",
            format!("{s} is not available to client_credentials"),
        ));
    }
    let now = p.sessions.clock.now_secs();
    let scope = join_scopes(&asked);
    let (access_token, _) = p
        .sessions
        .tokens
        .issue_oauth(
            &client.client_id,
            &client.client_id,
            &scope,
            None,
            now,
            i64::MAX,
        )
        .map_err(|e| OidcError::Internal(e.into()))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: p.sessions.tokens.ttl_secs(),
        refresh_token: None,
        id_token: None,
        scope,
    })
}

/// A client's access token whose session still lives, and its user.
pub async fn live_access(
    p: &Provider<'_>,
    token: &str,
) -> Result<(OAuthClaims, Option<UserState>), TokenError> {
    let claims = p
        .sessions
        .tokens
        .verify_oauth(token, p.sessions.clock.now_secs())?;
    let db = p.sessions.db;
    let Some(sid) = &claims.sid else {
        // A service's own token: no session to end, so a revocation is kept by its jti;
        // and its client must still be registered.
        let revoked = store::revoked_tokens::is_revoked(db, &claims.jti)
            .await
            .map_err(|_| TokenError::Invalid)?;
        let registered = oauth_clients::find(db, &claims.client_id)
            .await
            .map_err(|_| TokenError::Invalid)?
            .is_some();
        if revoked || !registered {
            return Err(TokenError::Invalid);
        }
        return Ok((claims, None));
    };
    let now = p.sessions.clock.now_ms();
    let session = p
        .cache
        .session(sid, store::sessions::state(db, sid))
        .await
        .map_err(|_| TokenError::Invalid)?;
    let user_id: i64 = claims.sub.parse().map_err(|_| TokenError::Invalid)?;
    match session {
        Some(s) if !s.revoked && now < s.expires_at && s.user_id == user_id => {}
        _ => return Err(TokenError::Invalid),
    }
    let user = p
        .cache
        .user(user_id, store::users::auth_state(db, user_id))
        .await
        .map_err(|_| TokenError::Invalid)?
        .filter(|u| !u.disabled)
        .ok_or(TokenError::Invalid)?;
    Ok((claims, Some(user)))
}

/// `/userinfo`: the claims the token's scopes allow.
pub async fn userinfo(
    p: &Provider<'_>,
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, TokenError> {
    let (claims, user) = live_access(p, token).await?;
    let user_id = user
        .and(claims.sub.parse().ok())
        .ok_or(TokenError::Invalid)?;
    // The profile's fields, unlike the roles, are not cached: read them as they are now.
    let user = store::users::find_by_id(p.sessions.db, user_id)
        .await
        .map_err(|_| TokenError::Invalid)?
        .ok_or(TokenError::Invalid)?;
    let scopes: Vec<&str> = claims.scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return Err(TokenError::Invalid);
    }
    let mut info = user_claims(&user, &scopes);
    info.insert("sub".into(), claims.sub.into());
    Ok(info)
}

/// RFC 7009: ends the grant a refresh or access token of this client belongs to. Unknown
/// tokens and other clients' are ignored, as the RFC asks.
pub async fn revoke(p: &Provider<'_>, client: &ClientRecord, token: &str) -> Result<(), OidcError> {
    let db = p.sessions.db;
    if let Some(record) =
        store::sessions::find_refresh(db, &crate::auth::refresh_token::hash(token)).await?
    {
        if record.client_id.as_deref() == Some(client.client_id.as_str()) {
            sessions::end(&p.sessions, &record.session_id).await?;
        }
        return Ok(());
    }
    let now = p.sessions.clock.now_secs();
    let Some(claims) = p.sessions.tokens.verify_oauth(token, now).ok() else {
        return Ok(());
    };
    if claims.client_id != client.client_id {
        return Ok(());
    }
    match &claims.sid {
        Some(sid) => {
            sessions::end(&p.sessions, sid).await?;
        }
        // A service's own token (client_credentials) has no session: remembered by its
        // jti until it expires, which introspection checks on every node.
        None => {
            store::revoked_tokens::revoke(
                p.sessions.db,
                &claims.jti,
                &claims.client_id,
                claims.exp * 1000,
                p.sessions.clock.now_ms(),
            )
            .await?;
        }
    }
    Ok(())
}

/// RFC 7662: what a token is, for a confidential client (a resource server).
pub async fn introspect(
    p: &Provider<'_>,
    client: &ClientRecord,
    token: &str,
) -> Result<serde_json::Value, OidcError> {
    if client.public {
        return Err(token_error(
            "unauthorized_client",
            "public clients cannot introspect",
        ));
    }
    let inactive = serde_json::json!({"active": false});
    let Ok((claims, user)) = live_access(p, token).await else {
        return Ok(inactive);
    };
    let mut answer = serde_json::json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
        "token_type": "Bearer",
    });
    if let Some(user) = user {
        answer["username"] = user.username.as_ref().into();
    }
    Ok(answer)
}

/// RP-initiated logout, checked: the ID token hint names the client (whose registered
/// post-logout URI may be redirected to), the user and the session it signed in.
pub struct LogoutRequest {
    pub client_name: String,
    /// The hint's user: a browser signed in as them may end the session.
    pub user_id: Option<i64>,
    /// The session the hint names.
    pub sid: Option<String>,
    pub redirect: Option<String>,
}

/// Checks a logout request. Ends nothing: who may end what is the caller's to decide (a
/// browser that brings the session's own cookies, or one whose user clicked).
pub async fn logout_request(
    p: &Provider<'_>,
    id_token_hint: &str,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Result<LogoutRequest, OidcError> {
    let bad = || OidcError::NoRedirect("id_token_hint is not an ID token of ours".into());
    let hint: serde_json::Value = p
        .sessions
        .tokens
        .check_ours(id_token_hint, "JWT")
        .map_err(|_| bad())?;
    if hint["iss"].as_str() != Some(p.issuer) {
        return Err(bad());
    }
    let client_id = hint["aud"].as_str().ok_or_else(bad)?;
    let client = oauth_clients::find(p.sessions.db, client_id)
        .await?
        .ok_or_else(bad)?;
    let redirect = match post_logout_redirect_uri {
        None => None,
        Some(uri) if client.post_logout_uris.iter().any(|u| u == uri) => {
            let mut url = url::Url::parse(uri).map_err(|_| bad())?;
            if let Some(state) = state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.to_string())
        }
        Some(_) => {
            return Err(OidcError::NoRedirect(
                "post_logout_redirect_uri is not one registered for this client".into(),
            ))
        }
    };
    Ok(LogoutRequest {
        client_name: client.name,
        user_id: hint["sub"].as_str().and_then(|s| s.parse().ok()),
        sid: hint["sid"].as_str().map(String::from),
        redirect,
    })
}

/// Ends the session the hint names, if it is still its user's. Whether it was live.
pub async fn end_hinted_session(
    p: &Provider<'_>,
    request: &LogoutRequest,
) -> Result<bool, OidcError> {
    let (Some(sid), Some(user_id)) = (&request.sid, request.user_id) else {
        return Ok(false);
    };
    let state = store::sessions::state(p.sessions.db, sid).await?;
    if state.is_some_and(|s| s.user_id == user_id) {
        return Ok(sessions::end(&p.sessions, sid).await?);
    }
    Ok(false)
}

pub async fn consents(p: &Provider<'_>, user_id: i64) -> Result<Vec<ConsentRecord>, OidcError> {
    Ok(oauth_grants::consents_of(p.sessions.db, user_id).await?)
}

/// Takes back a consent and ends the client's grants for the user; false if there was none.
pub async fn revoke_consent(
    p: &Provider<'_>,
    user_id: i64,
    client_id: &str,
    from: Client<'_>,
) -> Result<bool, OidcError> {
    let db = p.sessions.db;
    let had = oauth_grants::forget_consent(db, user_id, client_id).await?;
    if had {
        let entry = from
            .entry(Some(user_id), Some(user_id), None)
            .for_client(client_id);
        audit::record(db, p.sessions.clock, Event::ConsentRevoked, true, &entry).await;
    }
    let ended =
        store::sessions::revoke_client_grants(db, user_id, client_id, p.sessions.clock.now_ms())
            .await?;
    for session in &ended {
        p.sessions.notify.session_ended(session).await;
    }
    Ok(had || !ended.is_empty())
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_and_acr_say_how_many_factors_signed_in() {
        use SecondFactor as F;
        use SigninMethod as M;
        let cases: [(M, Option<F>, &[&str], &str); 7] = [
            (M::Password, None, &["pwd"], "1"),
            (M::MagicLink, None, &["mail"], "1"),
            (M::Passkey, None, &["hwk", "user"], "2"),
            (M::Password, Some(F::Totp), &["pwd", "otp", "mfa"], "2"),
            (
                M::Password,
                Some(F::RecoveryCode),
                &["pwd", "otp", "mfa"],
                "2",
            ),
            (M::Password, Some(F::Passkey), &["pwd", "hwk", "mfa"], "2"),
            (M::MagicLink, Some(F::Totp), &["mail", "otp", "mfa"], "2"),
        ];
        for (method, second, amr, acr) in cases {
            assert_eq!(
                authentication(method, second),
                (amr.to_vec(), acr),
                "{method:?} {second:?}"
            );
        }
    }
}
