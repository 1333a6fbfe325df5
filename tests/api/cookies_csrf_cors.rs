//! The cookies (attributes, precedence, self-refreshing cookie sessions), the CSRF check
//! on cookie requests, and CORS (docs/API.md §1, "Sending the access token", "Cookies", "CORS").
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    signin_and_refresh_set_both_cookies_with_exact_attributes,
    cookie_lifetimes_follow_the_settings,
    cookies_are_not_secure_when_cookie_secure_is_off,
    an_invalid_header_token_beats_a_valid_cookie,
    a_valid_header_token_beats_an_invalid_cookie,
    a_token_in_the_url_query_is_never_read,
    expired_access_cookie_is_refreshed_on_the_fly,
    missing_access_cookie_with_a_live_refresh_cookie_is_refreshed_on_the_fly,
    expired_refresh_cookie_gives_401,
    a_burst_with_expired_cookies_rotates_once,
    cross_site_post_with_our_cookies_is_refused,
    origin_null_counts_as_another_site,
    cross_site_fetch_metadata_without_origin_is_refused,
    same_origin_post_with_our_cookies_passes,
    allowed_cors_origin_post_with_our_cookies_passes,
    post_without_origin_or_fetch_metadata_passes,
    safe_methods_from_another_site_are_not_refused,
    cross_site_post_without_our_cookies_is_not_refused,
    no_cors_headers_by_default,
    configured_origin_gets_credentialed_cors,
    unlisted_origin_gets_no_cors_headers,
    a_browser_client_on_any_origin_may_call_the_provider_endpoints_it_needs,
);

const EVIL: &str = "http://evil.example";
const WEB_APP: &str = "http://localhost:8081";

/// The attributes docs/API.md gives each cookie, lower-cased names as `set_cookies` gives them.
fn expected_attributes(path: &str, max_age: u64, secure: bool) -> HashMap<String, String> {
    let mut attributes: HashMap<String, String> = [
        ("httponly", ""),
        ("samesite", "Strict"),
        ("path", path),
        ("max-age", &max_age.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if secure {
        attributes.insert("secure".into(), String::new());
    }
    attributes
}

fn assert_cookie_attributes(
    cookies: &HashMap<String, SetCookie>,
    access_max_age: u64,
    refresh_max_age: u64,
    secure: bool,
) {
    let access = &cookies["portcullis_access"];
    let refresh = &cookies["portcullis_refresh"];
    assert!(!access.value.is_empty() && !refresh.value.is_empty());
    assert_eq!(
        access.attributes,
        expected_attributes("/", access_max_age, secure),
        "{access:?}"
    );
    assert_eq!(
        refresh.attributes,
        expected_attributes("/api", refresh_max_age, secure),
        "{refresh:?}"
    );
}

fn access_cookie(session: &Session) -> String {
    format!(
        "portcullis_access={}",
        session.cookies["portcullis_access"].value
    )
}

fn refresh_cookie(session: &Session) -> String {
    format!(
        "portcullis_refresh={}",
        session.cookies["portcullis_refresh"].value
    )
}

async fn get_user_with_cookie(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.get_with("/api/test/user", ("Cookie", cookie)).await
}

async fn signin_and_refresh_set_both_cookies_with_exact_attributes(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    assert_cookie_attributes(&session.cookies, 900, 604_800, true);

    let refreshed = app
        .client
        .post(app.url("/api/auth/refreshtoken"))
        .header("Cookie", refresh_cookie(&session))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    assert_cookie_attributes(&set_cookies(refreshed.headers()), 900, 604_800, true);
    app.stop().await;
}

async fn cookie_lifetimes_follow_the_settings(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.access_ttl = Duration::from_secs(300);
        s.refresh_ttl = Duration::from_secs(86_400);
    })
    .await;
    let session = app.user_session("alice", &[]).await;
    assert_cookie_attributes(&session.cookies, 300, 86_400, true);
    app.stop().await;
}

