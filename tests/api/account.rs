//! The signed-in user's own account (docs/API.md §2): /api/auth/me, /policy, /password,
//! /sessions and /signout-all.
use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    me_answers_the_signed_in_account,
    me_without_a_valid_token_is_401,
    policy_describes_the_signup_rules_to_anyone,
    policy_follows_the_configured_password_minimum,
    policy_username_pattern_accepts_and_refuses_like_signup,
    account_routes_need_a_signed_in_user,
    changing_the_password_ends_every_other_session_and_keeps_this_one,
    wrong_current_password_is_refused_and_changes_nothing,
    new_password_must_follow_the_signup_rules,
    sessions_lists_this_accounts_live_sessions_newest_first,
    sessions_past_their_idle_or_absolute_lifetime_are_not_listed,
    ending_a_session_stops_its_tokens_at_once,
    ending_a_session_that_is_not_ours_is_404_and_ends_nothing,
    signout_all_ends_every_session_and_clears_the_cookies,
);

const ME: &str = "/api/auth/me";
const POLICY: &str = "/api/auth/policy";
const PASSWORD_ROUTE: &str = "/api/auth/password";
const SESSIONS: &str = "/api/auth/sessions";
const SIGNOUT_ALL: &str = "/api/auth/signout-all";
const NEW_PASSWORD: &str = "violet tugboat under moonlight";

/// The session id (`sid` claim) of an access token.
fn session_id(access: &str) -> String {
    let payload = access.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON claims");
    claims["sid"].as_str().expect("sid claim").to_string()
}

async fn user_content_status(app: &TestApp, session: &Session) -> u16 {
    get_as(app, "/api/test/user", session)
        .await
        .status()
        .as_u16()
}

async fn change_password(
    app: &TestApp,
    session: &Session,
    current: &str,
    new: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(PASSWORD_ROUTE))
        .header("Authorization", session.bearer())
        .json(&json!({"currentPassword": current, "newPassword": new}))
        .send()
        .await
        .unwrap()
}

async fn signin_with_agent(app: &TestApp, username: &str, agent: &str) -> Session {
    let response = app
        .client
        .post(app.url("/api/auth/signin"))
        .header("User-Agent", agent)
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    Session::from_response(response).await
}

async fn list_sessions(app: &TestApp, session: &Session) -> Vec<Value> {
    let response = get_as(app, SESSIONS, session).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(keys(&body), HashSet::from(["items"]), "{body}");
    body["items"].as_array().unwrap().clone()
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().expect("string id").to_string())
        .collect()
}

async fn end_session(app: &TestApp, session: &Session, id: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("{SESSIONS}/{id}")))
        .header("Authorization", session.bearer())
        .send()
        .await
        .unwrap()
}

async fn me_answers_the_signed_in_account(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let before = portcullis::clock::rfc3339(app.clock.now_ms());
    let id = app.create_user("Alice", &[Role::Moderator]).await;
    let after = portcullis::clock::rfc3339(app.clock.now_ms());
    app.create_user("bob", &[]).await;
    let session = app.signin("alice", PASSWORD).await;

    let response = get_as(&app, ME, &session).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        keys(&body),
        HashSet::from([
            "id",
            "username",
            "email",
            "roles",
            "createdAt",
            "emailVerified",
            // Issue 25: where the account stands beyond its roles.
            "groups",
            "permissions"
        ]),
        "{body}"
    );
    assert_eq!(body["groups"], json!([]));
    assert_eq!(body["permissions"], json!([]));
    assert_eq!(body["id"], id);
    assert_eq!(body["username"], "Alice");
    assert_eq!(body["email"], "Alice@example.com");
    assert_eq!(body["roles"], json!(["ROLE_USER", "ROLE_MODERATOR"]));
    assert_eq!(body["emailVerified"], false, "no link was followed");
    let created = body["createdAt"].as_str().unwrap();
    assert!(is_rfc3339_millis(created), "{created}");
    assert!(
        before.as_str() <= created && created <= after.as_str(),
        "{before} <= {created} <= {after}"
    );
    app.stop().await;
}

