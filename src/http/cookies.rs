//! The two HttpOnly cookies of docs/API.md §1, "Cookies".
use axum::http::{header, HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::app::AppState;

pub const ACCESS: &str = "portcullis_access";
pub const REFRESH: &str = "portcullis_refresh";

fn build(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.cookie_secure)
        .path(path)
        .max_age(time::Duration::seconds(max_age_secs.max(0)))
        .build()
}

/// Both cookies for a freshly issued pair.
pub fn issued(state: &AppState, access: &str, refresh: &str) -> [Cookie<'static>; 2] {
    [
        build(
            state,
            ACCESS,
            access.to_string(),
            "/",
            state.tokens.ttl_secs(),
        ),
        build(
            state,
            REFRESH,
            refresh.to_string(),
            "/api",
            state.settings.refresh_ttl.as_secs() as i64,
        ),
    ]
}

/// Cookies that make the browser forget both.
pub fn cleared(state: &AppState) -> [Cookie<'static>; 2] {
    [
        build(state, ACCESS, String::new(), "/", 0),
        build(state, REFRESH, String::new(), "/api", 0),
    ]
}

pub fn add_to(jar: CookieJar, cookies: [Cookie<'static>; 2]) -> CookieJar {
    cookies.into_iter().fold(jar, |jar, c| jar.add(c))
}

pub fn append_headers(headers: &mut HeaderMap, cookies: [Cookie<'static>; 2]) {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            headers.append(header::SET_COOKIE, value);
        }
    }
}

/// True when the request carries either of our cookies (the CSRF check cares).
pub fn present(headers: &HeaderMap) -> bool {
    let jar = CookieJar::from_headers(headers);
    jar.get(ACCESS).is_some() || jar.get(REFRESH).is_some()
}
