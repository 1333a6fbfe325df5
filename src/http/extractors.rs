//! Authentication as extractors: a handler that needs a signed-in user takes `AuthUser`;
//! one that merely cares takes `MaybeAuthUser`; one that an API key may call as well
//! takes `ApiCaller` (a key never acts on its owner's account itself: `AuthUser` refuses
//! it).
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum_extra::extract::cookie::CookieJar;

use crate::app::AppState;
use crate::auth::access_token::TokenError;
use crate::domain::{Rights, Role, RoleSet};
use crate::http::cookies;
use crate::http::error::ApiError;
use crate::service::api_keys;

#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: i64,
    pub username: std::sync::Arc<str>,
    pub session_id: String,
    pub roles: RoleSet,
    /// Roles, groups and permissions beyond the built-in roles (an API key's: within what
    /// it was given).
    pub rights: std::sync::Arc<Rights>,
    /// The API key the request was made with, if it was.
    pub api_key: Option<i64>,
    /// From the session cache too, for `GET /api/auth/me`.
    pub email: std::sync::Arc<str>,
    pub email_verified: bool,
    pub created_at: crate::clock::Millis,
}

impl AuthUser {
    /// Every role that holds for every client, as authorities (`ROLE_` + the name in upper
    /// case): the built-in ones in their order, then the rest by name.
    pub fn authorities(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .roles
            .authorities()
            .into_iter()
            .map(str::to_string)
            .collect();
        all.extend(
            self.rights
                .roles
                .iter()
                .map(|r| crate::domain::authority(r)),
        );
        all
    }

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
/// An API key is refused (403) unless `keys` says the route takes one.
pub async fn authenticate(
    state: &AppState,
    parts: &Parts,
    keys: Keys,
) -> Result<AuthUser, ApiError> {
    let token = match parts.extensions.get::<RefreshedAccess>() {
        Some(RefreshedAccess(token)) => token.clone(),
        None => match presented_token(&parts.headers) {
            Presented::Header(t) | Presented::Cookie(t) => t,
            Presented::Malformed => return Err(ApiError::invalid_token()),
            Presented::None => return Err(ApiError::no_token()),
        },
    };
    if api_keys::is_api_key(&token) {
        return match keys {
            Keys::Accepted => key_user(state, &token).await,
            Keys::Refused => Err(ApiError::forbidden(
                "An API key cannot do this; sign in instead.",
            )),
        };
    }
    let claims = state
        .tokens
        .verify(&token, state.clock.now_secs())
        .map_err(|e| match e {
            TokenError::Expired => ApiError::token_expired(),
            TokenError::Invalid => ApiError::invalid_token(),
        })?;

    session_user(state, &claims.sid, Some(claims.id)).await
}

/// Whether a route takes API keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    Accepted,
    Refused,
}

/// How often a key's last use is written: the list shows it to the minute.
const KEY_TOUCH_EVERY_MS: i64 = 60_000;

/// The owner of a live API key, with what the key may do; from the cache like a session.
async fn key_user(state: &AppState, key: &str) -> Result<AuthUser, ApiError> {
    if key.len() != api_keys::KEY_LEN {
        return Err(ApiError::invalid_token());
    }
    let db = &state.db;
    let hash = api_keys::hash(key);
    let found = state
        .cache
        .api_key(&hash, crate::store::api_keys::state(db, &hash))
        .await
        .map_err(|e| ApiError::database(&e))?;
    let now = state.clock.now_ms();
    let key = match found {
        Some(k) if !k.revoked && now < k.expires_at => k,
        _ => return Err(ApiError::invalid_token()),
    };
    let user = state
        .cache
        .user(
            key.user_id,
            crate::store::users::auth_state(db, key.user_id),
        )
        .await
        .map_err(|e| ApiError::database(&e))?;
    let Some(user) = user.filter(|u| !u.disabled) else {
        return Err(ApiError::invalid_token());
    };
    let touched = key.touched_at.load(std::sync::atomic::Ordering::Relaxed);
    if now - touched >= KEY_TOUCH_EVERY_MS
        && key
            .touched_at
            .compare_exchange(
                touched,
                now,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            )
            .is_ok()
    {
        let (db, id) = (state.db.clone(), key.id);
        tokio::spawn(async move {
            let touch = crate::store::api_keys::touch(&db, id, now, KEY_TOUCH_EVERY_MS);
            if let Err(e) = crate::db::within(crate::db::BACKGROUND_DEADLINE, touch).await {
                tracing::warn!(error = %e, "an API key's last use not recorded");
            }
        });
    }
    let (roles, rights) = api_keys::narrowed(&key, user.roles, &user.rights);
    Ok(AuthUser {
        id: key.user_id,
        username: user.username,
        session_id: String::new(),
        roles,
        rights,
        api_key: Some(key.id),
        email: user.email,
        email_verified: user.email_verified,
        created_at: user.created_at,
    })
}

/// The user of a live session, from the cache; `expected`: the user the token names.
async fn session_user(
    state: &AppState,
    sid: &str,
    expected: Option<i64>,
) -> Result<AuthUser, ApiError> {
    let db = &state.db;
    let session = state
        .cache
        .session(sid, crate::store::sessions::state(db, sid))
        .await
        .map_err(|e| ApiError::database(&e))?;
    let now = state.clock.now_ms();
    let user_id = match session {
        Some(s)
            if !s.revoked && expected.is_none_or(|id| id == s.user_id) && now < s.expires_at =>
        {
            s.user_id
        }
        _ => return Err(ApiError::invalid_token()),
    };
    let user = state
        .cache
        .user(user_id, crate::store::users::auth_state(db, user_id))
        .await
        .map_err(|e| ApiError::database(&e))?;
    match user {
        Some(u) if !u.disabled => Ok(AuthUser {
            id: user_id,
            username: u.username,
            session_id: sid.to_string(),
            roles: u.roles,
            rights: u.rights,
            api_key: None,
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
        authenticate(state, parts, Keys::Refused).await
    }
}

/// A signed-in user or an API key: for the routes a key may call (the tutorial's content
/// routes, `me`, forward authentication, the admin API, the decision endpoint).
pub struct ApiCaller(pub AuthUser);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(state, parts, Keys::Accepted)
            .await
            .map(ApiCaller)
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
        match authenticate(state, parts, Keys::Refused).await {
            Ok(user) => Ok(MaybeAuthUser(Some(user))),
            Err(e) if e.is_server_error() => Err(e),
            Err(_) => Ok(MaybeAuthUser(None)),
        }
    }
}

/// The browser's session at the authorization endpoint: the one its access token proves,
/// else the one its single sign-on cookie names (a navigation from another site brings only
/// that cookie: `http::cookies`). Anonymous when neither holds.
pub struct SigninBrowser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for SigninBrowser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeAuthUser(user) = MaybeAuthUser::from_request_parts(parts, state).await?;
        if user.is_some() {
            return Ok(SigninBrowser(user));
        }
        let Some(sid) = cookies::sso_session(state, &parts.headers) else {
            return Ok(SigninBrowser(None));
        };
        match session_user(state, &sid, None).await {
            Ok(user) => Ok(SigninBrowser(Some(user))),
            Err(e) if e.is_server_error() => Err(e),
            Err(_) => Ok(SigninBrowser(None)),
        }
    }
}
