//! What runs in front of the routes: the `Host` check and the security headers of every
//! answer, the body-size gate, the CSRF check for cookie requests, and the refresh of
//! cookie sessions whose access token has lapsed.
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, Version};
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

/// RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without a `Host`, and
/// to any request with more than one or with one that is not a host and port. (HTTP/1.0
/// may omit it; HTTP/2 names the host in `:authority`.)
pub async fn require_one_host(req: Request, next: Next) -> Response {
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let verdict = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => Err("A request must carry one Host header."),
        (Some(host), None) => match host
            .to_str()
            .ok()
            .and_then(|h| h.parse::<axum::http::uri::Authority>().ok())
        {
            Some(authority) if authority.as_str().contains('@') => {
                Err("The Host header is not a host.")
            }
            Some(_) => Ok(()),
            None => Err("The Host header is not a host."),
        },
        (None, _) if req.version() == Version::HTTP_11 => {
            Err("A request must carry one Host header.")
        }
        (None, _) => Ok(()),
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(message) => {
            let mut refused = ApiError::bad_request(message).into_response();
            // The connection's framing may be what is wrong: do not read another request.
            refused
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            refused
        }
    }
}

/// What every answer carries: `nosniff`; on HTML, no framing by other sites (CSP
/// `frame-ancestors 'none'`, added to a page's own policy, and `X-Frame-Options` for older
/// browsers); HSTS when the public URL is `https://` and it is not turned off.
pub async fn security_headers(
    State(hsts): State<Option<HeaderValue>>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(hsts) = hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        let policy = match headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
        {
            Some(own) if own.contains("frame-ancestors") => None,
            Some(own) => HeaderValue::from_str(&format!("{own}; frame-ancestors 'none'")).ok(),
            None => Some(HeaderValue::from_static("frame-ancestors 'none'")),
        };
        if let Some(policy) = policy {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}

/// Gives up on a request that took longer than `PORTCULLIS_REQUEST_TIMEOUT`, with a 503 and
/// `Retry-After`: a query that never comes back (a partition, a hung database server) would
/// otherwise hold the client for as long as TCP takes to notice, minutes. The handler's
/// future is dropped: a transaction it held rolls back, the driver closes or recovers the
/// connection, and nothing it had not finished is acknowledged. The body has been read
/// already (`read_whole_body` runs outside), so a slow upload is not counted.
pub async fn deadline(
    State(limit): State<std::time::Duration>,
    req: Request,
    next: Next,
) -> Response {
    let oauth = crate::http::oidc::answers_oauth_errors(req.uri().path());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request given up: no answer within the deadline");
            if oauth {
                crate::http::oidc::temporarily_unavailable()
            } else {
                ApiError::unavailable().into_response()
            }
        }
    }
}

/// Reads a request's whole body (at most `MAX_BODY_BYTES`) before anything answers it. A
/// route or a guard that answers without reading a body leaves its bytes on the connection,
/// and hyper then closes a kept-alive connection now and then instead of reading the next
/// request: a client's next POST on it fails, and most clients do not retry a POST. Read
/// here, every body is consumed whoever answers; the handlers read the same bytes.
pub async fn read_whole_body(req: Request, next: Next) -> Response {
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() != "0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => {
            // Too long (a chunked body the declared length did not announce), or the client
            // broke off: either way this connection's framing is done for.
            let mut refused = too_large().into_response();
            refused
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            refused
        }
    }
}

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
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || is_navigation_post(req.uri().path());
    if safe || !cookies::present(req.headers()) || !is_cross_site(&state, req.headers()) {
        return next.run(req).await;
    }
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        ErrorCode::Csrf,
        "Cross-site request refused.",
    )
    .into_response()
}

/// The OpenID Connect endpoints a relying party's page may POST a form to (OIDC Core
/// §3.1.2.1, RP-Initiated Logout §2): they take the GET's parameters and apply the GET's
/// rules, which the GET passes this guard with, and the logout asks the user itself when
/// the request is not our own origin's.
/// So is an upstream provider's form-post answer (Apple's): a cross-site POST by design,
/// which the callback's own rules (a state bound to this browser, spent once) decide.
fn is_navigation_post(path: &str) -> bool {
    let provider_callback = path
        .strip_prefix("/api/auth/providers/")
        .and_then(|rest| rest.strip_suffix("/callback"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'));
    provider_callback || matches!(path, "/api/oauth/authorize" | "/api/oauth/logout")
}

/// Whether a request comes from another origin than ours or an allowed one, by `Origin`,
/// else `Sec-Fetch-Site`; a request that says neither (not a browser's) is not.
pub fn is_cross_site(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
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
    if !state.settings.token_delivery.uses_cookies() || never_refreshes(req.uri().path()) {
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
            cookies::append_headers(response.headers_mut(), cookies::issued(&state, &issued));
            response
        }
        Err(sessions::RefreshError::Internal(e)) => ApiError::failure(&e).into_response(),
        // The request goes on unauthenticated and gets the usual 401 where that matters.
        Err(_) => next.run(req).await,
    }
}

/// Routes that handle tokens themselves, and forward authentication, whose answer goes to
/// a reverse proxy that drops its cookies: a refresh there would spend the browser's refresh
/// token and leave it holding the spent one, which its next use would report as theft.
fn never_refreshes(path: &str) -> bool {
    matches!(
        path,
        "/api/auth/signin"
            | "/api/auth/signup"
            | "/api/auth/refreshtoken"
            | "/api/auth/signout"
            | "/api/auth/forward"
    )
}
