//! POST /api/auth/refreshtoken: rotation, the reuse interval, reuse detection, lifetimes,
//! concurrency and the three token delivery modes (docs/API.md §1).
use std::collections::HashSet;
use std::time::Duration;

use futures::future::join_all;
use portcullis::config::TokenDelivery;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    refresh_from_the_body_rotates_and_returns_a_working_access_token,
    refresh_from_the_cookie_sets_new_cookies_and_returns_no_token,
    refresh_without_a_token_is_refused_as_required,
    unknown_refresh_token_is_refused_as_not_in_database,
    refresh_token_unused_past_its_idle_lifetime_is_expired,
    each_refresh_restarts_the_idle_lifetime,
    session_ends_at_its_absolute_lifetime_however_often_refreshed,
    spent_token_within_the_reuse_interval_gets_the_current_successor,
    spent_token_after_the_reuse_interval_is_reuse_and_revokes_the_session,
    with_a_zero_reuse_interval_any_second_use_is_reuse,
    concurrent_refreshes_with_one_token_all_get_the_same_successor,
    with_a_zero_reuse_interval_exactly_one_concurrent_refresh_succeeds,
    cookie_delivery_signin_answers_only_the_user_and_sets_cookies,
    cookie_delivery_body_refresh_returns_no_token,
    body_delivery_never_sets_cookies,
);

const REFRESH: &str = "/api/auth/refreshtoken";

async fn refresh_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(REFRESH, json!({ "refreshToken": token })).await
}

/// A body refresh that must succeed; returns its JSON body.
async fn refreshed(app: &TestApp, token: &str) -> Value {
    let response = refresh_with(app, token).await;
    assert_eq!(response.status(), 200, "refresh should succeed");
    response.json().await.unwrap()
}

async fn user_content_status(app: &TestApp, access_token: &str) -> u16 {
    app.get_with(
        "/api/test/user",
        ("Authorization", &format!("Bearer {access_token}")),
    )
    .await
    .status()
    .as_u16()
}

async fn refresh_from_the_body_rotates_and_returns_a_working_access_token(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let old_refresh = session.refresh.clone().unwrap();

    let response = refresh_with(&app, &old_refresh).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookies = set_cookies(response.headers());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        keys(&body),
        HashSet::from(["accessToken", "refreshToken", "tokenType", "expiresIn"]),
        "{body}"
    );
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], 900);
    let new_refresh = body["refreshToken"].as_str().unwrap();
    let new_access = body["accessToken"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh, "every refresh rotates");
    assert_ne!(new_access, session.access.as_deref().unwrap());
    assert_eq!(user_content_status(&app, new_access).await, 200);

    // With the default delivery (both), the body refresh also sets the cookies.
    assert_eq!(cookies["portcullis_access"].value, new_access);
    assert_eq!(cookies["portcullis_refresh"].value, new_refresh);

    // The successor is live in its turn.
    let next = refreshed(&app, new_refresh).await;
    assert_ne!(next["refreshToken"], new_refresh);
    app.stop().await;
}

async fn refresh_from_the_cookie_sets_new_cookies_and_returns_no_token(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let old_refresh = session.cookies["portcullis_refresh"].value.clone();

    let response = app
        .client
        .post(app.url(REFRESH))
        .header("Cookie", format!("portcullis_refresh={old_refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(response.headers());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "Token refreshed.", "expiresIn": 900})
    );

    let access = &cookies["portcullis_access"].value;
    let refresh = &cookies["portcullis_refresh"].value;
    assert!(!access.is_empty() && !refresh.is_empty(), "{cookies:?}");
    assert_ne!(refresh, &old_refresh, "every refresh rotates");
    let user = app
        .get_with(
            "/api/test/user",
            ("Cookie", &format!("portcullis_access={access}")),
        )
        .await;
    assert_eq!(user.status(), 200);
    assert_eq!(user.text().await.unwrap(), "User Content.");
    // The new refresh cookie is the live one.
    refreshed(&app, refresh).await;
    app.stop().await;
}

async fn refresh_without_a_token_is_refused_as_required(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let no_body = app.client.post(app.url(REFRESH)).send().await.unwrap();
    assert_eq!(no_body.headers()["cache-control"], "no-store");
    assert_error(
        no_body,
        403,
        "Refresh Token is required!",
        "refresh_token_required",
    )
    .await;
    for body in [json!({}), json!({"refreshToken": ""})] {
        let response = app.post(REFRESH, body).await;
        assert_error(
            response,
            403,
            "Refresh Token is required!",
            "refresh_token_required",
        )
        .await;
    }
    app.stop().await;
}

async fn unknown_refresh_token_is_refused_as_not_in_database(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let long = "x".repeat(5000);
    for token in [
        "not-a-token",
        // An access token is not a refresh token.
        session.access.as_deref().unwrap(),
        long.as_str(),
    ] {
        let response = refresh_with(&app, token).await;
        assert_error(
            response,
            403,
            "Refresh token is not in database!",
            "refresh_token_invalid",
        )
        .await;
    }
    app.stop().await;
}

async fn refresh_token_unused_past_its_idle_lifetime_is_expired(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.refresh_ttl = Duration::from_secs(60)).await;
    let session = app.user_session("alice", &[]).await;
    app.clock.advance(Duration::from_secs(61));
    let response = refresh_with(&app, session.refresh.as_deref().unwrap()).await;
    assert_error(
        response,
        403,
        "Refresh token was expired. Please make a new signin request",
        "refresh_token_expired",
    )
    .await;
    app.stop().await;
}

