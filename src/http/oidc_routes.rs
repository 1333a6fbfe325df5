//! The OpenID Connect provider over HTTP (docs/API.md §5): discovery and keys, the
//! authorization endpoint and the consent page's API, the token endpoint, userinfo,
//! revocation, introspection, and the user's consents (logout is in `logout_routes`). The protocol endpoints
//! answer in OAuth's own error shape (`{"error", "error_description"}`, RFC 6749 §5.2);
//! the web app's routes in ours.
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::extractors::{AuthUser, MaybeAuthUser};
use crate::http::json::ApiJson;
use crate::service::oidc::{
    self, AuthorizeParams, Browser, ClientAuth, Next, OidcError, Provider, TokenParams,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(discovery))
        .routes(routes!(jwks))
        .routes(routes!(authorize, authorize_post))
        .routes(routes!(view_request, decide))
        .routes(routes!(token))
        .routes(routes!(userinfo_get, userinfo_post))
        .routes(routes!(revoke))
        .routes(routes!(introspect))
        .routes(routes!(list_consents))
        .routes(routes!(revoke_consent))
}

pub const AUTHORIZE: &str = "/api/oauth/authorize";
pub const TOKEN: &str = "/api/oauth/token";
pub const USERINFO: &str = "/api/oauth/userinfo";
pub const REVOKE: &str = "/api/oauth/revoke";
pub const INTROSPECT: &str = "/api/oauth/introspect";
pub const LOGOUT: &str = "/api/oauth/logout";
pub const JWKS: &str = "/.well-known/jwks.json";
pub const DISCOVERY: &str = "/.well-known/openid-configuration";

/// What a client running in a browser (a single-page app with a public client) calls by
/// `fetch` from its own origin. None of them reads a cookie, so any origin may call them,
/// without credentials (`http::router::cors_for`); the rest of the provider is navigation
/// (authorize, logout), the web app's own calls, or for servers (introspection).
pub const OPEN_TO_ANY_ORIGIN: [&str; 5] = [DISCOVERY, JWKS, TOKEN, USERINFO, REVOKE];

/// The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414).
#[utoipa::path(get, path = DISCOVERY, tag = "openid",
    responses((status = 200, description = "the provider's metadata: issuer (PORTCULLIS_PUBLIC_URL), endpoints, algorithms, scopes, claims")))]
async fn discovery(State(state): State<AppState>) -> Response {
    let issuer = state.settings.public_base();
    // RS256 first: OIDC Discovery §3 requires it, and some relying parties take the first.
    let algs: Vec<&str> = state
        .tokens
        .ring()
        .algs()
        .into_iter()
        .map(|alg| alg.name())
        .collect();
    let document = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE}"),
        "token_endpoint": format!("{issuer}{TOKEN}"),
        "userinfo_endpoint": format!("{issuer}{USERINFO}"),
        "jwks_uri": format!("{issuer}{JWKS}"),
        "revocation_endpoint": format!("{issuer}{REVOKE}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT}"),
        "end_session_endpoint": format!("{issuer}{LOGOUT}"),
        "scopes_supported": crate::domain::oauth::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr",
            "sid", "azp", "at_hash", "preferred_username", "name", "email", "email_verified", "roles"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    public_document(document.to_string(), 300)
}

/// The public keys tokens are signed with (RFC 7517), the ones about to sign included.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "openid",
    responses((status = 200, description = "a JWK Set: every key that signs or signed a live token, with kid, alg and use")))]
async fn jwks(State(state): State<AppState>) -> Response {
    // Short caching: a rotated key is published a minute before it signs.
    public_document(state.tokens.ring().jwks().to_string(), 60)
}

/// JSON anyone may read, from any origin, for a while.
fn public_document(body: String, max_age: u32) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn browser(user: &MaybeAuthUser) -> Option<Browser> {
    user.0.as_ref().map(|u| Browser {
        user_id: u.id,
        session_id: u.session_id.clone(),
    })
}