async fn me_without_a_valid_token_is_401(db: DbKind) {
    let app = TestApp::spawn(db).await;
    assert_error(
        app.get(ME).await,
        401,
        "No token provided!",
        "unauthenticated",
    )
    .await;
    let bad = app
        .get_with(ME, ("Authorization", "Bearer not.a.token"))
        .await;
    assert_error(bad, 401, "Unauthorized!", "invalid_token").await;
    app.stop().await;
}

async fn policy_describes_the_signup_rules_to_anyone(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let response = app.get(POLICY).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "username": {"minLength": 3, "maxLength": 20, "pattern": "^[A-Za-z0-9._-]{3,20}$"},
            "email": {"maxLength": 254},
            "password": {"minLength": 8, "maxLength": 128},
            "mail": {"enabled": false, "requireVerifiedEmail": false, "magicLinks": false},
            "passkeys": true,
            // Issue 27: off unless PORTCULLIS_PASSKEY_SIGNUP.
            "passkeySignup": false,
        })
    );
    // A bad token does not matter to a route that needs none.
    let with_bad_token = app
        .get_with(POLICY, ("Authorization", "Bearer not.a.token"))
        .await;
    assert_eq!(with_bad_token.status(), 200);
    assert_eq!(with_bad_token.json::<Value>().await.unwrap(), body);
    app.stop().await;
}

async fn policy_follows_the_configured_password_minimum(db: DbKind) {
    let app = TestApp::spawn_with(db.clone(), |s| s.password_min_length = 12).await;
    let body: Value = app.get(POLICY).await.json().await.unwrap();
    assert_eq!(body["password"], json!({"minLength": 12, "maxLength": 128}));
    // Signup agrees with what the policy says.
    let eleven = app
        .signup("alice", "alice@example.com", "violet tug1")
        .await;
    assert_eq!(eleven.status(), 400);
    let twelve = app
        .signup("alice", "alice@example.com", "violet tug12")
        .await;
    assert_eq!(twelve.status(), 201);
    app.stop().await;

    // Never below 8.
    let app = TestApp::spawn_with(db, |s| s.password_min_length = 4).await;
    let body: Value = app.get(POLICY).await.json().await.unwrap();
    assert_eq!(body["password"]["minLength"], 8);
    let seven = app.signup("alice", "alice@example.com", "vio7tug").await;
    assert_eq!(seven.status(), 400);
    app.stop().await;
}

/// A matcher for patterns of the form `^[class]{min,max}$`, the form the policy publishes;
/// panics on any other form, so a changed pattern is noticed rather than misread.
fn pattern_matcher(pattern: &str) -> impl Fn(&str) -> bool {
    let inner = pattern
        .strip_prefix("^[")
        .and_then(|p| p.strip_suffix('$'))
        .unwrap_or_else(|| panic!("unexpected pattern form: {pattern}"));
    let (class, quantifier) = inner.split_once("]{").expect("class and quantifier");
    let (min, max) = quantifier
        .strip_suffix('}')
        .and_then(|q| q.split_once(','))
        .expect("{min,max}");
    let (min, max): (usize, usize) = (min.parse().unwrap(), max.parse().unwrap());
    let chars: Vec<char> = class.chars().collect();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        assert_ne!(chars[i], '\\', "escapes are not expected in {pattern}");
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            ranges.push((chars[i], chars[i + 2]));
            i += 3;
        } else {
            ranges.push((chars[i], chars[i]));
            i += 1;
        }
    }
    move |text: &str| {
        let n = text.chars().count();
        (min..=max).contains(&n)
            && text
                .chars()
                .all(|c| ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi))
    }
}

async fn policy_username_pattern_accepts_and_refuses_like_signup(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let body: Value = app.get(POLICY).await.json().await.unwrap();
    let pattern = body["username"]["pattern"].as_str().unwrap();
    let matches = pattern_matcher(pattern);
    let candidates = [
        "abc",
        "ab",
        "Alice.B_c-9",
        "x1234567890123456789",
        "x12345678901234567890",
        "al ice",
        "al@ice",
        "ålice",
        "a+b",
        "-_-",
        "ZZZ",
        "tab\there",
        "quote'd",
    ];
    let mut accepted = 0;
    for (n, candidate) in candidates.iter().enumerate() {
        let response = app
            .signup(candidate, &format!("u{n}@example.com"), PASSWORD)
            .await;
        let status = response.status().as_u16();
        if matches(candidate) {
            accepted += 1;
            assert_eq!(status, 201, "{candidate:?} matches {pattern}");
        } else {
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                status, 400,
                "{candidate:?} does not match {pattern}: {body}"
            );
            assert!(
                body["message"].as_str().unwrap().contains("username"),
                "{body}"
            );
        }
    }
    assert!(
        accepted >= 4 && accepted < candidates.len(),
        "both kinds tried"
    );
    app.stop().await;
}