async fn each_refresh_restarts_the_idle_lifetime(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.refresh_ttl = Duration::from_secs(60)).await;
    let session = app.user_session("alice", &[]).await;
    app.clock.advance(Duration::from_secs(40));
    let second = refreshed(&app, session.refresh.as_deref().unwrap()).await;
    // 80 s after signin, but only 40 s after the last refresh.
    app.clock.advance(Duration::from_secs(40));
    let third = refreshed(&app, second["refreshToken"].as_str().unwrap()).await;
    app.clock.advance(Duration::from_secs(61));
    let response = refresh_with(&app, third["refreshToken"].as_str().unwrap()).await;
    assert_error(
        response,
        403,
        "Refresh token was expired. Please make a new signin request",
        "refresh_token_expired",
    )
    .await;
    app.stop().await;
}

async fn session_ends_at_its_absolute_lifetime_however_often_refreshed(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.refresh_ttl = Duration::from_secs(60);
        s.session_ttl = Duration::from_secs(100);
    })
    .await;
    let session = app.user_session("alice", &[]).await;
    let mut token = session.refresh.clone().unwrap();
    for _ in 0..2 {
        app.clock.advance(Duration::from_secs(40));
        token = refreshed(&app, &token).await["refreshToken"]
            .as_str()
            .unwrap()
            .to_string();
    }
    // 101 s after signin: the last token is 21 s old, well within its idle lifetime.
    app.clock.advance(Duration::from_secs(21));
    let response = refresh_with(&app, &token).await;
    assert_error(
        response,
        403,
        "Refresh token was expired. Please make a new signin request",
        "refresh_token_expired",
    )
    .await;
    app.stop().await;
}

async fn spent_token_within_the_reuse_interval_gets_the_current_successor(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let first = session.refresh.clone().unwrap();
    let successor = refreshed(&app, &first).await["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();

    app.clock.advance(Duration::from_secs(5));
    let again = refreshed(&app, &first).await;
    assert_eq!(
        again["refreshToken"], successor,
        "the same successor, not another rotation"
    );
    assert_eq!(
        user_content_status(&app, again["accessToken"].as_str().unwrap()).await,
        200,
        "a new working access token"
    );

    // The successor was not spent by that: it rotates normally, and the first token,
    // still within its interval, now yields the session's current token.
    let current = refreshed(&app, &successor).await["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(current, successor);
    let third = refreshed(&app, &first).await;
    assert_eq!(third["refreshToken"], current.as_str());
    app.stop().await;
}

async fn spent_token_after_the_reuse_interval_is_reuse_and_revokes_the_session(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let other_session = app.signin("alice", PASSWORD).await;
    let first = session.refresh.clone().unwrap();
    let rotated = refreshed(&app, &first).await;
    let newest = rotated["refreshToken"].as_str().unwrap();
    let newest_access = rotated["accessToken"].as_str().unwrap();
    assert_eq!(user_content_status(&app, newest_access).await, 200);

    app.clock.advance(Duration::from_secs(11));
    let reuse = refresh_with(&app, &first).await;
    assert_error(
        reuse,
        403,
        "Refresh token was already used. Please make a new signin request",
        "refresh_token_reused",
    )
    .await;

    // The whole session is gone: its newest refresh token and every access token.
    assert_error(
        refresh_with(&app, newest).await,
        403,
        "Refresh token is not in database!",
        "refresh_token_invalid",
    )
    .await;
    for access in [newest_access, session.access.as_deref().unwrap()] {
        let response = app
            .get_with(
                "/api/test/user",
                ("Authorization", &format!("Bearer {access}")),
            )
            .await;
        assert_error(response, 401, "Unauthorized!", "invalid_token").await;
    }
    // Another session of the same user is not that session.
    assert_eq!(
        user_content_status(&app, other_session.access.as_deref().unwrap()).await,
        200
    );
    refreshed(&app, other_session.refresh.as_deref().unwrap()).await;
    app.stop().await;
}

async fn with_a_zero_reuse_interval_any_second_use_is_reuse(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.refresh_reuse_interval = Duration::ZERO).await;
    let session = app.user_session("alice", &[]).await;
    let first = session.refresh.clone().unwrap();
    let newest = refreshed(&app, &first).await["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        refresh_with(&app, &first).await,
        403,
        "Refresh token was already used. Please make a new signin request",
        "refresh_token_reused",
    )
    .await;
    assert_eq!(refresh_with(&app, &newest).await.status(), 403);
    app.stop().await;
}

async fn concurrent_refreshes_with_one_token_all_get_the_same_successor(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let first = session.refresh.clone().unwrap();
    let responses = join_all((0..16).map(|_| refresh_with(&app, &first))).await;
    let mut bodies = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        bodies.push(response.json::<Value>().await.unwrap());
    }
    let successors: HashSet<&str> = bodies
        .iter()
        .map(|b| b["refreshToken"].as_str().unwrap())
        .collect();
    assert_eq!(successors.len(), 1, "one rotation: {successors:?}");
    let successor = *successors.iter().next().unwrap();
    assert_ne!(successor, first);
    for body in &bodies {
        assert_eq!(
            user_content_status(&app, body["accessToken"].as_str().unwrap()).await,
            200
        );
    }
    // The shared successor is live and unspent.
    let next = refreshed(&app, successor).await;
    assert_ne!(next["refreshToken"], successor);
    app.stop().await;
}