async fn cookies_are_not_secure_when_cookie_secure_is_off(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.cookie_secure = false).await;
    let session = app.user_session("alice", &[]).await;
    assert_cookie_attributes(&session.cookies, 900, 604_800, false);
    app.stop().await;
}

async fn an_invalid_header_token_beats_a_valid_cookie(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    for (name, value) in [
        ("Authorization", "Bearer not.a.jwt"),
        ("x-access-token", "not.a.jwt"),
    ] {
        let response = app
            .client
            .get(app.url("/api/test/user"))
            .header("Cookie", session.cookie_header())
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_error(response, 401, "Unauthorized!", "invalid_token").await;
    }
    // The cookie alone is fine.
    let alone = get_user_with_cookie(&app, &access_cookie(&session)).await;
    assert_eq!(alone.status(), 200);
    app.stop().await;
}

async fn a_valid_header_token_beats_an_invalid_cookie(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let access = session.access.clone().unwrap();
    for (name, value) in [
        ("Authorization", session.bearer()),
        ("x-access-token", access),
    ] {
        let response = app
            .client
            .get(app.url("/api/test/user"))
            .header("Cookie", "portcullis_access=not.a.jwt")
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "User Content.");
    }
    app.stop().await;
}

async fn a_token_in_the_url_query_is_never_read(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let access = session.access.clone().unwrap();
    for name in [
        "token",
        "access_token",
        "accessToken",
        "x-access-token",
        "portcullis_access",
    ] {
        let response = app.get(&format!("/api/test/user?{name}={access}")).await;
        assert_error(response, 401, "No token provided!", "unauthenticated").await;
    }
    app.stop().await;
}

async fn expired_access_cookie_is_refreshed_on_the_fly(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    // Past the access lifetime (900 s) and the 10 s leeway.
    app.clock.advance(Duration::from_secs(911));
    let response = get_user_with_cookie(&app, &session.cookie_header()).await;
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(response.headers());
    assert_eq!(response.text().await.unwrap(), "User Content.");
    assert_cookie_attributes(&cookies, 900, 604_800, true);
    assert_ne!(
        cookies["portcullis_refresh"].value, session.cookies["portcullis_refresh"].value,
        "the pair was rotated"
    );
    assert_ne!(
        cookies["portcullis_access"].value,
        session.cookies["portcullis_access"].value
    );
    // The new access cookie works by itself.
    let again = get_user_with_cookie(
        &app,
        &format!("portcullis_access={}", cookies["portcullis_access"].value),
    )
    .await;
    assert_eq!(again.status(), 200);
    assert!(
        again.headers().get("set-cookie").is_none(),
        "no refresh needed"
    );
    app.stop().await;
}

async fn missing_access_cookie_with_a_live_refresh_cookie_is_refreshed_on_the_fly(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let response = get_user_with_cookie(&app, &refresh_cookie(&session)).await;
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(response.headers());
    assert_eq!(response.text().await.unwrap(), "User Content.");
    assert_cookie_attributes(&cookies, 900, 604_800, true);
    assert_ne!(
        cookies["portcullis_refresh"].value,
        session.cookies["portcullis_refresh"].value
    );
    app.stop().await;
}

async fn expired_refresh_cookie_gives_401(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.access_ttl = Duration::from_secs(30);
        s.refresh_ttl = Duration::from_secs(60);
    })
    .await;
    let session = app.user_session("alice", &[]).await;
    app.clock.advance(Duration::from_secs(61));

    let both = get_user_with_cookie(&app, &session.cookie_header()).await;
    assert!(both.headers().get("set-cookie").is_none());
    assert_error(
        both,
        401,
        "Unauthorized! Access Token was expired!",
        "token_expired",
    )
    .await;
    let refresh_only = get_user_with_cookie(&app, &refresh_cookie(&session)).await;
    assert!(refresh_only.headers().get("set-cookie").is_none());
    assert_error(refresh_only, 401, "No token provided!", "unauthenticated").await;
    app.stop().await;
}

