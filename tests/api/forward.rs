//! GET /api/auth/forward (issue 15, docs/API.md §2): what a reverse proxy's `auth_request`
//! asks before it lets a request through, on every database.
use portcullis::domain::Role;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    a_live_session_passes_with_the_account_in_headers,
    no_session_or_an_ended_one_is_401_and_a_missing_role_403,
);

const FORWARD: &str = "/api/auth/forward";

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

async fn a_live_session_passes_with_the_account_in_headers(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[Role::Moderator]).await;
    let response = get_as(&app, FORWARD, &alice).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-portcullis-user").as_deref(),
        Some("alice")
    );
    assert_eq!(
        header(&response, "x-portcullis-user-id"),
        Some(alice.body["id"].to_string())
    );
    assert_eq!(
        header(&response, "x-portcullis-roles").as_deref(),
        Some("user,moderator")
    );
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(response.text().await.unwrap(), "");

    // A browser's cookies do as well as a header.
    let response = app
        .get_with(FORWARD, ("Cookie", &alice.cookie_header()))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-portcullis-user").as_deref(),
        Some("alice")
    );

    // Roles: the one asked for, or admin, which passes every check.
    let response = get_as(&app, &format!("{FORWARD}?role=moderator"), &alice).await;
    assert_eq!(response.status(), 200);
    let root = app.user_session("root", &[Role::Admin]).await;
    let response = get_as(&app, &format!("{FORWARD}?role=moderator"), &root).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-portcullis-roles").as_deref(),
        Some("user,admin")
    );
    app.stop().await;
}

async fn no_session_or_an_ended_one_is_401_and_a_missing_role_403(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let response = app.get(FORWARD).await;
    assert_error(response, 401, "No token provided!", "unauthenticated").await;
    let response = app
        .get_with(FORWARD, ("Authorization", "Bearer not.a.token"))
        .await;
    assert_eq!(response.status(), 401);
    assert!(header(&response, "x-portcullis-user").is_none());

    let bob = app.user_session("bob", &[]).await;
    let response = get_as(&app, &format!("{FORWARD}?role=admin"), &bob).await;
    assert_eq!(response.status(), 403);
    assert!(header(&response, "x-portcullis-user").is_none());
    let response = get_as(&app, &format!("{FORWARD}?role=root"), &bob).await;
    assert_error(
        response,
        400,
        "role must be user, moderator or admin.",
        "invalid_request",
    )
    .await;
    let response = get_as(&app, &format!("{FORWARD}?other=1"), &bob).await;
    assert_eq!(response.status(), 400);

    let response = post_as(&app, "/api/auth/signout", &bob, json!({})).await;
    assert_eq!(response.status(), 200);
    let response = get_as(&app, FORWARD, &bob).await;
    assert_eq!(response.status(), 401, "an ended session no longer passes");
    app.stop().await;
}