async fn account_routes_need_a_signed_in_user(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let cases = [
        app.client.get(app.url(SESSIONS)),
        app.client
            .delete(app.url(&format!("{SESSIONS}/abcdefghijklmnopqrstuv"))),
        app.client.post(app.url(SIGNOUT_ALL)),
        app.client
            .post(app.url(PASSWORD_ROUTE))
            .json(&json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})),
    ];
    for request in cases {
        let response = request.send().await.unwrap();
        assert_error(response, 401, "No token provided!", "unauthenticated").await;
    }
    app.stop().await;
}

async fn changing_the_password_ends_every_other_session_and_keeps_this_one(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let current = app.user_session("alice", &[]).await;
    let other = app.signin("alice", PASSWORD).await;
    let third = app.signin("alice@example.com", PASSWORD).await;
    let bob = app.user_session("bob", &[]).await;
    // Each session has been seen (and cached) before the change.
    for s in [&current, &other, &third, &bob] {
        assert_eq!(user_content_status(&app, s).await, 200);
    }

    let response = change_password(&app, &current, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].is_string(), "{body}");

    assert_error(
        app.signin_raw("alice", PASSWORD).await,
        401,
        "Invalid username or password!",
        "invalid_credentials",
    )
    .await;
    app.signin("alice", NEW_PASSWORD).await;

    for ended in [&other, &third] {
        assert_session_ended(&app, ended).await;
    }
    // The session that changed it goes on, and so does another account's.
    assert_eq!(user_content_status(&app, &current).await, 200);
    assert_eq!(refresh_status(&app, &current).await.0, 200);
    assert_eq!(user_content_status(&app, &bob).await, 200);
    app.stop().await;
}

async fn wrong_current_password_is_refused_and_changes_nothing(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let current = app.user_session("alice", &[]).await;
    let other = app.signin("alice", PASSWORD).await;

    let response = change_password(&app, &current, "not my password at all", NEW_PASSWORD).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "wrong_password", "{body}");
    assert!(body["message"].is_string(), "{body}");

    app.signin("alice", PASSWORD).await;
    assert_eq!(
        app.signin_raw("alice", NEW_PASSWORD).await.status(),
        401,
        "the new password was not set"
    );
    assert_eq!(user_content_status(&app, &other).await, 200);
    assert_eq!(refresh_status(&app, &other).await.0, 200);
    app.stop().await;
}

