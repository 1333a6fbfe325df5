//! POST /api/auth/signout: which session it finds, what stops working, the cleared
//! cookies, and the answer that is always 200 (docs/API.md §1).
use std::time::Duration;

use reqwest::RequestBuilder;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    signout_with_the_bearer_header_ends_that_session_only,
    signout_with_the_x_access_token_header_ends_that_session_only,
    signout_with_the_access_cookie_ends_that_session_only,
    signout_with_the_refresh_token_in_the_body_ends_that_session_only,
    signout_with_the_refresh_cookie_ends_that_session_only,
    signout_ends_every_access_token_of_the_session,
    signout_clears_both_cookies,
    signout_always_answers_200,
    signout_with_an_expired_access_token_still_ends_its_session,
);

const SIGNOUT: &str = "/api/auth/signout";

async fn assert_signed_out(response: reqwest::Response) {
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": "You've been signed out!"}));
}

async fn assert_access_revoked(app: &TestApp, access: &str) {
    let response = app
        .get_with(
            "/api/test/user",
            ("Authorization", &format!("Bearer {access}")),
        )
        .await;
    assert_error(response, 401, "Unauthorized!", "invalid_token").await;
}

async fn assert_refresh_revoked(app: &TestApp, refresh: &str) {
    let response = app
        .post("/api/auth/refreshtoken", json!({ "refreshToken": refresh }))
        .await;
    assert_error(
        response,
        403,
        "Refresh token is not in database!",
        "refresh_token_invalid",
    )
    .await;
}

async fn assert_live(app: &TestApp, session: &Session) {
    let response = app
        .get_with("/api/test/user", ("Authorization", &session.bearer()))
        .await;
    assert_eq!(response.status(), 200);
    let refresh = app
        .post(
            "/api/auth/refreshtoken",
            json!({ "refreshToken": session.refresh.as_deref().unwrap() }),
        )
        .await;
    assert_eq!(refresh.status(), 200);
}

/// Signs out one of two sessions of a user, presenting its credentials with `present`.
async fn signout_ends_that_session_only(
    db: DbKind,
    present: fn(RequestBuilder, &Session) -> RequestBuilder,
) {
    let app = TestApp::spawn(db).await;
    let ending = app.user_session("alice", &[]).await;
    let staying = app.signin("alice", PASSWORD).await;

    let request = present(app.client.post(app.url(SIGNOUT)), &ending);
    assert_signed_out(request.send().await.unwrap()).await;

    assert_access_revoked(&app, ending.access.as_deref().unwrap()).await;
    assert_refresh_revoked(&app, ending.refresh.as_deref().unwrap()).await;
    assert_live(&app, &staying).await;
    app.stop().await;
}

async fn signout_with_the_bearer_header_ends_that_session_only(db: DbKind) {
    signout_ends_that_session_only(db, |r, s| r.header("Authorization", s.bearer())).await
}

async fn signout_with_the_x_access_token_header_ends_that_session_only(db: DbKind) {
    signout_ends_that_session_only(db, |r, s| {
        r.header("x-access-token", s.access.as_deref().unwrap())
    })
    .await
}

async fn signout_with_the_access_cookie_ends_that_session_only(db: DbKind) {
    signout_ends_that_session_only(db, |r, s| {
        let access = &s.cookies["portcullis_access"].value;
        r.header("Cookie", format!("portcullis_access={access}"))
    })
    .await
}

async fn signout_with_the_refresh_token_in_the_body_ends_that_session_only(db: DbKind) {
    signout_ends_that_session_only(db, |r, s| {
        r.json(&json!({ "refreshToken": s.refresh.as_deref().unwrap() }))
    })
    .await
}

async fn signout_with_the_refresh_cookie_ends_that_session_only(db: DbKind) {
    signout_ends_that_session_only(db, |r, s| {
        let refresh = &s.cookies["portcullis_refresh"].value;
        r.header("Cookie", format!("portcullis_refresh={refresh}"))
    })
    .await
}

async fn signout_ends_every_access_token_of_the_session(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let rotated: Value = app
        .post(
            "/api/auth/refreshtoken",
            json!({ "refreshToken": session.refresh.as_deref().unwrap() }),
        )
        .await
        .json()
        .await
        .unwrap();
    let newest_access = rotated["accessToken"].as_str().unwrap();
    let newest_refresh = rotated["refreshToken"].as_str().unwrap();

    // Signing out with the first access token ends the session, not just that token.
    let response = app
        .client
        .post(app.url(SIGNOUT))
        .header("Authorization", session.bearer())
        .send()
        .await
        .unwrap();
    assert_signed_out(response).await;
    assert_access_revoked(&app, session.access.as_deref().unwrap()).await;
    assert_access_revoked(&app, newest_access).await;
    assert_refresh_revoked(&app, newest_refresh).await;
    app.stop().await;
}

async fn signout_clears_both_cookies(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let with_cookies = app
        .client
        .post(app.url(SIGNOUT))
        .header("Cookie", session.cookie_header())
        .send()
        .await
        .unwrap();
    assert_cleared(&with_cookies);
    assert_signed_out(with_cookies).await;

    let without_credentials = app.client.post(app.url(SIGNOUT)).send().await.unwrap();
    assert_cleared(&without_credentials);
    assert_signed_out(without_credentials).await;
    app.stop().await;
}

async fn signout_always_answers_200(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let post = || app.client.post(app.url(SIGNOUT));
    let requests = [
        post(),
        post().json(&json!({})),
        post().header("Authorization", "Bearer garbage"),
        post().header("Authorization", "Basic YWxpY2U6c2VjcmV0"),
        post().header("x-access-token", "garbage"),
        post().header(
            "Cookie",
            "portcullis_access=garbage; portcullis_refresh=garbage",
        ),
        post().json(&json!({"refreshToken": "garbage"})),
        post().json(&json!({"refreshToken": "x".repeat(5000)})),
    ];
    for request in requests {
        assert_signed_out(request.send().await.unwrap()).await;
    }
    // None of that touched the real session.
    assert_live(&app, &session).await;

    // Signing out twice is fine too.
    for _ in 0..2 {
        let response = post()
            .header("Authorization", session.bearer())
            .send()
            .await
            .unwrap();
        assert_signed_out(response).await;
    }
    app.stop().await;
}

async fn signout_with_an_expired_access_token_still_ends_its_session(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let other = app.signin("alice", PASSWORD).await;
    // Past the access lifetime (900 s) and its 10 s leeway.
    app.clock.advance(Duration::from_secs(911));
    let expired = app
        .get_with("/api/test/user", ("Authorization", &session.bearer()))
        .await;
    assert_error(
        expired,
        401,
        "Unauthorized! Access Token was expired!",
        "token_expired",
    )
    .await;

    let response = app
        .client
        .post(app.url(SIGNOUT))
        .header("Authorization", session.bearer())
        .send()
        .await
        .unwrap();
    assert_signed_out(response).await;
    assert_refresh_revoked(&app, session.refresh.as_deref().unwrap()).await;
    // The same time passed for the other session, whose refresh token still works.
    let refresh = app
        .post(
            "/api/auth/refreshtoken",
            json!({ "refreshToken": other.refresh.as_deref().unwrap() }),
        )
        .await;
    assert_eq!(refresh.status(), 200);
    app.stop().await;
}