async fn a_burst_with_expired_cookies_rotates_once(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    app.clock.advance(Duration::from_secs(911));
    let cookie = session.cookie_header();
    let responses = join_all((0..8).map(|_| get_user_with_cookie(&app, &cookie))).await;
    let mut refresh_values = HashSet::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        let cookies = set_cookies(response.headers());
        assert!(!cookies["portcullis_access"].value.is_empty());
        refresh_values.insert(cookies["portcullis_refresh"].value.clone());
        assert_eq!(response.text().await.unwrap(), "User Content.");
    }
    assert_eq!(refresh_values.len(), 1, "one rotation: {refresh_values:?}");
    let successor = refresh_values.into_iter().next().unwrap();
    assert_ne!(successor, session.cookies["portcullis_refresh"].value);
    // The shared successor is the session's live, unspent token.
    let next = app
        .post(
            "/api/auth/refreshtoken",
            json!({ "refreshToken": successor }),
        )
        .await;
    assert_eq!(next.status(), 200);
    let next: serde_json::Value = next.json().await.unwrap();
    assert_ne!(next["refreshToken"], successor.as_str());
    app.stop().await;
}

/// A signout that carries the session's cookies and `headers`.
async fn cookie_signout(
    app: &TestApp,
    session: &Session,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Cookie", session.cookie_header());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Every refusal here is of an auth route, whose responses are never stored.
async fn assert_csrf_refused(response: reqwest::Response) {
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "auth route responses carry Cache-Control: no-store"
    );
    let body = assert_error(response, 403, "Cross-site request refused.", "csrf").await;
    assert_eq!(
        body,
        json!({"message": "Cross-site request refused.", "code": "csrf"})
    );
}

async fn assert_still_signed_in(app: &TestApp, session: &Session) {
    let response = app
        .get_with("/api/test/user", ("Authorization", &session.bearer()))
        .await;
    assert_eq!(response.status(), 200, "the refused signout ended nothing");
}

async fn assert_passed_signout(response: reqwest::Response) {
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": "You've been signed out!"}));
}

async fn cross_site_post_with_our_cookies_is_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    assert_csrf_refused(cookie_signout(&app, &session, &[("Origin", EVIL)]).await).await;
    // With just one of our cookies, and with the other state-changing methods.
    let refresh = app
        .client
        .post(app.url("/api/auth/refreshtoken"))
        .header("Cookie", refresh_cookie(&session))
        .header("Origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_csrf_refused(refresh).await;
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let response = app
            .client
            .request(method, app.url("/api/auth/signout"))
            .header("Cookie", access_cookie(&session))
            .header("Origin", EVIL)
            .send()
            .await
            .unwrap();
        assert_csrf_refused(response).await;
    }
    assert_still_signed_in(&app, &session).await;
    app.stop().await;
}

async fn origin_null_counts_as_another_site(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    assert_csrf_refused(cookie_signout(&app, &session, &[("Origin", "null")]).await).await;
    assert_still_signed_in(&app, &session).await;
    app.stop().await;
}

async fn cross_site_fetch_metadata_without_origin_is_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let response = cookie_signout(&app, &session, &[("Sec-Fetch-Site", "cross-site")]).await;
    assert_csrf_refused(response).await;
    assert_still_signed_in(&app, &session).await;
    // Same-origin fetch metadata passes.
    let response = cookie_signout(&app, &session, &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_passed_signout(response).await;
    app.stop().await;
}

async fn same_origin_post_with_our_cookies_passes(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let response = cookie_signout(
        &app,
        &session,
        &[("Origin", &app.base), ("Sec-Fetch-Site", "same-origin")],
    )
    .await;
    assert_passed_signout(response).await;
    app.stop().await;
}

