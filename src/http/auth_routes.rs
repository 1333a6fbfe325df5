//! The tutorial's `/api/auth` routes: signup, signin, refreshtoken, signout (API.md §1).
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::AppState;
use crate::auth::extractors::{presented_token, MaybeAuthUser, Presented};
use crate::auth::password_hasher::HashError;
use crate::auth::sessions::{self, RefreshError};
use crate::auth::{cookies, refresh_token};
use crate::domain::{Email, NewPassword, PasswordRejection, Role, RoleSet, Username};
use crate::http::client_ip::ClientIp;
use crate::http::error::ApiError;
use crate::http::json::{ApiJson, OptionalJson};
use crate::store::{self, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/signin", post(signin))
        .route("/api/auth/refreshtoken", post(refresh))
        .route("/api/auth/signout", post(signout))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub username: String,
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

async fn signup(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<Response, ApiError> {
    let username = Username::parse(&body.username).map_err(ApiError::bad_request)?;
    let email = Email::parse(&body.email).map_err(ApiError::bad_request)?;
    let password = NewPassword::parse(
        &state.policy,
        &body.password,
        username.as_str(),
        email.as_str(),
    )
    .map_err(password_error)?;
    let roles = requested_roles(body.roles.as_deref().unwrap_or_default())?;
    let caller_is_admin = caller.is_some_and(|c| c.roles.contains(Role::Admin));
    if roles.iter().any(|r| r != Role::User) && !caller_is_admin {
        return Err(ApiError::forbidden("Require Admin Role to assign roles!"));
    }

    let hash = state
        .hasher
        .hash(password.expose().to_string())
        .await
        .map_err(hash_error)?;
    let created = store::users::create(
        &state.db,
        store::users::NewUser {
            username: username.as_str(),
            username_key: &username.key(),
            email: email.as_str(),
            email_key: &email.key(),
            password_hash: &hash,
            roles,
        },
        state.clock.now_ms(),
    )
    .await;
    match created {
        Ok(id) => {
            tracing::info!(target: "audit", event = "signup", outcome = "ok", user_id = id, username = username.as_str(), %ip);
            Ok((
                StatusCode::CREATED,
                Json(json!({"message": "User registered successfully!", "code": "created"})),
            )
                .into_response())
        }
        Err(e) => {
            tracing::info!(target: "audit", event = "signup", outcome = "failed", username = username.as_str(), %ip, reason = %e);
            Err(match e {
                StoreError::UsernameTaken => ApiError::new(
                    StatusCode::CONFLICT,
                    "username_taken",
                    "Failed! Username is already in use!",
                ),
                StoreError::EmailTaken => ApiError::new(
                    StatusCode::CONFLICT,
                    "email_taken",
                    "Failed! Email is already in use!",
                ),
                StoreError::Db(e) => e.into(),
            })
        }
    }
}

/// The roles a signup asks for, always including `user`.
pub fn requested_roles(names: &[String]) -> Result<RoleSet, ApiError> {
    let mut roles: RoleSet = [Role::User].into_iter().collect();
    for name in names {
        let role = Role::from_name(name).ok_or_else(|| {
            let shown: String = name.chars().take(64).collect();
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_role",
                format!("Failed! Role does not exist = {shown}"),
            )
        })?;
        roles.insert(role);
    }
    Ok(roles)
}

pub fn password_error(rejection: PasswordRejection) -> ApiError {
    match rejection {
        PasswordRejection::Invalid(why) => ApiError::bad_request(why),
        PasswordRejection::TooCommon => ApiError::new(
            StatusCode::BAD_REQUEST,
            "password_too_common",
            "Password is too common.",
        ),
    }
}

pub fn hash_error(e: HashError) -> ApiError {
    match e {
        HashError::Overloaded => ApiError::overloaded(),
        HashError::Failed(why) => ApiError::internal(&why),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigninRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SigninResponse<'a> {
    id: i64,
    username: &'a str,
    email: &'a str,
    roles: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
}

/// Longest login worth looking up: an email address.
const MAX_LOGIN_CHARS: usize = 254;
/// Longest password worth hashing; signup allows 128 characters (up to 512 bytes).
const MAX_PASSWORD_BYTES: usize = 1024;

async fn signin(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<SigninRequest>,
) -> Result<Response, ApiError> {
    if body.username.is_empty() || body.password.is_empty() {
        return Err(ApiError::bad_request("username and password are required."));
    }
    let login = body.username.as_str();
    let now = state.clock.now_ms();
    if let Err(retry_after) = state.throttle.check(login, ip, now) {
        tracing::warn!(target: "audit", event = "signin_throttled", outcome = "failed", username = login, %ip);
        return Err(ApiError::too_many_attempts(retry_after));
    }
    // No login contains NUL, and PostgreSQL refuses it in text: it is never looked up.
    let plausible = login.chars().count() <= MAX_LOGIN_CHARS
        && !login.contains('\0')
        && body.password.len() <= MAX_PASSWORD_BYTES;
    let user = if plausible {
        store::users::find_by_login(&state.db, login).await?
    } else {
        None
    };
    // Failures also count against the account itself, so its username and its email do
    // not give an attacker two budgets.
    let account_key = user.as_ref().map(|u| format!("\u{0}account:{}", u.id));
    if let Some(key) = &account_key {
        if let Err(retry_after) = state.throttle.check(key, ip, now) {
            tracing::warn!(target: "audit", event = "signin_throttled", outcome = "failed", username = login, %ip);
            return Err(ApiError::too_many_attempts(retry_after));
        }
    }
    let verified = state
        .hasher
        .verify(
            body.password,
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await
        .map_err(hash_error)?;
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        _ => {
            state.throttle.record_failure(login, ip, now);
            if let Some(key) = &account_key {
                state.throttle.record_account_failure(key, now);
            }
            tracing::info!(target: "audit", event = "signin", outcome = "failed", username = login, %ip);
            return Err(ApiError::invalid_credentials());
        }
    };
    state.throttle.record_success(login);
    if let Some(key) = &account_key {
        state.throttle.record_success(key);
    }

    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let issued = sessions::open(&state, user.id, user_agent, &ip.to_string()).await?;
    store::users::touch_signin(&state.db, user.id, now).await?;
    tracing::info!(target: "audit", event = "signin", outcome = "ok", user_id = user.id, session = %issued.session_id, %ip);

    let delivery = state.settings.token_delivery;
    let body = SigninResponse {
        id: user.id,
        username: &user.username,
        email: &user.email,
        roles: user.roles.authorities(),
        access_token: delivery.uses_body().then(|| issued.access_token.clone()),
        refresh_token: delivery.uses_body().then(|| issued.refresh_token.clone()),
        token_type: delivery.uses_body().then_some("Bearer"),
        expires_in: delivery.uses_body().then(|| state.tokens.ttl_secs()),
    };
    let jar = if delivery.uses_cookies() {
        cookies::add_to(
            jar,
            cookies::issued(&state, &issued.access_token, &issued.refresh_token),
        )
    } else {
        jar
    };
    Ok((jar, Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[serde(rename = "refreshToken", default)]
    pub refresh_token: Option<String>,
}

async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let delivery = state.settings.token_delivery;
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
                    "refresh_token_required",
                    "Refresh Token is required!",
                ));
            }
        },
    };

    let issued = match sessions::refresh(&state, &presented).await {
        Ok(issued) => issued,
        Err(e) => {
            let event = if matches!(e, RefreshError::Reused { .. }) {
                "refresh_reuse"
            } else {
                "refresh"
            };
            tracing::warn!(target: "audit", event, outcome = "failed", reason = %e, %ip);
            return Err(refresh_error(e));
        }
    };
    tracing::info!(target: "audit", event = "refresh", outcome = "ok", user_id = issued.user_id, session = %issued.session_id, %ip);

    let expires_in = state.tokens.ttl_secs();
    let jar = if delivery.uses_cookies() {
        cookies::add_to(
            jar,
            cookies::issued(&state, &issued.access_token, &issued.refresh_token),
        )
    } else {
        jar
    };
    // A token that came in a cookie never comes back in a body.
    let body = if came_in_body && delivery.uses_body() {
        json!({"accessToken": issued.access_token, "refreshToken": issued.refresh_token,
               "tokenType": "Bearer", "expiresIn": expires_in})
    } else {
        json!({"message": "Token refreshed.", "expiresIn": expires_in})
    };
    Ok((jar, Json(body)).into_response())
}

