//! Authentication as extractors: a handler that needs a signed-in user takes `AuthUser`;
//! one that merely cares takes `MaybeAuthUser`.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum_extra::extract::cookie::CookieJar;

use crate::app::AppState;
use crate::auth::access_token::TokenError;
use crate::domain::{Role, RoleSet};
use crate::http::cookies;
use crate::http::error::ApiError;

#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: i64,
    pub username: std::sync::Arc<str>,
    pub session_id: String,
    pub roles: RoleSet,
    /// From the session cache too, for `GET /api/auth/me`.
    pub email: std::sync::Arc<str>,
    pub email_verified: bool,
    pub created_at: crate::clock::Millis,
}

impl AuthUser {
    /// 403 with `message` unless the user has `role`.
    pub fn require(&self, role: Role, message: &'static str) -> Result<(), ApiError> {
        if self.roles.contains(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(message))
        }
    }
}

/// The access token that the cookie-session middleware just minted for this request.
#[derive(Clone)]
pub struct RefreshedAccess(pub String);

/// Where the request's access token came from, in docs/API.md's order of precedence.
pub enum Presented {
    Header(String),
    Cookie(String),
    /// An Authorization header that is not `Bearer`: the cookie is still ignored.
    Malformed,
    None,
}

pub fn presented_token(headers: &HeaderMap) -> Presented {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let bearer = value.to_str().ok().and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
        return match bearer {
            Some(token) if !token.is_empty() => Presented::Header(token),
            _ => match headers.get("x-access-token").and_then(|v| v.to_str().ok()) {
                Some(token) if !token.is_empty() => Presented::Header(token.to_string()),
                _ => Presented::Malformed,
            },
        };
    }
    if let Some(value) = headers.get("x-access-token") {
        return match value.to_str() {
            Ok(token) if !token.trim().is_empty() => Presented::Header(token.trim().to_string()),
            _ => Presented::Malformed,
        };
    }
    match CookieJar::from_headers(headers).get(cookies::ACCESS) {
        Some(c) if !c.value().is_empty() => Presented::Cookie(c.value().to_string()),
        _ => Presented::None,
    }
}

/// Checks the token and then the session and user behind it. The session and user states
/// come from the in-process cache, so a valid request costs no database round trip.
pub async fn authenticate(state: &AppState, parts: &Parts) -> Result<AuthUser, ApiError> {
    let token = match parts.extensions.get::<RefreshedAccess>() {
        Some(RefreshedAccess(token)) => token.clone(),
        None => match presented_token(&parts.headers) {
            Presented::Header(t) | Presented::Cookie(t) => t,
            Presented::Malformed => return Err(ApiError::invalid_token()),
            Presented::None => return Err(ApiError::no_token()),
        },
    };
    let claims = state
        .tokens
        .verify(&token, state.clock.now_secs())
        .map_err(|e| match e {
            TokenError::Expired => ApiError::token_expired(),
            TokenError::Invalid => ApiError::invalid_token(),
        })?;

    let db = &state.db;
    let session = state
        .cache
        .session(&claims.sid, crate::store::sessions::state(db, &claims.sid))
        .await
        .map_err(|e| ApiError::database(&e))?;
    let now = state.clock.now_ms();
    match session {
        Some(s) if !s.revoked && s.user_id == claims.id && now < s.expires_at => {}
        _ => return Err(ApiError::invalid_token()),
    }
    let user = state
        .cache
        .user(claims.id, crate::store::users::auth_state(db, claims.id))
        .await
        .map_err(|e| ApiError::database(&e))?;
    match user {
        Some(u) if !u.disabled => Ok(AuthUser {
            id: claims.id,
            username: u.username,
            session_id: claims.sid.clone(),
            roles: u.roles,
            email: u.email,
            email_verified: u.email_verified,
            created_at: u.created_at,
        }),
        _ => Err(ApiError::invalid_token()),
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(state, parts).await
    }
}

/// The signed-in user if the request proves one; anonymous otherwise (a bad token is
/// treated as no token, never as an error).
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match authenticate(state, parts).await {
            Ok(user) => Ok(MaybeAuthUser(Some(user))),
            Err(e) if e.is_server_error() => Err(e),
            Err(_) => Ok(MaybeAuthUser(None)),
        }
    }
}