async fn allowed_cors_origin_post_with_our_cookies_passes(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.cors_origins = vec![WEB_APP.to_string()]).await;
    let session = app.user_session("alice", &[]).await;
    let response = cookie_signout(
        &app,
        &session,
        &[("Origin", WEB_APP), ("Sec-Fetch-Site", "same-site")],
    )
    .await;
    assert_passed_signout(response).await;
    // Another origin still is refused.
    let other = app.user_session("bob", &[]).await;
    assert_csrf_refused(cookie_signout(&app, &other, &[("Origin", EVIL)]).await).await;
    app.stop().await;
}

async fn post_without_origin_or_fetch_metadata_passes(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    assert_passed_signout(cookie_signout(&app, &session, &[]).await).await;
    app.stop().await;
}

async fn safe_methods_from_another_site_are_not_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let response = app
            .client
            .request(method.clone(), app.url("/api/test/user"))
            .header("Cookie", session.cookie_header())
            .header("Origin", EVIL)
            .header("Sec-Fetch-Site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{method}");
    }
    app.stop().await;
}

async fn cross_site_post_without_our_cookies_is_not_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    app.create_user("alice", &[]).await;
    let signin = app
        .client
        .post(app.url("/api/auth/signin"))
        .header("Origin", EVIL)
        .header("Cookie", "theme=dark")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signin.status(), 200);
    let session = Session::from_response(signin).await;

    let refresh = app
        .client
        .post(app.url("/api/auth/refreshtoken"))
        .header("Origin", EVIL)
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"refreshToken": session.refresh.as_deref().unwrap()}))
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 200);
    app.stop().await;
}

fn allow_origin(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap())
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/signin"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type,authorization,x-access-token",
        )
        .send()
        .await
        .unwrap()
}

async fn get_from(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.get_with(path, ("Origin", origin)).await
}

async fn no_cors_headers_by_default(db: DbKind) {
    let app = TestApp::spawn(db).await;
    for origin in [WEB_APP, EVIL] {
        let response = preflight(&app, origin).await;
        assert_eq!(allow_origin(&response), None, "{origin}");
        let response = get_from(&app, "/api/test/all", origin).await;
        assert_eq!(response.status(), 200);
        assert_eq!(allow_origin(&response), None, "{origin}");
        assert!(response
            .headers()
            .get("access-control-allow-credentials")
            .is_none());
    }
    app.stop().await;
}

async fn configured_origin_gets_credentialed_cors(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.cors_origins = vec![WEB_APP.to_string()]).await;

    let response = preflight(&app, WEB_APP).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(allow_origin(&response), Some(WEB_APP));
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    let allowed: HashSet<String> = response
        .headers()
        .get_all("access-control-allow-headers")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for header in ["content-type", "authorization", "x-access-token"] {
        assert!(allowed.contains(header), "{header} in {allowed:?}");
    }
    let methods = response.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("POST"), "{methods}");

    // Actual responses, successes and errors alike, carry it too.
    for (path, status) in [("/api/test/all", 200), ("/api/test/user", 401)] {
        let response = get_from(&app, path, WEB_APP).await;
        assert_eq!(response.status(), status);
        assert_eq!(allow_origin(&response), Some(WEB_APP), "{path}");
        assert_eq!(
            response.headers()["access-control-allow-credentials"],
            "true"
        );
    }
    app.stop().await;
}

async fn unlisted_origin_gets_no_cors_headers(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.cors_origins = vec![WEB_APP.to_string()]).await;
    for origin in [
        EVIL,
        "http://localhost:80811",
        "http://localhost:8081.evil.example",
        "https://localhost:8081",
        "null",
    ] {
        let response = preflight(&app, origin).await;
        assert_eq!(allow_origin(&response), None, "{origin}");
        let response = get_from(&app, "/api/test/all", origin).await;
        assert_eq!(allow_origin(&response), None, "{origin}");
    }
    app.stop().await;
}