fn refresh_error(e: RefreshError) -> ApiError {
    let forbidden = |code, message| ApiError::new(StatusCode::FORBIDDEN, code, message);
    match e {
        RefreshError::Invalid => {
            forbidden("refresh_token_invalid", "Refresh token is not in database!")
        }
        RefreshError::Expired => forbidden(
            "refresh_token_expired",
            "Refresh token was expired. Please make a new signin request",
        ),
        RefreshError::Reused { .. } => forbidden(
            "refresh_token_reused",
            "Refresh token was already used. Please make a new signin request",
        ),
        RefreshError::Internal(e) => ApiError::internal(&e),
    }
}

async fn signout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let session_id = match presented_token(&headers) {
        Presented::Header(token) | Presented::Cookie(token) => state
            .tokens
            .verify_ignoring_expiry(&token, state.clock.now_secs())
            .ok()
            .map(|claims| claims.sid),
        Presented::Malformed | Presented::None => None,
    };
    let session_id = match session_id {
        Some(sid) => Some(sid),
        None => {
            let refresh = body
                .and_then(|b| b.refresh_token)
                .or_else(|| jar.get(cookies::REFRESH).map(|c| c.value().to_string()))
                .filter(|t| !t.is_empty() && t.len() <= refresh_token::MAX_LEN);
            match refresh {
                Some(token) => {
                    store::sessions::find_refresh(&state.db, &refresh_token::hash(&token))
                        .await?
                        .map(|r| r.session_id)
                }
                None => None,
            }
        }
    };
    if let Some(sid) = session_id {
        if sessions::end(&state, &sid).await? {
            tracing::info!(target: "audit", event = "signout", outcome = "ok", session = %sid, %ip);
        }
    }
    let jar = if state.settings.token_delivery.uses_cookies() {
        cookies::add_to(jar, cookies::cleared(&state))
    } else {
        jar
    };
    Ok((jar, Json(json!({"message": "You've been signed out!"}))).into_response())
}