async fn new_password_must_follow_the_signup_rules(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let current = app.user_session("alice", &[]).await;
    let other = app.signin("alice", PASSWORD).await;

    let too_short = change_password(&app, &current, PASSWORD, "short7!").await;
    let body = assert_error_code(too_short, 400, "invalid_request").await;
    assert!(
        body["message"].as_str().unwrap().contains("password"),
        "{body}"
    );
    let too_long = change_password(&app, &current, PASSWORD, &"x".repeat(129)).await;
    assert_error_code(too_long, 400, "invalid_request").await;
    let with_name = change_password(&app, &current, PASSWORD, "my name is alice!").await;
    assert_error_code(with_name, 400, "invalid_request").await;
    let common = change_password(&app, &current, PASSWORD, "password123").await;
    assert_error(
        common,
        400,
        "Password is too common.",
        "password_too_common",
    )
    .await;
    // The body itself follows the usual JSON rules.
    let unknown_field = app
        .client
        .post(app.url(PASSWORD_ROUTE))
        .header("Authorization", current.bearer())
        .json(&json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "force": true}))
        .send()
        .await
        .unwrap();
    assert_error_code(unknown_field, 400, "invalid_request").await;
    let missing = app
        .client
        .post(app.url(PASSWORD_ROUTE))
        .header("Authorization", current.bearer())
        .json(&json!({"newPassword": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error_code(missing, 400, "invalid_request").await;

    // Nothing changed.
    app.signin("alice", PASSWORD).await;
    assert_eq!(user_content_status(&app, &other).await, 200);
    app.stop().await;
}

async fn assert_error_code(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    body
}

async fn sessions_lists_this_accounts_live_sessions_newest_first(db: DbKind) {
    let app = TestApp::spawn(db).await;
    app.create_user("alice", &[]).await;
    app.create_user("bob", &[]).await;
    let signed_out = signin_with_agent(&app, "alice", "agent-zero/0").await;
    app.clock.advance(Duration::from_secs(1));
    let first = signin_with_agent(&app, "alice", "agent-one/1").await;
    app.clock.advance(Duration::from_secs(1));
    let second = signin_with_agent(&app, "alice", "agent-two/2").await;
    app.clock.advance(Duration::from_secs(1));
    let anonymous = app.signin("alice", PASSWORD).await;
    let bob = signin_with_agent(&app, "bob", "bob-agent/1").await;
    let signout = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Authorization", signed_out.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(signout.status(), 200);

    let items = list_sessions(&app, &first).await;
    assert_eq!(
        ids_of(&items),
        vec![
            session_id(anonymous.access.as_deref().unwrap()),
            session_id(second.access.as_deref().unwrap()),
            session_id(first.access.as_deref().unwrap()),
        ],
        "newest first, neither bob's nor the signed-out one: {items:?}"
    );
    for item in &items {
        assert_eq!(
            keys(item),
            HashSet::from([
                "id",
                "createdAt",
                "lastUsedAt",
                "userAgent",
                "ip",
                "current",
                "method",
                "secondFactor"
            ]),
            "{item}"
        );
        assert_eq!(item["method"], "password", "{item}");
        assert_eq!(item["secondFactor"], Value::Null, "{item}");
        for field in ["createdAt", "lastUsedAt"] {
            assert!(is_rfc3339_millis(item[field].as_str().unwrap()), "{item}");
        }
        assert_eq!(item["ip"], "127.0.0.1", "{item}");
    }
    let created: Vec<&str> = items
        .iter()
        .map(|i| i["createdAt"].as_str().unwrap())
        .collect();
    assert!(
        created[0] > created[1] && created[1] > created[2],
        "{created:?}"
    );
    assert_eq!(items[0]["userAgent"], Value::Null);
    assert_eq!(items[1]["userAgent"], "agent-two/2");
    assert_eq!(items[2]["userAgent"], "agent-one/1");
    let current: Vec<bool> = items
        .iter()
        .map(|i| i["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, vec![false, false, true], "exactly one current");

    // Asked from another session, that one is current.
    let items = list_sessions(&app, &second).await;
    let current: Vec<bool> = items
        .iter()
        .map(|i| i["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, vec![false, true, false]);

    let bobs = list_sessions(&app, &bob).await;
    assert_eq!(
        ids_of(&bobs),
        vec![session_id(bob.access.as_deref().unwrap())]
    );
    assert_eq!(bobs[0]["userAgent"], "bob-agent/1");
    assert_eq!(bobs[0]["current"], true);
    app.stop().await;
}

async fn sessions_past_their_idle_or_absolute_lifetime_are_not_listed(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.access_ttl = Duration::from_secs(30);
        s.refresh_ttl = Duration::from_secs(60);
        s.session_ttl = Duration::from_secs(150);
    })
    .await;
    app.create_user("alice", &[]).await;
    let idle = app.signin("alice", PASSWORD).await;
    let kept_alive = app.signin("alice", PASSWORD).await;

    // 50 s: the second session refreshes; the first stays idle.
    app.clock.advance(Duration::from_secs(50));
    let (status, body) = refresh_status(&app, &kept_alive).await;
    assert_eq!(status, 200, "{body}");
    // 100 s: the first session has been unused for longer than its idle lifetime.
    app.clock.advance(Duration::from_secs(50));
    let (status, body) = refresh_status(&app, &idle).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "refresh_token_expired", "the session ended");
    let fresh = app.signin("alice", PASSWORD).await;
    let items = list_sessions(&app, &fresh).await;
    assert_eq!(
        ids_of(&items),
        vec![
            session_id(fresh.access.as_deref().unwrap()),
            session_id(kept_alive.access.as_deref().unwrap()),
        ],
        "the idle session is not live: {items:?}"
    );

    // 160 s: the second session is past its absolute lifetime, however refreshed.
    app.clock.advance(Duration::from_secs(40));
    let (status, _) = refresh_status(&app, &fresh).await;
    assert_eq!(status, 200);
    app.clock.advance(Duration::from_secs(20));
    let newest = app.signin("alice", PASSWORD).await;
    let items = list_sessions(&app, &newest).await;
    assert!(
        !ids_of(&items).contains(&session_id(kept_alive.access.as_deref().unwrap())),
        "{items:?}"
    );
    assert_eq!(
        ids_of(&items),
        vec![
            session_id(newest.access.as_deref().unwrap()),
            session_id(fresh.access.as_deref().unwrap()),
        ]
    );
    app.stop().await;
}

async fn ending_a_session_stops_its_tokens_at_once(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let current = app.user_session("alice", &[]).await;
    let doomed = app.signin("alice", PASSWORD).await;
    let kept = app.signin("alice", PASSWORD).await;
    assert_eq!(
        user_content_status(&app, &doomed).await,
        200,
        "cached as live"
    );

    let doomed_id = session_id(doomed.access.as_deref().unwrap());
    let response = end_session(&app, &current, &doomed_id).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());

    assert_session_ended(&app, &doomed).await;
    assert_eq!(user_content_status(&app, &current).await, 200);
    assert_eq!(user_content_status(&app, &kept).await, 200);
    let listed = ids_of(&list_sessions(&app, &current).await);
    assert!(!listed.contains(&doomed_id), "{listed:?}");
    assert_eq!(listed.len(), 2);

    // One may end the very session one is using.
    let current_id = session_id(current.access.as_deref().unwrap());
    assert_eq!(end_session(&app, &current, &current_id).await.status(), 204);
    assert_session_ended(&app, &current).await;
    assert_eq!(user_content_status(&app, &kept).await, 200);
    app.stop().await;
}

async fn ending_a_session_that_is_not_ours_is_404_and_ends_nothing(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    let bob = app.user_session("bob", &[]).await;
    let bob_id = session_id(bob.access.as_deref().unwrap());
    let alice_id = session_id(alice.access.as_deref().unwrap());
    let unknown: String = alice_id.chars().rev().collect();
    assert_ne!(unknown, alice_id);
    for id in [
        bob_id.as_str(),
        unknown.as_str(),
        "AAAAAAAAAAAAAAAAAAAAAA",
        "not%20a%20session",
        "%00",
        "..%2F..%2Fetc",
        "x%27%20OR%20%271%27%3D%271",
        &"a".repeat(300),
    ] {
        let response = end_session(&app, &alice, id).await;
        assert_error(response, 404, "Not found.", "not_found").await;
    }
    assert_eq!(user_content_status(&app, &bob).await, 200);
    assert_eq!(refresh_status(&app, &bob).await.0, 200);
    assert_eq!(user_content_status(&app, &alice).await, 200);
    assert_eq!(list_sessions(&app, &alice).await.len(), 1);
    app.stop().await;
}

async fn signout_all_ends_every_session_and_clears_the_cookies(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let current = app.user_session("alice", &[]).await;
    let other = app.signin("alice", PASSWORD).await;
    let bob = app.user_session("bob", &[]).await;
    assert_eq!(user_content_status(&app, &current).await, 200);
    assert_eq!(user_content_status(&app, &other).await, 200);

    let response = app
        .client
        .post(app.url(SIGNOUT_ALL))
        .header("Authorization", current.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_cleared(&response);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].is_string(), "{body}");

    assert_session_ended(&app, &current).await;
    assert_session_ended(&app, &other).await;
    assert_eq!(user_content_status(&app, &bob).await, 200);
    // The account itself is not locked.
    let again = app.signin("alice", PASSWORD).await;
    assert_eq!(user_content_status(&app, &again).await, 200);
    assert_eq!(list_sessions(&app, &again).await.len(), 1);
    app.stop().await;
}
