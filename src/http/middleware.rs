//! What runs in front of the routes: the body-size gate, the CSRF check for cookie
//! requests, and the refresh of cookie sessions whose access token has lapsed.
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::app::AppState;
use crate::auth::access_token::TokenError;
use crate::auth::sessions;
use crate::http::cookies;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::extractors::{presented_token, Presented, RefreshedAccess};
use crate::http::json_body::{too_large, MAX_BODY_BYTES};
use crate::service::{self, Client};

/// Oversized bodies up to this are read and thrown away before the 413, so that a client
/// still sending its body reads our answer instead of a broken pipe; bigger ones are cut off.
const DRAIN_LIMIT: usize = 1024 * 1024;
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// 413 from the declared length alone, before anything else is done with the request.
pub async fn reject_oversized(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(len) = declared.filter(|len| *len > MAX_BODY_BYTES as u64) else {
        return next.run(req).await;
    };
    if len <= DRAIN_LIMIT as u64 {
        let body = req.into_body();
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, axum::body::to_bytes(body, DRAIN_LIMIT)).await;
    }
    let mut refused = too_large().into_response();
    refused.headers_mut().insert(
        header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    refused
}

/// A state-changing request that carries our cookies must come from our own origin or an
/// allowed one (docs/API.md §1, "Cookies"). SameSite=Strict already stops most of it; this is
/// the second lock on the door.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || !cookies::present(req.headers()) || !is_cross_site(&state, &req) {
        return next.run(req).await;
    }
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        ErrorCode::Csrf,
        "Cross-site request refused.",
    )
    .into_response()
}

fn is_cross_site(state: &AppState, req: &Request) -> bool {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        let origin = origin.trim_end_matches('/');
        if origin == "null" {
            return true;
        }
        if state.cors_origins.iter().any(|o| o == origin) {
            return false;
        }
        let authority = origin.split_once("://").map(|(_, a)| a);
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        return !matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "same-site" is a sibling origin, which could be anyone's subdomain: refused too.
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => false,
    }
}

/// Cookie sessions refresh themselves: a request that authenticates by cookie, with the
/// access cookie missing or expired and a live refresh cookie, is served as that user and
/// gets the rotated cookies on its response. Browsers need no refresh logic.
pub async fn refresh_cookie_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if !state.settings.token_delivery.uses_cookies() || is_token_route(req.uri().path()) {
        return next.run(req).await;
    }
    let needs_refresh = match presented_token(req.headers()) {
        Presented::None => true,
        Presented::Cookie(token) => matches!(
            state.tokens.verify(&token, state.clock.now_secs()),
            Err(TokenError::Expired)
        ),
        Presented::Header(_) | Presented::Malformed => false,
    };
    let refresh = CookieJar::from_headers(req.headers())
        .get(cookies::REFRESH)
        .map(|c| c.value().to_string());
    let (true, Some(refresh)) = (needs_refresh, refresh) else {
        return next.run(req).await;
    };
    let ip = crate::http::client_ip::of_request(&state, req.extensions(), req.headers());
    let ip_text = ip.to_string();
    let client = Client {
        ip,
        ip_text: &ip_text,
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    };
    let result = service::sessions::refresh(&state.sessions(), client, &refresh).await;
    match result {
        Ok(issued) => {
            req.extensions_mut()
                .insert(RefreshedAccess(issued.access_token.clone()));
            let mut response = next.run(req).await;
            cookies::append_headers(
                response.headers_mut(),
                cookies::issued(&state, &issued.access_token, &issued.refresh_token),
            );
            response
        }
        Err(sessions::RefreshError::Internal(e)) => ApiError::failure(&e).into_response(),
        // The request goes on unauthenticated and gets the usual 401 where that matters.
        Err(_) => next.run(req).await,
    }
}

/// Routes that handle tokens themselves.
fn is_token_route(path: &str) -> bool {
    matches!(
        path,
        "/api/auth/signin" | "/api/auth/signup" | "/api/auth/refreshtoken" | "/api/auth/signout"
    )
}
