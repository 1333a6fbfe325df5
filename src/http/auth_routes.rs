//! The tutorial's `/api/auth` routes: signup, signin, refreshtoken, signout (docs/API.md §1).
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::sessions::RefreshError;
use crate::config::TokenDelivery;
use crate::http::client_ip::RequestOrigin;
use crate::http::cookies;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::extractors::{presented_token, MaybeAuthUser, Presented};
use crate::http::json::ApiJson;
use crate::http::json_body::OptionalJson;
use crate::http::locale::RequestLocale;
use crate::service;
use crate::service::mfa::{Method, SecondStep};
use crate::service::signin::{self, Outcome};
use crate::service::signup::{self, NewAccount, Requester};
use crate::service::SignedIn;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(signin))
        .routes(routes!(refresh))
        .routes(routes!(signout))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// 3 to 20 of A-Z a-z 0-9 . _ -
    #[schema(
        example = "alice",
        min_length = 3,
        max_length = 20,
        pattern = "^[A-Za-z0-9._-]{3,20}$"
    )]
    pub username: String,
    #[schema(example = "alice@example.com", max_length = 254, format = Email)]
    pub email: String,
    /// 8 to 128 characters, not a common password.
    #[schema(value_type = String, min_length = 8, max_length = 128)]
    pub password: SecretString,
    /// Only a signed-in admin may ask for more than `["user"]`.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    #[schema(example = "User registered successfully!")]
    message: &'static str,
    #[schema(example = "created")]
    code: &'static str,
}

/// Creates an account with the role `user` (more only when a signed-in admin asks).
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn signup(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    MaybeAuthUser(caller): MaybeAuthUser,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<Response, ApiError> {
    let requester = Requester::Http {
        account: caller.as_ref().map(|c| (c.id, c.roles)),
        ip: &origin.ip_text,
        user_agent: origin.user_agent.as_deref(),
    };
    let account = NewAccount {
        username: &body.username,
        email: &body.email,
        password: body.password.expose_secret(),
        roles: body.roles.as_deref().unwrap_or_default(),
    };
    signup::signup(
        &state.db,
        &state.clock,
        &state.hasher,
        &state.policy,
        state.outbox_in(locale),
        requester,
        account,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(Created {
            message: "User registered successfully!",
            code: "created",
        }),
    )
        .into_response())
}

/// A browser app asks for cookie-only delivery on its own requests (`X-Token-Delivery:
/// cookie`), so no token reaches its scripts even while the server also hands tokens to
/// body clients. The header can only narrow what the server is configured to do.
pub const DELIVERY_HEADER: &str = "x-token-delivery";

fn delivery_for(state: &AppState, headers: &HeaderMap) -> TokenDelivery {
    let configured = state.settings.token_delivery;
    let asks_cookie = headers
        .get(DELIVERY_HEADER)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cookie"));
    if asks_cookie && configured == TokenDelivery::Both {
        TokenDelivery::Cookie
    } else {
        configured
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigninRequest {
    /// The username or the email.
    #[schema(example = "alice")]
    pub username: String,
    #[schema(value_type = String)]
    pub password: SecretString,
}

/// With `PORTCULLIS_TOKEN_DELIVERY=cookie` only `id`, `username`, `email` and `roles`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigninResponse {
    id: i64,
    username: String,
    email: String,
    /// Every role that holds for every client, the account's own and its groups'.
    #[schema(example = json!(["ROLE_USER"]))]
    roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
    /// Only when this sign-in enrolled a TOTP app (`POST /api/auth/mfa/totp/confirm` with
    /// an `mfaToken`): its recovery codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes: Option<Vec<String>>,
}

/// Signs in; sets the HttpOnly cookies and (unless cookie-only) returns the tokens. An
/// account with a second factor gets the second step's token instead.
#[utoipa::path(post, path = "/api/auth/signin", tag = "auth", request_body = SigninRequest,
    params(("X-Token-Delivery" = Option<String>, Header, description = "`cookie`: answer without tokens in the body (browser apps)")),
    responses((status = 200, body = SigninAnswer), (status = 400, body = ErrorBody),
              (status = 401, description = "unknown user, wrong password or disabled account (indistinguishable)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 429, description = "too many failed attempts; see Retry-After", body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn signin(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<SigninRequest>,
) -> Result<Response, ApiError> {
    let outcome = signin::signin(
        &state.factors(),
        state.signin_rules(),
        origin.client(),
        &body.username,
        body.password,
    )
    .await?;
    Ok(answer(&state, &headers, jar, outcome))
}

/// A way to finish the second step.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    Totp,
    Passkey,
    Recovery,
}

/// A right password (or sign-in link) of an account with a second factor: no token yet.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaChallenge {
    /// Always `true`: tells this answer from a signed-in one.
    mfa_required: bool,
    /// For `POST /api/auth/mfa/verify` (or, with `enrolmentRequired`, the TOTP setup).
    mfa_token: String,
    methods: Vec<MfaMethod>,
    /// The account has no second factor and must enrol one (`PORTCULLIS_REQUIRE_MFA_FOR`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    enrolment_required: bool,
    /// Seconds the token works.
    expires_in: u64,
}

/// What a sign-in answers: the account, or the second step it still needs.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum SigninAnswer {
    SignedIn(SigninResponse),
    SecondStep(MfaChallenge),
}

impl From<SecondStep> for MfaChallenge {
    fn from(step: SecondStep) -> Self {
        MfaChallenge {
            mfa_required: true,
            mfa_token: step.token,
            methods: step
                .methods
                .into_iter()
                .map(|m| match m {
                    Method::Totp => MfaMethod::Totp,
                    Method::Passkey => MfaMethod::Passkey,
                    Method::Recovery => MfaMethod::Recovery,
                })
                .collect(),
            enrolment_required: step.enrolment,
            expires_in: step.expires_in,
        }
    }
}