/// The authorization endpoint (RFC 6749 §4.1.1 with PKCE): 302 to the client with a code or
/// an error, or to the web app's consent page; 400 here when the client or redirect URI is
/// wrong, since nothing may then be redirected to.
#[utoipa::path(get, path = "/api/oauth/authorize", tag = "openid",
    params(("client_id" = String, Query), ("redirect_uri" = String, Query), ("response_type" = String, Query, description = "code"),
           ("scope" = String, Query, description = "space-separated: openid, and any of profile email roles offline_access"),
           ("state" = Option<String>, Query), ("nonce" = Option<String>, Query),
           ("code_challenge" = Option<String>, Query, description = "S256; required for public clients"),
           ("code_challenge_method" = Option<String>, Query, description = "S256"),
           ("prompt" = Option<String>, Query, description = "none, login or consent"),
           ("max_age" = Option<u32>, Query, description = "seconds: an older sign-in must be made again (0: always)")),
    responses((status = 302, description = "to the redirect URI with `code`, `state` and `iss`, or with `error` (RFC 6749 §4.1.2.1); or to the consent page `/oauth/consent?request=…`"),
              (status = 400, description = "unknown client, or a redirect URI not registered for it: not redirected", body = ErrorBody),
              (status = 429, description = "this client left more requests waiting for consent than the server keeps (`PORTCULLIS_ANONYMOUS_STARTS_PER_MINUTE`); see Retry-After", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn authorize(
    State(state): State<AppState>,
    query: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
    user: MaybeAuthUser,
    origin: RequestOrigin,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    authorize_with(&state, params, &user, &origin).await
}

/// The authorization endpoint by POST (OIDC Core §3.1.2.1: the same parameters, form-encoded,
/// the same rules).
#[utoipa::path(post, path = "/api/oauth/authorize", tag = "openid",
    request_body(content = AuthorizeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 302, description = "as the GET"),
              (status = 400, description = "as the GET", body = ErrorBody),
              (status = 415, body = ErrorBody),
              (status = 429, description = "as the GET; see Retry-After", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn authorize_post(
    State(state): State<AppState>,
    user: MaybeAuthUser,
    origin: RequestOrigin,
    form: Result<Form<AuthorizeParams>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(params) = form.map_err(page_form_error)?;
    authorize_with(&state, params, &user, &origin).await
}

/// The form of `POST /api/oauth/authorize`: the parameters of the GET.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads `AuthorizeParams`
pub struct AuthorizeForm {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    max_age: Option<u32>,
}

async fn authorize_with(
    state: &AppState,
    params: AuthorizeParams,
    user: &MaybeAuthUser,
    origin: &RequestOrigin,
) -> Result<Response, ApiError> {
    let p = state.provider();
    match oidc::authorize(&p, params, browser(user), origin.client().ip).await {
        Ok(Next::ToClient(url)) => Ok(found(&url)),
        Ok(Next::ToConsent(token)) => Ok(found(&format!("{}?request={token}", oidc::CONSENT_PAGE))),
        Err(e) => Err(page_error(e)),
    }
}

/// A form that does not parse: the wrong content type is a 415, anything else a 400.
pub(crate) fn page_form_error(e: FormRejection) -> ApiError {
    match e {
        FormRejection::InvalidFormContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the form as application/x-www-form-urlencoded.",
        ),
        other => ApiError::bad_request(other.body_text()),
    }
}

pub(crate) fn found(url: &str) -> Response {
    Redirect::to(url)
        .into_response()
        .with_status(StatusCode::FOUND)
}

trait WithStatus {
    fn with_status(self, status: StatusCode) -> Self;
}

impl WithStatus for Response {
    fn with_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

/// Errors of the routes the browser and the web app see, in our shape.
pub(crate) fn page_error(e: OidcError) -> ApiError {
    match e {
        OidcError::NoRedirect(why) => {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::OauthInvalidRequest, why)
        }
        OidcError::TooManyRequests(retry_after) => ApiError::too_many_requests(retry_after),
        OidcError::UnknownRequest => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::OauthRequestUnknown,
            "This sign-in request has expired or was already used.",
        ),
        OidcError::SignInAgain => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::ReauthenticationRequired,
            "The application asks you to sign in again.",
        ),
        OidcError::Token { description, .. } => ApiError::bad_request(description),
        OidcError::Internal(e) => ApiError::failure(&e),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSummary {
    client_id: String,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestBody {
    client: ClientSummary,
    /// What the client asks for: `openid`, and any of `profile email roles offline_access`.
    scopes: Vec<String>,
    /// The client asked for a fresh sign-in (`prompt=login`): sign out and in again first.
    sign_in_required: bool,
    /// The signed-in user allowed these scopes to this client before: the page may answer
    /// `{"approve": true}` without asking (a browser coming from another site brings no
    /// cookies to the authorization endpoint, which then cannot tell).
    already_allowed: bool,
}

/// What the consent page shows: who asks, for what.
#[utoipa::path(get, path = "/api/oauth/requests/{request}", tag = "openid",
    params(("request" = String, Path, description = "the token the authorization endpoint put in the consent page's URL")),
    responses((status = 200, body = RequestBody),
              (status = 404, description = "expired (10 minutes) or already answered: `oauth_request_unknown`", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn view_request(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    user: MaybeAuthUser,
) -> Result<ApiJson<RequestBody>, ApiError> {
    let Path(token) = path.map_err(|_| page_error(OidcError::UnknownRequest))?;
    let p = state.provider();
    let view = oidc::view_request(&p, &token, browser(&user).as_ref())
        .await
        .map_err(page_error)?;
    Ok(ApiJson(RequestBody {
        client: ClientSummary {
            client_id: view.client_id,
            name: view.client_name,
        },
        scopes: view.scopes,
        sign_in_required: view.sign_in_required,
        already_allowed: view.already_allowed,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// true: allow (the consent is remembered for this client and these scopes).
    approve: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionBody {
    /// Where the browser goes now: the client's redirect URI with a code, or with
    /// `error=access_denied`.
    redirect_to: String,
}

/// The signed-in user's answer to a request.
#[utoipa::path(post, path = "/api/oauth/requests/{request}", tag = "openid",
    params(("request" = String, Path)), request_body = DecisionRequest,
    responses((status = 200, body = DecisionBody),
              (status = 400, description = "a malformed body, or the redirect URI was unregistered meanwhile", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "`reauthentication_required`: the client asked for a sign-in newer than this session, or a cross-site request (`csrf`)", body = ErrorBody),
              (status = 404, description = "`oauth_request_unknown`", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn decide(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    user: AuthUser,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> Result<ApiJson<DecisionBody>, ApiError> {
    let Path(token) = path.map_err(|_| page_error(OidcError::UnknownRequest))?;
    let p = state.provider();
    let browser = Browser {
        user_id: user.id,
        session_id: user.session_id.clone(),
    };
    let redirect_to = oidc::decide(&p, &token, &browser, body.approve, origin.client())
        .await
        .map_err(page_error)?;
    Ok(ApiJson(DecisionBody { redirect_to }))
}

/// The error answer of the OAuth endpoints (RFC 6749 §5.2, RFC 6750 §3).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_token`, `server_error`,
    /// `temporarily_unavailable`.
    error: String,
    error_description: Option<String>,
}

/// OAuth's error answer (RFC 6749 §5.2).
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Set when the client tried HTTP Basic: the 401 then names the scheme.
    basic: bool,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            error,
            description: description.into(),
            basic: false,
        }
    }
}

impl From<OidcError> for OAuthError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Token { code, description } => OAuthError::new(code, description),
            OidcError::Internal(e) => {
                let api = ApiError::failure(&e);
                if api.status == StatusCode::SERVICE_UNAVAILABLE {
                    OAuthError::new("temporarily_unavailable", "try again in a moment")
                } else {
                    OAuthError::new("server_error", "internal error")
                }
            }
            other => OAuthError::new("invalid_request", other.to_string()),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error, "error_description": self.description});
        let mut response = (self.status, ApiJson(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let scheme = if self.basic {
                r#"Basic realm="portcullis""#
            } else {
                r#"Bearer error="invalid_client""#
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(scheme));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1));
        }
        response
    }
}

/// The OAuth endpoints' answer to a request the server gave up on (`http::middleware::
/// deadline`): RFC 6749's `temporarily_unavailable`, where their clients look for it.
pub fn temporarily_unavailable() -> Response {
    OAuthError::new("temporarily_unavailable", "try again in a moment").into_response()
}

/// Whether `path` answers with OAuth's error shape rather than the API's.
pub fn answers_oauth_errors(path: &str) -> bool {
    [TOKEN, USERINFO, REVOKE, INTROSPECT].contains(&path)
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, each part form-encoded) or the
/// form's `client_id` and `client_secret`, never both.
fn client_auth(
    headers: &HeaderMap,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<(ClientAuth, bool), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let Some(encoded) = basic else {
        return Ok((
            ClientAuth {
                client_id: form_id,
                secret: form_secret,
            },
            false,
        ));
    };
    if form_secret.is_some() {
        return Err(OAuthError::new(
            "invalid_request",
            "use one way of client authentication",
        ));
    }
    let malformed = || {
        let mut e = OAuthError::new("invalid_client", "malformed Basic credentials");
        e.basic = true;
        e
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| malformed())
    };
    let id = decode(id)?;
    if form_id.as_deref().is_some_and(|f| f != id) {
        return Err(OAuthError::new(
            "invalid_request",
            "client_id differs from the Basic credentials'",
        ));
    }
    Ok((
        ClientAuth {
            client_id: Some(id),
            secret: Some(decode(secret)?),
        },
        true,
    ))
}

async fn authenticated_client(
    p: &Provider<'_>,
    headers: &HeaderMap,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<crate::store::oauth_clients::ClientRecord, OAuthError> {
    let (auth, basic) = client_auth(headers, form_id, form_secret)?;
    oidc::authenticate_client(p, &auth).await.map_err(|e| {
        let mut e = OAuthError::from(e);
        e.basic = basic;
        e
    })
}

fn form_error(e: FormRejection) -> OAuthError {
    OAuthError::new(
        "invalid_request",
        format!("send application/x-www-form-urlencoded: {}", e.body_text()),
    )
}

/// The token endpoint (RFC 6749 §3.2): `authorization_code` (with the PKCE verifier),
/// `refresh_token` (rotated; a reused one ends the grant), `client_credentials`.
#[utoipa::path(post, path = "/api/oauth/token", tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "grant_type, and code + redirect_uri + code_verifier, or refresh_token, or scope; client_id/client_secret unless sent by HTTP Basic"),
    responses((status = 200, description = "access_token (a JWT, typ at+jwt), token_type Bearer, expires_in, scope, id_token (code grant), refresh_token (with offline_access, and on refresh)"),
              (status = 400, description = "`{error, error_description}`: invalid_request, invalid_grant, unsupported_grant_type, invalid_scope, unauthorized_client", body = OAuthErrorBody),
              (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 503, description = "temporarily_unavailable; see Retry-After", body = OAuthErrorBody)))]
async fn token(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(mut params) = form.map_err(form_error)?;
    let p = state.provider();
    let client = authenticated_client(
        &p,
        &headers,
        params.client_id.take(),
        params.client_secret.take(),
    )
    .await?;
    let answer = oidc::token(&p, &client, params, origin.client()).await?;
    Ok((
        [(header::PRAGMA, HeaderValue::from_static("no-cache"))],
        ApiJson(answer),
    )
        .into_response())
}

/// A client's access token from `Authorization: Bearer`, or the form's `access_token`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
}

