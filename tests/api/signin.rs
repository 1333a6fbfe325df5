//! POST /api/auth/signin: the success body, the three indistinguishable failures, and
//! throttling by account and by client (docs/API.md §1).
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    signin_answers_the_documented_body_and_is_never_cached,
    signin_lists_every_role_of_the_account,
    unknown_user_wrong_password_and_disabled_account_look_the_same,
    signin_by_email_ignores_case,
    repeated_failures_throttle_the_account_even_with_the_right_password,
    unknown_usernames_are_throttled_like_known_ones,
    repeated_failures_from_one_client_throttle_every_username,
    the_right_password_works_again_once_the_window_has_passed,
    a_successful_signin_resets_the_accounts_failure_count,
);

const INVALID: &str = "Invalid username or password!";
const TOO_MANY: &str = "Too many failed sign-in attempts. Try again later.";

fn window_secs(app: &TestApp) -> u64 {
    app.settings.throttle_window.as_secs()
}

/// Asserts the exact 401 of a failed sign-in.
async fn assert_invalid_credentials(response: reqwest::Response, context: &str) {
    assert_eq!(response.status(), 401, "{context}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": INVALID, "code": "invalid_credentials", "accessToken": null}),
        "{context}"
    );
}

/// Asserts the exact 429 and returns its Retry-After, checked to be 1..=`max_secs`.
async fn assert_throttled(response: reqwest::Response, max_secs: u64, context: &str) -> u64 {
    assert_eq!(response.status(), 429, "{context}");
    let retry_after = response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{context}: Retry-After"))
        .to_str()
        .unwrap()
        .to_string();
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("{context}: Retry-After {retry_after:?} is whole seconds"));
    assert!(
        (1..=max_secs).contains(&seconds),
        "{context}: Retry-After {seconds} within 1..={max_secs}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": TOO_MANY, "code": "too_many_attempts"}),
        "{context}"
    );
    seconds
}

async fn signin_answers_the_documented_body_and_is_never_cached(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let id = app.create_user("alice", &[]).await;
    let response = app.signin_raw("alice", PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = response.json().await.unwrap();

    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "username",
            "email",
            "roles",
            "accessToken",
            "refreshToken",
            "tokenType",
            "expiresIn"
        ]),
        "{body}"
    );
    assert!(body["id"].is_i64(), "id is a number: {body}");
    assert_eq!(body["id"], id);
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["roles"], json!(["ROLE_USER"]));
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], 900);
    let access = body["accessToken"].as_str().expect("accessToken");
    assert_eq!(access.split('.').count(), 3, "a JWT: {access}");
    let refresh = body["refreshToken"].as_str().expect("refreshToken");
    assert!(refresh.len() >= 22, "at least 128 bits: {refresh}");
    assert!(!access.contains(refresh) && refresh != access);

    // What it hands out works.
    let content = app
        .get_with(
            "/api/test/user",
            ("Authorization", &format!("Bearer {access}")),
        )
        .await;
    assert_eq!(content.status(), 200);
    app.stop().await;
}

async fn signin_lists_every_role_of_the_account(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app
        .user_session("root", &[Role::Moderator, Role::Admin])
        .await;
    let roles: BTreeSet<&str> = session.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        BTreeSet::from(["ROLE_USER", "ROLE_MODERATOR", "ROLE_ADMIN"])
    );
    assert_eq!(session.body["roles"].as_array().unwrap().len(), 3);
    app.stop().await;
}

/// Status, body and headers, but for the per-request id and the date.
async fn observable(response: reqwest::Response) -> (u16, BTreeMap<String, Vec<String>>, String) {
    let status = response.status().as_u16();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in response.headers() {
        if name == "x-request-id" || name == "date" {
            continue;
        }
        headers
            .entry(name.to_string())
            .or_default()
            .push(value.to_str().unwrap().to_string());
    }
    (status, headers, response.text().await.unwrap())
}