/// The answer to a first factor: signed in, or the second step (no cookie, no token).
pub fn answer(state: &AppState, headers: &HeaderMap, jar: CookieJar, outcome: Outcome) -> Response {
    match outcome {
        Outcome::SignedIn(done) => signed_in(state, headers, jar, done),
        Outcome::SecondStep(step) => ApiJson(MfaChallenge::from(step)).into_response(),
    }
}

/// The answer to every successful sign-in, whatever proved who it is: the account, and the
/// tokens in cookies and (unless cookie-only) in the body.
pub fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    done: SignedIn,
) -> Response {
    signed_in_with_codes(state, headers, jar, done, None)
}

/// `signed_in`, with the recovery codes of a TOTP app enrolled on the way.
pub fn signed_in_with_codes(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    SignedIn { user, issued }: SignedIn,
    recovery_codes: Option<Vec<String>>,
) -> Response {
    let delivery = delivery_for(state, headers);
    let body = SigninResponse {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        roles: user.authorities(),
        access_token: delivery.uses_body().then(|| issued.access_token.clone()),
        refresh_token: delivery.uses_body().then(|| issued.refresh_token.clone()),
        token_type: delivery.uses_body().then_some("Bearer"),
        expires_in: delivery.uses_body().then(|| state.tokens.ttl_secs()),
        recovery_codes,
    };
    let jar = if delivery.uses_cookies() {
        cookies::add_to(jar, cookies::issued(state, &issued))
    } else {
        jar
    };
    (jar, ApiJson(body)).into_response()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[serde(rename = "refreshToken", default)]
    pub refresh_token: Option<String>,
}

/// The rotated pair. From a body token: `{accessToken, refreshToken, tokenType, expiresIn}`;
/// from the cookie: new cookies and `{message, expiresIn}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Refreshed {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
    expires_in: i64,
}

/// Rotates a refresh token (from the body or the refresh cookie).
#[utoipa::path(post, path = "/api/auth/refreshtoken", tag = "auth", request_body(content = Option<RefreshRequest>),
    params(("X-Token-Delivery" = Option<String>, Header, description = "`cookie`: answer without tokens in the body (browser apps)")),
    responses((status = 200, body = Refreshed), (status = 400, body = ErrorBody),
              (status = 403, description = "required, not in database, expired or reused", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn refresh(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let delivery = delivery_for(&state, &headers);
    let from_body = body.and_then(|b| b.refresh_token).filter(|t| !t.is_empty());
    let from_cookie = || {
        delivery
            .uses_cookies()
            .then(|| jar.get(cookies::REFRESH).map(|c| c.value().to_string()))
            .flatten()
            .filter(|t| !t.is_empty())
    };
    let (presented, came_in_body) = match from_body {
        Some(token) => (token, true),
        None => match from_cookie() {
            Some(token) => (token, false),
            None => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::RefreshTokenRequired,
                    "Refresh Token is required!",
                ));
            }
        },
    };

    let issued = service::sessions::refresh(&state.sessions(), origin.client(), &presented)
        .await
        .map_err(refresh_error)?;

    let expires_in = state.tokens.ttl_secs();
    let jar = if delivery.uses_cookies() {
        cookies::add_to(jar, cookies::issued(&state, &issued))
    } else {
        jar
    };
    // A token that came in a cookie never comes back in a body.
    let body = if came_in_body && delivery.uses_body() {
        Refreshed {
            access_token: Some(issued.access_token),
            refresh_token: Some(issued.refresh_token),
            token_type: Some("Bearer"),
            message: None,
            expires_in,
        }
    } else {
        Refreshed {
            access_token: None,
            refresh_token: None,
            token_type: None,
            message: Some("Token refreshed."),
            expires_in,
        }
    };
    Ok((jar, ApiJson(body)).into_response())
}

fn refresh_error(e: RefreshError) -> ApiError {
    let forbidden = |code, message| ApiError::new(StatusCode::FORBIDDEN, code, message);
    match e {
        // A first-party refresh token is never DPoP-bound: this cannot come here.
        RefreshError::Invalid | RefreshError::WrongKey => forbidden(
            ErrorCode::RefreshTokenInvalid,
            "Refresh token is not in database!",
        ),
        RefreshError::Expired => forbidden(
            ErrorCode::RefreshTokenExpired,
            "Refresh token was expired. Please make a new signin request",
        ),
        RefreshError::Reused { .. } => forbidden(
            ErrorCode::RefreshTokenReused,
            "Refresh token was already used. Please make a new signin request",
        ),
        RefreshError::Internal(e) => ApiError::failure(&e),
    }
}

/// Ends the current session (found from the access token or the refresh token) and clears the cookies.
#[utoipa::path(post, path = "/api/auth/signout", tag = "auth", request_body(content = Option<RefreshRequest>),
    responses((status = 200, body = MessageBody), (status = 400, body = ErrorBody), (status = 403, description = "cross-site request with our cookies", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn signout(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let access = match presented_token(&headers) {
        Presented::Header(token) | Presented::Cookie(token) => Some(token),
        Presented::Malformed | Presented::None => None,
    };
    let refresh = body
        .and_then(|b| b.refresh_token)
        .or_else(|| jar.get(cookies::REFRESH).map(|c| c.value().to_string()));
    service::sessions::signout(
        &state.sessions(),
        origin.client(),
        access.as_deref(),
        refresh.as_deref(),
    )
    .await?;
    let jar = if state.settings.token_delivery.uses_cookies() {
        cookies::add_to(jar, cookies::cleared(&state))
    } else {
        jar
    };
    Ok((jar, ApiJson(MessageBody::new("You've been signed out!"))).into_response())
}