async fn userinfo_with(state: &AppState, token: Option<String>) -> Response {
    let p = state.provider();
    let refused = |error: &'static str| {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            ApiJson(serde_json::json!({"error": error})),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&format!(r#"Bearer error="{error}""#)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    let Some(token) = token else {
        return refused("invalid_request");
    };
    match oidc::userinfo(&p, &token).await {
        Ok(info) => ApiJson(info).into_response(),
        Err(_) => refused("invalid_token"),
    }
}

/// The signed-in user's claims, as the token's scopes allow (OpenID Connect Core §5.3).
#[utoipa::path(get, path = "/api/oauth/userinfo", tag = "openid",
    responses((status = 200, description = "sub, and preferred_username + name (profile), email + email_verified (email), roles (roles)"),
              (status = 401, description = "no token, or not a live client access token with openid: WWW-Authenticate names the error", body = OAuthErrorBody)),
    security(("bearer" = [])))]
async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    userinfo_with(&state, bearer(&headers)).await
}

/// As the GET; the token may also come in the form (RFC 6750 §2.2).
#[utoipa::path(post, path = "/api/oauth/userinfo", tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "access_token, when it is not in the Authorization header"),
    responses((status = 200, description = "as GET"),
              (status = 401, description = "as GET", body = OAuthErrorBody),
              (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from_form = || {
        url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    };
    let token = bearer(&headers).or_else(from_form);
    userinfo_with(&state, token).await
}

#[derive(Deserialize)]
struct TokenForm {
    token: Option<String>,
    #[allow(dead_code)] // accepted as RFC 7009 asks; we find the token either way
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// What revocation and introspection both begin with: the calling client, authenticated,
/// and the token it asks about.
async fn client_and_token(
    p: &Provider<'_>,
    headers: &HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<(crate::store::oauth_clients::ClientRecord, String), OAuthError> {
    let Form(form) = form.map_err(form_error)?;
    let client = authenticated_client(p, headers, form.client_id, form.client_secret).await?;
    let token = form
        .token
        .ok_or_else(|| OAuthError::new("invalid_request", "token is missing"))?;
    Ok((client, token))
}

/// Token revocation (RFC 7009): ends the grant of a refresh or access token of the calling
/// client. 200 whatever the token was, as the RFC asks.
#[utoipa::path(post, path = "/api/oauth/revoke", tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "token, token_type_hint; the client's credentials"),
    responses((status = 200, description = "revoked, or nothing to revoke"),
              (status = 400, description = "invalid_request", body = OAuthErrorBody), (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody)))]
async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<StatusCode, OAuthError> {
    let p = state.provider();
    let (client, token) = client_and_token(&p, &headers, form).await?;
    oidc::revoke(&p, &client, &token).await?;
    Ok(StatusCode::OK)
}

/// Token introspection (RFC 7662), for confidential clients such as resource servers.
#[utoipa::path(post, path = "/api/oauth/introspect", tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "token; the client's credentials"),
    responses((status = 200, description = "`{active: false}`, or active with scope, client_id, sub, username, aud, iss, exp, iat, jti, token_type"),
              (status = 400, description = "invalid_request, unauthorized_client (a public client)", body = OAuthErrorBody), (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody)))]
