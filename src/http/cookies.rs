//! The HttpOnly cookies of docs/API.md §1, "Cookies": the access and refresh tokens
//! (SameSite=Strict), and the single sign-on cookie that only the authorization endpoint
//! reads (SameSite=Lax, `auth::sso_cookie`).
use axum::http::{header, HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::app::AppState;
use crate::auth::sessions::Issued;
use crate::auth::sso_cookie;

pub const ACCESS: &str = "portcullis_access";
pub const REFRESH: &str = "portcullis_refresh";
pub const SSO: &str = "portcullis_sso";
/// The only path the single sign-on cookie is sent to.
const SSO_PATH: &str = "/api/oauth/authorize";

fn build(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age_secs: i64,
) -> Cookie<'static> {
    // A top-level navigation from another site (a relying party's sign-in link) brings
    // the Lax cookie and not the Strict ones.
    let same_site = if name == SSO {
        SameSite::Lax
    } else {
        SameSite::Strict
    };
    Cookie::build((name, value))
        .http_only(true)
        .same_site(same_site)
        .secure(state.settings.cookie_secure)
        .path(path)
        .max_age(time::Duration::seconds(max_age_secs.max(0)))
        .build()
}

/// The cookies of a freshly issued pair: the tokens, and the session's single sign-on
/// cookie, which lives as long as the refresh cookie.
pub fn issued(state: &AppState, issued: &Issued) -> [Cookie<'static>; 3] {
    let (access, refresh) = (&issued.access_token, &issued.refresh_token);
    let refresh_secs = state.settings.refresh_ttl.as_secs() as i64;
    [
        build(
            state,
            ACCESS,
            access.to_string(),
            "/",
            state.tokens.ttl_secs(),
        ),
        build(state, REFRESH, refresh.to_string(), "/api", refresh_secs),
        build(
            state,
            SSO,
            sso_cookie::value(&state.refresh_key, &issued.session_id),
            SSO_PATH,
            refresh_secs,
        ),
    ]
}

/// Cookies that make the browser forget all three.
pub fn cleared(state: &AppState) -> [Cookie<'static>; 3] {
    [
        build(state, ACCESS, String::new(), "/", 0),
        build(state, REFRESH, String::new(), "/api", 0),
        build(state, SSO, String::new(), SSO_PATH, 0),
    ]
}

pub fn add_to(jar: CookieJar, cookies: [Cookie<'static>; 3]) -> CookieJar {
    cookies.into_iter().fold(jar, |jar, c| jar.add(c))
}

/// The session id the single sign-on cookie names, if the request has one this server made.
pub fn sso_session(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let jar = CookieJar::from_headers(headers);
    let value = jar.get(SSO)?.value();
    sso_cookie::session_id(&state.refresh_key, value).map(String::from)
}

pub fn append_headers(headers: &mut HeaderMap, cookies: [Cookie<'static>; 3]) {
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