async fn unknown_user_wrong_password_and_disabled_account_look_the_same(db: DbKind) {
    let app = TestApp::spawn(db).await;
    app.create_user("alice", &[]).await;
    let carol = app.create_user("carol", &[]).await;
    let state = app.state();
    portcullis::store::users::set_disabled(&state.db, carol, true, app.clock.now_ms())
        .await
        .unwrap();
    state.cache.user_changed(carol).await;

    let cases = [
        ("unknown user", "nobody", PASSWORD),
        ("unknown email", "nobody@example.com", PASSWORD),
        ("wrong password", "alice", "not the right password"),
        (
            "wrong password by email",
            "alice@example.com",
            "nope nope nope",
        ),
        ("disabled account, right password", "carol", PASSWORD),
        (
            "disabled account, wrong password",
            "carol",
            "not the right password",
        ),
    ];
    let mut first: Option<(u16, BTreeMap<String, Vec<String>>, String)> = None;
    for (why, login, password) in cases {
        let before = state.hasher.verifications();
        let response = app.signin_raw(login, password).await;
        assert_eq!(
            state.hasher.verifications() - before,
            1,
            "{why}: exactly one password verification"
        );
        let seen = observable(response).await;
        assert_eq!(seen.0, 401, "{why}");
        let body: Value = serde_json::from_str(&seen.2).unwrap();
        assert_eq!(
            body,
            json!({"message": INVALID, "code": "invalid_credentials", "accessToken": null}),
            "{why}"
        );
        assert!(!seen.1.contains_key("set-cookie"), "{why}: {:?}", seen.1);
        match &first {
            None => first = Some(seen),
            Some(reference) => assert_eq!(&seen, reference, "{why} differs from unknown user"),
        }
    }
    let (_, headers, _) = first.unwrap();
    assert_eq!(headers["cache-control"], ["no-store"]);

    // alice herself is fine.
    app.signin("alice", PASSWORD).await;
    app.stop().await;
}

async fn signin_by_email_ignores_case(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let id = app.create_user("alice", &[]).await;
    for login in ["alice@example.com", "ALICE@Example.COM", "ALICE"] {
        let session = app.signin(login, PASSWORD).await;
        assert_eq!(session.body["id"], id, "{login}");
        assert_eq!(session.body["username"], "alice", "{login}");
    }
    assert_invalid_credentials(
        app.signin_raw("alice@example.com", "wrong password here")
            .await,
        "wrong password by email",
    )
    .await;
    app.stop().await;
}

async fn repeated_failures_throttle_the_account_even_with_the_right_password(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_account_failures = 3).await;
    app.create_user("alice", &[]).await;
    app.create_user("bob", &[]).await;
    for attempt in 1..=3 {
        let response = app.signin_raw("alice", "wrong password here").await;
        assert_invalid_credentials(response, &format!("failure {attempt}")).await;
    }
    let window = window_secs(&app);
    let response = app.signin_raw("alice", PASSWORD).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().get("set-cookie").is_none());
    assert_throttled(response, window, "right password after 3 failures").await;
    // The username is the same whatever its case.
    let response = app.signin_raw("ALICE", PASSWORD).await;
    assert_throttled(response, window, "ALICE").await;
    // Other accounts from the same client are not affected.
    app.signin("bob", PASSWORD).await;

    // Retry-After counts down from the first failure.
    app.clock.advance(Duration::from_secs(window / 2));
    let response = app.signin_raw("alice", PASSWORD).await;
    let left = assert_throttled(response, window - window / 2, "half-way").await;
    assert!(left + 1 >= window - window / 2, "{left} s left half-way");
    app.stop().await;
}

async fn unknown_usernames_are_throttled_like_known_ones(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_account_failures = 3).await;
    app.create_user("alice", &[]).await;
    for attempt in 1..=3 {
        assert_invalid_credentials(
            app.signin_raw("alice", "wrong password here").await,
            &format!("alice failure {attempt}"),
        )
        .await;
        assert_invalid_credentials(
            app.signin_raw("ghost", "wrong password here").await,
            &format!("ghost failure {attempt}"),
        )
        .await;
    }
    let window = window_secs(&app);
    let known = observable(app.signin_raw("alice", PASSWORD).await).await;
    let unknown = observable(app.signin_raw("ghost", PASSWORD).await).await;
    assert_eq!(unknown.0, 429);
    let body: Value = serde_json::from_str(&unknown.2).unwrap();
    assert_eq!(
        body,
        json!({"message": TOO_MANY, "code": "too_many_attempts"})
    );
    let retry_after: u64 = unknown.1["retry-after"][0].parse().unwrap();
    assert!((1..=window).contains(&retry_after));
    assert_eq!(
        known, unknown,
        "a 429 says nothing about whether the account exists"
    );
    app.stop().await;
}