/// A single-page app with a public OpenID Connect client fetches discovery, the keys, the
/// token endpoint, userinfo and revocation from its own origin: any origin may, without
/// credentials. Everything else keeps the configured policy.
async fn a_browser_client_on_any_origin_may_call_the_provider_endpoints_it_needs(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.cors_origins = vec![WEB_APP.to_string()]).await;
    let spa = "https://spa.example";
    let ask = |path: &'static str, method: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("Origin", spa)
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "content-type,authorization",
            )
            .send()
    };
    for (path, method) in [
        ("/.well-known/openid-configuration", "GET"),
        ("/.well-known/jwks.json", "GET"),
        ("/api/oauth/token", "POST"),
        ("/api/oauth/userinfo", "GET"),
        ("/api/oauth/revoke", "POST"),
    ] {
        let response = ask(path, method).await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(allow_origin(&response), Some("*"), "{path}");
        assert!(
            response
                .headers()
                .get("access-control-allow-credentials")
                .is_none(),
            "{path}"
        );
    }
    // Actual answers carry it too, errors included.
    let token = app
        .client
        .post(app.url("/api/oauth/token"))
        .header("Origin", spa)
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert!(token.status().is_client_error(), "{}", token.status());
    assert_eq!(allow_origin(&token), Some("*"));
    let keys = get_from(&app, "/.well-known/jwks.json", spa).await;
    assert_eq!(
        (keys.status().as_u16(), allow_origin(&keys)),
        (200, Some("*"))
    );

    // Not the rest: introspection is for servers, the API for the configured origins.
    let introspect = ask("/api/oauth/introspect", "POST").await.unwrap();
    assert_eq!(allow_origin(&introspect), None);
    assert_eq!(
        allow_origin(&get_from(&app, "/api/test/all", spa).await),
        None
    );
    let first_party = get_from(&app, "/api/test/all", WEB_APP).await;
    assert_eq!(allow_origin(&first_party), Some(WEB_APP));
    app.stop().await;
}

on_every_database!(a_client_may_ask_for_cookie_only_delivery_but_never_for_more);

/// `X-Token-Delivery: cookie` keeps tokens out of the body for that request (the web app
/// sends it); it cannot bring tokens into the body of a cookie-only server.
async fn a_client_may_ask_for_cookie_only_delivery_but_never_for_more(db: DbKind) {
    let app = TestApp::spawn(db.clone()).await;
    app.create_user("browser", &[]).await;
    let signin = |app: &TestApp| {
        app.client
            .post(app.url("/api/auth/signin"))
            .header("X-Token-Delivery", "cookie")
            .json(&serde_json::json!({"username": "browser", "password": PASSWORD}))
            .send()
    };
    let session = Session::from_response(signin(&app).await.unwrap()).await;
    let keys: Vec<&String> = session.body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(session.access.is_none() && session.refresh.is_none());
    assert!(
        session.cookies.contains_key("portcullis_access")
            && session.cookies.contains_key("portcullis_refresh")
    );
    let refreshed = app
        .client
        .post(app.url("/api/auth/refreshtoken"))
        .header("X-Token-Delivery", "cookie")
        .header("Cookie", session.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let body: serde_json::Value = refreshed.json().await.unwrap();
    assert!(
        body.get("accessToken").is_none() && body.get("refreshToken").is_none(),
        "{body}"
    );
    // Without the header the same server still serves body clients.
    assert!(app.signin("browser", PASSWORD).await.access.is_some());
    app.stop().await;

    let cookie_only = TestApp::spawn_with(db, |s| {
        s.token_delivery = portcullis::config::TokenDelivery::Cookie
    })
    .await;
    cookie_only.create_user("browser", &[]).await;
    let response = cookie_only
        .client
        .post(cookie_only.url("/api/auth/signin"))
        .header("X-Token-Delivery", "body")
        .json(&serde_json::json!({"username": "browser", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let session = Session::from_response(response).await;
    assert!(session.access.is_none(), "the header never widens delivery");
    cookie_only.stop().await;
}
