//! GET /api/admin/audit (docs/API.md §2): the shape, paging, every event with its outcome and
//! its actor and subject, and that no password or token is ever recorded.
use std::collections::HashSet;
use std::time::Duration;

use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    audit_items_have_the_documented_shape_newest_first,
    audit_limit_bounds_the_count_and_before_pages_back,
    audit_refuses_bad_paging,
    signup_is_recorded_ok_and_failed,
    signin_is_recorded_ok_and_failed,
    throttled_signin_is_recorded,
    refresh_and_refresh_reuse_are_recorded,
    signout_and_signout_all_are_recorded,
    ending_a_session_is_recorded,
    password_changes_are_recorded_ok_and_failed,
    admin_actions_are_recorded_with_the_admin_as_actor,
    the_trail_never_holds_a_password_or_a_token,
);

const AUDIT: &str = "/api/admin/audit";

/// The audit items for `query` (e.g. "?limit=5"), which must be answered.
async fn audit(app: &TestApp, admin: &Session, query: &str) -> Vec<Value> {
    let response = app
        .get_with(
            &format!("{AUDIT}{query}"),
            ("Authorization", &admin.bearer()),
        )
        .await;
    assert_eq!(response.status(), 200, "GET {AUDIT}{query}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(keys(&body), HashSet::from(["items"]), "{body}");
    body["items"].as_array().unwrap().clone()
}

/// The most recent event.
async fn newest(app: &TestApp, admin: &Session) -> Value {
    audit(app, admin, "?limit=1")
        .await
        .into_iter()
        .next()
        .expect("an event")
}

fn id_list(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

/// Asserts event, outcome, actor and subject of one audit item.
#[track_caller]
fn assert_event(
    item: &Value,
    event: &str,
    outcome: &str,
    actor: Option<i64>,
    subject: Option<i64>,
) {
    assert_eq!(item["event"], event, "{item}");
    assert_eq!(item["outcome"], outcome, "{item}");
    assert_eq!(item["actorId"], json!(actor), "actor of {item}");
    assert_eq!(item["subjectId"], json!(subject), "subject of {item}");
}

fn user_id(session: &Session) -> i64 {
    session.body["id"].as_i64().expect("signin body has the id")
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/api/auth/refreshtoken", json!({ "refreshToken": token }))
        .await
}

async fn patch(app: &TestApp, admin: &Session, id: i64, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/admin/users/{id}")))
        .header("Authorization", admin.bearer())
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn audit_items_have_the_documented_shape_newest_first(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let before = portcullis::clock::rfc3339(app.clock.now_ms());
    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("User-Agent", "audit-agent/1.0")
        .json(&json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let alice = app.signin("alice", PASSWORD).await;
    let after = portcullis::clock::rfc3339(app.clock.now_ms());

    let items = audit(&app, &admin, "").await;
    assert_eq!(items.len(), 3, "{items:?}");
    for item in &items {
        assert_eq!(
            keys(item),
            HashSet::from([
                "id",
                "at",
                "event",
                "outcome",
                "actorId",
                "subjectId",
                "username",
                "ip",
                "userAgent",
                // Beyond the agreed contract: how the change came, and the OpenID
                // Connect client of the provider's events (docs/API.md §2).
                "via",
                "clientId",
                // Issue 25: what a change to rights was about.
                "detail",
                // Issue 27: who actor and subject are now, for the admin console.
                "actorUsername",
                "subjectUsername",
            ]),
            "{item}"
        );
        assert_eq!(item["clientId"], Value::Null, "{item}");
        assert_eq!(item["detail"], Value::Null, "{item}");
        assert!(is_rfc3339_millis(item["at"].as_str().unwrap()), "{item}");
        assert_eq!(item["ip"], "127.0.0.1", "{item}");
        assert_eq!(item["via"], "api", "{item}");
    }
    let ids = id_list(&items);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let times: Vec<&str> = items.iter().map(|i| i["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    assert_event(
        &items[0],
        "signin",
        "ok",
        Some(user_id(&alice)),
        Some(user_id(&alice)),
    );
    assert_event(&items[1], "signup", "ok", None, Some(user_id(&alice)));
    assert_eq!(items[1]["username"], "alice");
    assert_eq!(items[1]["userAgent"], "audit-agent/1.0");
    let at = items[1]["at"].as_str().unwrap();
    assert!(before.as_str() <= at && at <= after.as_str(), "{at}");
    assert_event(
        &items[2],
        "signin",
        "ok",
        Some(user_id(&admin)),
        Some(user_id(&admin)),
    );
    assert_eq!(items[2]["username"], "root");
    assert_eq!(items[2]["userAgent"], Value::Null);
    app.stop().await;
}

async fn audit_limit_bounds_the_count_and_before_pages_back(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    for n in 0..6 {
        let response = app
            .signin_raw(&format!("ghost{n}"), "wrong password!")
            .await;
        assert_eq!(response.status(), 401);
    }
    let all = audit(&app, &admin, "").await;
    assert_eq!(all.len(), 7);
    let all_ids = id_list(&all);
    assert_eq!(all[0]["username"], "ghost5", "newest first");
    assert_eq!(all[6]["username"], "root");

    assert_eq!(
        id_list(&audit(&app, &admin, "?limit=2").await),
        all_ids[..2]
    );
    assert_eq!(id_list(&audit(&app, &admin, "?limit=100").await), all_ids);
    let page = audit(&app, &admin, &format!("?limit=3&before={}", all_ids[1])).await;
    assert_eq!(id_list(&page), all_ids[2..5], "ids strictly below `before`");
    let rest = audit(&app, &admin, &format!("?before={}", all_ids[0])).await;
    assert_eq!(id_list(&rest), all_ids[1..]);
    let none = audit(&app, &admin, &format!("?before={}", all_ids[6])).await;
    assert!(none.is_empty(), "{none:?}");

    // Paging one by one walks the whole trail.
    let mut walked = Vec::new();
    let mut query = "?limit=1".to_string();
    loop {
        let page = audit(&app, &admin, &query).await;
        let Some(item) = page.first() else { break };
        assert_eq!(page.len(), 1);
        let id = item["id"].as_i64().unwrap();
        walked.push(id);
        query = format!("?limit=1&before={id}");
    }
    assert_eq!(walked, all_ids);
    app.stop().await;
}

async fn audit_refuses_bad_paging(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    for query in [
        "limit=101",
        "limit=0",
        "limit=-3",
        "limit=many",
        "before=yesterday",
        "before=",
        "after=3",
    ] {
        let response = app
            .get_with(
                &format!("{AUDIT}?{query}"),
                ("Authorization", &admin.bearer()),
            )
            .await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_request", "{query}: {body}");
    }
    app.stop().await;
}

async fn signup_is_recorded_ok_and_failed(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    assert_eq!(
        app.signup("alice", "alice@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let alice = app.signin("alice", PASSWORD).await;
    let items = audit(&app, &admin, "?limit=2").await;
    assert_event(&items[1], "signup", "ok", None, Some(user_id(&alice)));

    let taken = app.signup("ALICE", "other@example.com", PASSWORD).await;
    assert_eq!(taken.status(), 409);
    let item = newest(&app, &admin).await;
    assert_event(&item, "signup", "failed", None, None);
    assert_eq!(item["username"], "ALICE");

    // An admin creating an account is its actor.
    let response = post_as(
        &app,
        "/api/auth/signup",
        &admin,
        json!({"username": "bob", "email": "bob@example.com", "password": PASSWORD, "roles": ["moderator"]}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let bob = app.signin("bob", PASSWORD).await;
    let items = audit(&app, &admin, "?limit=2").await;
    assert_event(
        &items[1],
        "signup",
        "ok",
        Some(user_id(&admin)),
        Some(user_id(&bob)),
    );
    app.stop().await;
}

async fn signin_is_recorded_ok_and_failed(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice_id = app.create_user("alice", &[]).await;

    let session = app.signin("Alice@Example.com", PASSWORD).await;
    assert_eq!(user_id(&session), alice_id);
    let item = newest(&app, &admin).await;
    assert_event(&item, "signin", "ok", Some(alice_id), Some(alice_id));
    assert_eq!(item["username"], "Alice@Example.com", "as typed");

    assert_eq!(
        app.signin_raw("ALICE", "not the password").await.status(),
        401
    );
    let item = newest(&app, &admin).await;
    assert_event(&item, "signin", "failed", None, Some(alice_id));
    assert_eq!(item["username"], "ALICE");

    assert_eq!(app.signin_raw("nobody", PASSWORD).await.status(), 401);
    let item = newest(&app, &admin).await;
    assert_event(&item, "signin", "failed", None, None);
    assert_eq!(item["username"], "nobody");

    // A disabled account's signin fails like a wrong password.
    assert_eq!(
        patch(&app, &admin, alice_id, json!({"disabled": true}))
            .await
            .status(),
        200
    );
    assert_eq!(app.signin_raw("alice", PASSWORD).await.status(), 401);
    let item = newest(&app, &admin).await;
    assert_event(&item, "signin", "failed", None, Some(alice_id));
    app.stop().await;
}

async fn throttled_signin_is_recorded(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_account_failures = 2).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    app.create_user("alice", &[]).await;
    for _ in 0..2 {
        assert_eq!(
            app.signin_raw("alice", "not the password").await.status(),
            401
        );
        assert_eq!(newest(&app, &admin).await["event"], "signin");
    }
    let throttled = app.signin_raw("alice", PASSWORD).await;
    assert_eq!(throttled.status(), 429);
    let item = newest(&app, &admin).await;
    assert_eq!(item["event"], "signin_throttled", "{item}");
    assert_eq!(item["outcome"], "failed", "{item}");
    assert_eq!(item["actorId"], Value::Null, "{item}");
    assert_eq!(item["username"], "alice", "{item}");
    // Only the throttled attempt was recorded for it, not a signin as well.
    let items = audit(&app, &admin, "?limit=4").await;
    let events: Vec<&str> = items.iter().map(|i| i["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["signin_throttled", "signin", "signin", "signin"]);
    app.stop().await;
}

async fn refresh_and_refresh_reuse_are_recorded(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    let alice_id = user_id(&alice);
    let first = alice.refresh.clone().unwrap();

    assert_eq!(refresh(&app, &first).await.status(), 200);
    let item = newest(&app, &admin).await;
    assert_event(&item, "refresh", "ok", Some(alice_id), Some(alice_id));
    assert_eq!(item["ip"], "127.0.0.1");

    assert_eq!(refresh(&app, "no-such-token").await.status(), 403);
    let item = newest(&app, &admin).await;
    assert_event(&item, "refresh", "failed", None, None);

    app.clock.advance(Duration::from_secs(11));
    let reuse = refresh(&app, &first).await;
    assert_eq!(reuse.status(), 403);
    let body: Value = reuse.json().await.unwrap();
    assert_eq!(body["code"], "refresh_token_reused");
    let item = newest(&app, &admin).await;
    assert_event(
        &item,
        "refresh_reuse",
        "failed",
        Some(alice_id),
        Some(alice_id),
    );
    app.stop().await;
}

async fn signout_and_signout_all_are_recorded(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    let alice_id = user_id(&alice);

    let response = post_as(&app, "/api/auth/signout", &alice, json!({})).await;
    assert_eq!(response.status(), 200);
    let item = newest(&app, &admin).await;
    assert_event(&item, "signout", "ok", Some(alice_id), Some(alice_id));

    let again = app.signin("alice", PASSWORD).await;
    app.signin("alice", PASSWORD).await;
    let response = post_as(&app, "/api/auth/signout-all", &again, json!({})).await;
    assert_eq!(response.status(), 200);
    let item = newest(&app, &admin).await;
    assert_event(&item, "signout_all", "ok", Some(alice_id), Some(alice_id));
    app.stop().await;
}

async fn ending_a_session_is_recorded(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    app.signin("alice", PASSWORD).await;
    let sessions: Value = app
        .get_with("/api/auth/sessions", ("Authorization", &alice.bearer()))
        .await
        .json()
        .await
        .unwrap();
    let other = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .expect("the other session")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = app
        .client
        .delete(app.url(&format!("/api/auth/sessions/{other}")))
        .header("Authorization", alice.bearer())
        .header("User-Agent", "ender/2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let item = newest(&app, &admin).await;
    let alice_id = user_id(&alice);
    assert_event(&item, "session_ended", "ok", Some(alice_id), Some(alice_id));
    assert_eq!(item["userAgent"], "ender/2");
    app.stop().await;
}

async fn password_changes_are_recorded_ok_and_failed(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    let alice_id = user_id(&alice);

    let wrong = post_as(
        &app,
        "/api/auth/password",
        &alice,
        json!({"currentPassword": "not my password", "newPassword": "violet tugboat moon"}),
    )
    .await;
    assert_eq!(wrong.status(), 403);
    let item = newest(&app, &admin).await;
    assert_event(
        &item,
        "password_changed",
        "failed",
        Some(alice_id),
        Some(alice_id),
    );

    let right = post_as(
        &app,
        "/api/auth/password",
        &alice,
        json!({"currentPassword": PASSWORD, "newPassword": "violet tugboat moon"}),
    )
    .await;
    assert_eq!(right.status(), 200);
    let item = newest(&app, &admin).await;
    assert_event(
        &item,
        "password_changed",
        "ok",
        Some(alice_id),
        Some(alice_id),
    );
    app.stop().await;
}

async fn admin_actions_are_recorded_with_the_admin_as_actor(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let admin_id = user_id(&admin);
    let alice = app.create_user("alice", &[]).await;

    assert_eq!(
        patch(&app, &admin, alice, json!({"roles": ["moderator"]}))
            .await
            .status(),
        200
    );
    let item = newest(&app, &admin).await;
    assert_event(&item, "roles_changed", "ok", Some(admin_id), Some(alice));
    assert_eq!(item["username"], "alice");
    // The console names both sides without a lookup per row.
    assert_eq!(item["actorUsername"], "root", "{item}");
    assert_eq!(item["subjectUsername"], "alice", "{item}");

    assert_eq!(
        patch(&app, &admin, alice, json!({"disabled": true}))
            .await
            .status(),
        200
    );
    let item = newest(&app, &admin).await;
    assert_event(&item, "disabled", "ok", Some(admin_id), Some(alice));

    assert_eq!(
        patch(&app, &admin, alice, json!({"disabled": false}))
            .await
            .status(),
        200
    );
    let item = newest(&app, &admin).await;
    assert_event(&item, "enabled", "ok", Some(admin_id), Some(alice));

    // Two changes in one request are two events.
    let both = patch(
        &app,
        &admin,
        alice,
        json!({"roles": ["user"], "disabled": true}),
    )
    .await;
    assert_eq!(both.status(), 200);
    let items = audit(&app, &admin, "?limit=2").await;
    let events: HashSet<&str> = items.iter().map(|i| i["event"].as_str().unwrap()).collect();
    assert_eq!(events, HashSet::from(["roles_changed", "disabled"]));
    for item in &items {
        assert_eq!(item["actorId"], admin_id);
        assert_eq!(item["subjectId"], alice);
    }

    let response = app
        .client
        .delete(app.url(&format!("/api/admin/users/{alice}")))
        .header("Authorization", admin.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let item = newest(&app, &admin).await;
    assert_event(&item, "deleted", "ok", Some(admin_id), Some(alice));
    assert_eq!(item["username"], "alice", "the name outlives the account");
    // The current name does not: every row about alice now says she is gone.
    assert_eq!(item["subjectUsername"], Value::Null, "{item}");
    assert_eq!(item["actorUsername"], "root", "{item}");
    for item in audit(&app, &admin, "").await {
        if item["subjectId"] == alice {
            assert_eq!(item["subjectUsername"], Value::Null, "{item}");
        }
    }
    app.stop().await;
}

/// Every token a signin handed out, in its body and its cookies.
fn remember(session: &Session, secrets: &mut Vec<String>) {
    for token in [&session.access, &session.refresh].into_iter().flatten() {
        secrets.push(token.clone());
    }
    for cookie in session.cookies.values() {
        secrets.push(cookie.value.clone());
    }
}

async fn the_trail_never_holds_a_password_or_a_token(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_account_failures = 2).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let first_password = "Quixotic-Zephyr-Lantern-8841";
    let wrong_password = "Wrong-Marmalade-Gazebo-5127";
    let second_password = "Obsidian-Kettle-Parsnip-3306";
    let mut secrets: Vec<String> = vec![
        first_password.into(),
        wrong_password.into(),
        second_password.into(),
    ];
    remember(&admin, &mut secrets);

    assert_eq!(
        app.signup("alice", "alice@example.com", first_password)
            .await
            .status(),
        201
    );
    assert_eq!(app.signin_raw("alice", wrong_password).await.status(), 401);
    let alice = app.signin("alice", first_password).await;
    remember(&alice, &mut secrets);
    let other = app.signin("alice", first_password).await;
    remember(&other, &mut secrets);

    // Refresh, within the interval, and as reuse.
    let first_refresh = alice.refresh.clone().unwrap();
    let rotated: Value = refresh(&app, &first_refresh).await.json().await.unwrap();
    let again: Value = refresh(&app, &first_refresh).await.json().await.unwrap();
    for body in [&rotated, &again] {
        for field in ["accessToken", "refreshToken"] {
            secrets.push(body[field].as_str().expect("a token").to_string());
        }
    }
    let access = rotated["accessToken"].as_str().unwrap().to_string();
    let rotated_session = Session {
        access: Some(access),
        ..alice.clone()
    };
    assert_eq!(
        post_as(
            &app,
            "/api/auth/password",
            &rotated_session,
            json!({"currentPassword": wrong_password, "newPassword": second_password}),
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        post_as(
            &app,
            "/api/auth/password",
            &rotated_session,
            json!({"currentPassword": first_password, "newPassword": second_password}),
        )
        .await
        .status(),
        200
    );
    app.clock.advance(Duration::from_secs(11));
    assert_eq!(refresh(&app, &first_refresh).await.status(), 403);
    assert_eq!(
        refresh(&app, other.refresh.as_deref().unwrap())
            .await
            .status(),
        403
    );

    let third = app.signin("alice", second_password).await;
    remember(&third, &mut secrets);
    // Tokens sent where a username or user agent would be are not what this is about,
    // but tokens in their proper places, on every route that takes them:
    let response = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Authorization", third.bearer())
        .json(&json!({"refreshToken": third.refresh.as_deref().unwrap()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let fourth = app.signin("alice", second_password).await;
    remember(&fourth, &mut secrets);
    assert_eq!(
        post_as(&app, "/api/auth/signout-all", &fourth, json!({}))
            .await
            .status(),
        200
    );
    // Throttled sign-ins with the right password.
    assert_eq!(app.signin_raw("alice", wrong_password).await.status(), 401);
    assert_eq!(app.signin_raw("alice", wrong_password).await.status(), 401);
    assert_eq!(app.signin_raw("alice", second_password).await.status(), 429);

    let items = audit(&app, &admin, "?limit=100").await;
    let events: HashSet<&str> = items.iter().map(|i| i["event"].as_str().unwrap()).collect();
    for expected in [
        "signup",
        "signin",
        "refresh",
        "refresh_reuse",
        "password_changed",
        "signout",
        "signout_all",
        "signin_throttled",
    ] {
        assert!(events.contains(expected), "{expected} in {events:?}");
    }
    let trail = serde_json::to_string(&items).unwrap();
    // Each JWT's parts too: a signature or payload alone is as telling as the whole.
    let jwt_parts: Vec<String> = secrets
        .iter()
        .filter(|s| s.matches('.').count() == 2)
        .flat_map(|jwt| jwt.split('.').skip(1).map(String::from).collect::<Vec<_>>())
        .collect();
    secrets.extend(jwt_parts);
    secrets.retain(|s| s.len() >= 16);
    assert!(secrets.len() > 20, "{} secrets checked", secrets.len());
    for secret in &secrets {
        assert!(
            !trail.contains(secret.as_str()),
            "{secret} is in the audit trail"
        );
    }
    // Nor in a lower-cased form.
    let lower = trail.to_lowercase();
    for password in [first_password, wrong_password, second_password] {
        assert!(!lower.contains(&password.to_lowercase()));
    }
    app.stop().await;
}