async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, OAuthError> {
    let p = state.provider();
    let (client, token) = client_and_token(&p, &headers, form).await?;
    Ok(ApiJson(oidc::introspect(&p, &client, &token).await?).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentItem {
    client_id: String,
    name: String,
    scopes: Vec<String>,
    granted_at: String,
}

/// The applications the signed-in user let in, and with what.
#[utoipa::path(get, path = "/api/oauth/consents", tag = "openid",
    responses((status = 200, body = [ConsentItem]), (status = 401, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_consents(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<Vec<ConsentItem>>, ApiError> {
    let p = state.provider();
    let list = oidc::consents(&p, user.id).await.map_err(page_error)?;
    Ok(ApiJson(
        list.into_iter()
            .map(|c| ConsentItem {
                client_id: c.client_id,
                name: c.name,
                scopes: c.scopes,
                granted_at: rfc3339(c.created_at),
            })
            .collect(),
    ))
}

/// Takes back a consent: the application must ask again, and its sessions for this user end.
#[utoipa::path(delete, path = "/api/oauth/consents/{client_id}", tag = "openid",
    params(("client_id" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 401, body = ErrorBody),
              (status = 403, description = "a cross-site request (`csrf`)", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn revoke_consent(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    user: AuthUser,
    origin: RequestOrigin,
) -> Result<StatusCode, ApiError> {
    let Path(client_id) = path.map_err(|_| ApiError::not_found())?;
    let p = state.provider();
    if oidc::revoke_consent(&p, user.id, &client_id, origin.client())
        .await
        .map_err(page_error)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}
