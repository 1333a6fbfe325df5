//! docs/API.md §4: the tutorial's own Angular clients, with the settings it names for each.
use std::time::Duration;

use portcullis::config::TokenDelivery;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    header_clients_work_with_default_settings,
    cookie_clients_from_another_origin_never_see_a_token,
    refresh_clients_that_keep_the_first_token_work_when_the_interval_equals_the_ttl,
);

const CLIENT_ORIGIN: &str = "http://localhost:8081";

/// Angular 8 to 13: signup, signin, then `x-access-token` (older) or Bearer (newer).
async fn header_clients_work_with_default_settings(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.cors_origins = vec![CLIENT_ORIGIN.into()]).await;
    let signup = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("Origin", CLIENT_ORIGIN)
        .json(&json!({"username": "ngfan", "email": "ngfan@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(signup.status().is_success());
    assert_eq!(
        signup.headers()["access-control-allow-origin"],
        CLIENT_ORIGIN
    );
    let session = app.signin("ngfan", PASSWORD).await;
    for (name, value) in [
        ("x-access-token", session.access.clone().unwrap()),
        ("Authorization", session.bearer()),
    ] {
        let board = app
            .client
            .get(app.url("/api/test/user"))
            .header("Origin", CLIENT_ORIGIN)
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(board.status(), 200);
        assert_eq!(board.text().await.unwrap(), "User Content.");
    }
    app.stop().await;
}

/// Angular 14 to 17: `withCredentials`, cookies only, the whole signin body kept in
/// sessionStorage, so it must hold no token.
async fn cookie_clients_from_another_origin_never_see_a_token(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.cors_origins = vec![CLIENT_ORIGIN.into()];
        s.token_delivery = TokenDelivery::Cookie;
    })
    .await;
    app.create_user("cookiefan", &[]).await;
    let response = app
        .client
        .post(app.url("/api/auth/signin"))
        .header("Origin", CLIENT_ORIGIN)
        .json(&json!({"username": "cookiefan", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    let session = Session::from_response(response).await;
    let keys: Vec<&str> = session
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for key in ["id", "username", "email", "roles"] {
        assert!(keys.contains(&key));
    }
    let cookie = session.cookie_header();
    assert!(cookie.contains("portcullis_access=") && cookie.contains("portcullis_refresh="));

    let board = app
        .client
        .get(app.url("/api/test/user"))
        .header("Origin", CLIENT_ORIGIN)
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(board.text().await.unwrap(), "User Content.");

    // Its signout is a cross-origin POST with cookies, from an allowed origin.
    let signout = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Origin", CLIENT_ORIGIN)
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(signout.status(), 200);
    let after = app
        .client
        .get(app.url("/api/test/user"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    app.stop().await;
}

/// Angular 12's refresh client stores the first refresh token and sends it every time.
async fn refresh_clients_that_keep_the_first_token_work_when_the_interval_equals_the_ttl(
    db: DbKind,
) {
    let app = TestApp::spawn_with(db, |s| s.refresh_reuse_interval = s.refresh_ttl).await;
    let session = app.user_session("refreshfan", &[]).await;
    let first = session.refresh.clone().unwrap();
    for _ in 0..3 {
        app.clock.advance(Duration::from_secs(20 * 60));
        let response = app
            .post("/api/auth/refreshtoken", json!({"refreshToken": first}))
            .await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        let access = body["accessToken"].as_str().unwrap();
        let board = app
            .get_with("/api/test/user", ("x-access-token", access))
            .await;
        assert_eq!(board.status(), 200);
    }
    app.stop().await;
}