async fn repeated_failures_from_one_client_throttle_every_username(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_client_failures = 5).await;
    app.create_user("alice", &[]).await;
    app.create_user("bob", &[]).await;
    for i in 0..5 {
        let login = if i == 0 {
            "alice".to_string()
        } else {
            format!("stranger{i}")
        };
        assert_invalid_credentials(app.signin_raw(&login, "wrong password here").await, &login)
            .await;
    }
    let window = window_secs(&app);
    // Yet another username, with its right password, from the same address.
    let response = app.signin_raw("bob", PASSWORD).await;
    assert_throttled(response, window, "bob after 5 failures from this client").await;
    let response = app.signin_raw("newcomer", "whatever it may be").await;
    assert_throttled(response, window, "an unknown username").await;

    app.clock
        .advance(app.settings.throttle_window + Duration::from_secs(1));
    app.signin("bob", PASSWORD).await;
    app.stop().await;
}

async fn the_right_password_works_again_once_the_window_has_passed(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.throttle_account_failures = 3;
        s.throttle_window = Duration::from_secs(600);
    })
    .await;
    app.create_user("alice", &[]).await;
    // Twice over: nothing locks the account for good.
    for round in 1..=2 {
        for attempt in 1..=3 {
            assert_invalid_credentials(
                app.signin_raw("alice", "wrong password here").await,
                &format!("round {round}, failure {attempt}"),
            )
            .await;
        }
        let response = app.signin_raw("alice", PASSWORD).await;
        assert_throttled(response, 600, &format!("round {round}")).await;

        app.clock.advance(Duration::from_secs(590));
        let response = app.signin_raw("alice", PASSWORD).await;
        assert_throttled(response, 10, &format!("round {round}, 10 s before the end")).await;

        app.clock.advance(Duration::from_secs(11));
        app.signin("alice", PASSWORD).await;
    }
    app.stop().await;
}

async fn a_successful_signin_resets_the_accounts_failure_count(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_account_failures = 3).await;
    app.create_user("alice", &[]).await;
    for attempt in 1..=2 {
        assert_invalid_credentials(
            app.signin_raw("alice", "wrong password here").await,
            &format!("failure {attempt} before"),
        )
        .await;
    }
    app.signin("alice", PASSWORD).await;
    for attempt in 1..=2 {
        assert_invalid_credentials(
            app.signin_raw("alice", "wrong password here").await,
            &format!("failure {attempt} after"),
        )
        .await;
    }
    // Four failures in the window, but only two since the success.
    app.signin("alice", PASSWORD).await;

    // The count still works after a reset.
    for attempt in 1..=3 {
        assert_invalid_credentials(
            app.signin_raw("alice", "wrong password here").await,
            &format!("failure {attempt} of the last run"),
        )
        .await;
    }
    let window = window_secs(&app);
    assert_throttled(app.signin_raw("alice", PASSWORD).await, window, "after 3").await;
    app.stop().await;
}

on_every_database!(username_and_email_share_one_failure_budget);

/// Failures by username and by email are one account's failures: two login forms are not
/// two budgets.
async fn username_and_email_share_one_failure_budget(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_account_failures = 4).await;
    app.create_user("budget", &[]).await;
    for login in [
        "budget",
        "budget@example.com",
        "BUDGET",
        "Budget@Example.com",
    ] {
        assert_eq!(
            app.signin_raw(login, "wrong password here").await.status(),
            401
        );
    }
    assert_eq!(
        app.signin_raw("budget@example.com", PASSWORD)
            .await
            .status(),
        429
    );
    assert_eq!(app.signin_raw("budget", PASSWORD).await.status(), 429);
    app.stop().await;
}