async fn with_a_zero_reuse_interval_exactly_one_concurrent_refresh_succeeds(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.refresh_reuse_interval = Duration::ZERO).await;
    let session = app.user_session("alice", &[]).await;
    let first = session.refresh.clone().unwrap();
    let responses = join_all((0..16).map(|_| refresh_with(&app, &first))).await;
    let mut ok = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => ok += 1,
            403 => {
                let body: Value = response.json().await.unwrap();
                assert!(
                    body["code"] == "refresh_token_reused"
                        || body["code"] == "refresh_token_invalid",
                    "{body}"
                );
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 1, "exactly one caller gets 200");
    app.stop().await;
}

async fn cookie_delivery_signin_answers_only_the_user_and_sets_cookies(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.token_delivery = TokenDelivery::Cookie).await;
    let id = app.create_user("alice", &[]).await;
    let session = app.signin("alice", PASSWORD).await;
    assert_eq!(
        session.body,
        json!({"id": id, "username": "alice", "email": "alice@example.com", "roles": ["ROLE_USER"]})
    );
    let access = &session.cookies["portcullis_access"].value;
    assert!(!session.cookies["portcullis_refresh"].value.is_empty());
    let user = app
        .get_with(
            "/api/test/user",
            ("Cookie", &format!("portcullis_access={access}")),
        )
        .await;
    assert_eq!(user.status(), 200);
    app.stop().await;
}

async fn cookie_delivery_body_refresh_returns_no_token(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.token_delivery = TokenDelivery::Cookie).await;
    let session = app.user_session("alice", &[]).await;
    let old_refresh = session.cookies["portcullis_refresh"].value.clone();
    let response = refresh_with(&app, &old_refresh).await;
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(response.headers());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "Token refreshed.", "expiresIn": 900})
    );
    assert!(!cookies["portcullis_access"].value.is_empty());
    let new_refresh = &cookies["portcullis_refresh"].value;
    assert!(!new_refresh.is_empty());
    assert_ne!(new_refresh, &old_refresh);
    app.stop().await;
}

async fn body_delivery_never_sets_cookies(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.token_delivery = TokenDelivery::Body).await;
    app.create_user("alice", &[]).await;
    let signin = app.signin_raw("alice", PASSWORD).await;
    assert_eq!(signin.status(), 200);
    assert!(signin.headers().get("set-cookie").is_none());
    let session = Session::from_response(signin).await;
    let refresh = session.refresh.clone().expect("refresh token in the body");
    assert!(session.access.is_some());

    let response = refresh_with(&app, &refresh).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
    let body: Value = response.json().await.unwrap();
    let newest = body["refreshToken"].as_str().unwrap();

    // Nor are cookies read for refresh.
    let from_cookie = app
        .client
        .post(app.url(REFRESH))
        .header("Cookie", format!("portcullis_refresh={newest}"))
        .send()
        .await
        .unwrap();
    assert_error(
        from_cookie,
        403,
        "Refresh Token is required!",
        "refresh_token_required",
    )
    .await;

    let signout = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Authorization", session.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(signout.status(), 200);
    assert!(signout.headers().get("set-cookie").is_none());
    app.stop().await;
}
