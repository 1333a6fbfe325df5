//! /api/admin (docs/API.md §2): who may call it, the user list with search and paging, role
//! changes, disabling, deletion, and the last-admin rule.
use std::collections::HashSet;

use futures::future::join_all;
use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    admin_routes_refuse_a_caller_without_a_token,
    admin_routes_refuse_a_moderator_and_a_user,
    user_list_has_the_documented_shape,
    user_list_pages_by_id_with_a_default_and_maximum_limit,
    user_list_refuses_bad_paging,
    user_list_query_matches_a_username_or_email_prefix_ignoring_case,
    user_list_query_treats_wildcards_as_literal_characters,
    patch_changes_roles_and_answers_the_user_as_listed,
    patch_refuses_unknown_roles_unknown_ids_and_unknown_fields,
    a_demoted_moderator_is_refused_on_the_very_next_request,
    a_promoted_user_is_admitted_on_the_very_next_request,
    disabling_ends_every_session_at_once_and_enabling_lets_them_sign_in_again,
    deleting_a_user_stops_their_tokens_at_once,
    the_only_admin_cannot_demote_disable_or_delete_themselves,
    with_a_second_admin_an_admin_may_demote_disable_or_delete_themselves,
    an_admin_may_demote_another_admin,
    concurrent_removals_never_leave_no_admin,
    a_malformed_user_id_is_a_json_400,
);

const USERS: &str = "/api/admin/users";

/// A user-list request that must succeed; returns the page.
async fn users_page(app: &TestApp, admin: &Session, query: &str) -> Value {
    let response = get_as(app, &format!("{USERS}{query}"), admin).await;
    assert_eq!(response.status(), 200, "GET {USERS}{query}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        keys(&body),
        HashSet::from(["items", "total", "page", "limit"]),
        "{body}"
    );
    body
}

fn usernames(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect()
}

async fn patch(app: &TestApp, admin: &Session, id: i64, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("{USERS}/{id}")))
        .header("Authorization", admin.bearer())
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn delete(app: &TestApp, admin: &Session, id: i64) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("{USERS}/{id}")))
        .header("Authorization", admin.bearer())
        .send()
        .await
        .unwrap()
}

/// The list's item for user `id`.
async fn listed(app: &TestApp, admin: &Session, id: i64) -> Option<Value> {
    let page = users_page(app, admin, "?limit=100").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .cloned()
}

/// (status, body text) of a GET with the session's access token.
async fn content(app: &TestApp, path: &str, session: &Session) -> (u16, String) {
    let response = get_as(app, path, session).await;
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

async fn assert_last_admin(response: reqwest::Response) {
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "Cannot remove the last admin.", "code": "last_admin"})
    );
}

async fn assert_bad_request(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 400, "{what}");
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["code"], "invalid_request", "{what}: {body}");
    assert!(body["message"].is_string(), "{what}: {body}");
}

fn admin_requests(app: &TestApp, target: i64) -> Vec<reqwest::RequestBuilder> {
    vec![
        app.client.get(app.url(USERS)),
        app.client
            .get(app.url(&format!("{USERS}?query=a&page=1&limit=5"))),
        app.client
            .patch(app.url(&format!("{USERS}/{target}")))
            .json(&json!({"roles": ["admin"]})),
        app.client
            .patch(app.url(&format!("{USERS}/{target}")))
            .json(&json!({"disabled": true})),
        app.client.delete(app.url(&format!("{USERS}/{target}"))),
        app.client.get(app.url("/api/admin/audit")),
        app.client
            .get(app.url("/api/admin/audit?limit=5&before=100")),
    ]
}

async fn admin_routes_refuse_a_caller_without_a_token(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let target = app.create_user("alice", &[]).await;
    for request in admin_requests(&app, target) {
        let response = request.send().await.unwrap();
        assert_error(response, 401, "No token provided!", "unauthenticated").await;
    }
    let listed = listed(&app, &admin, target).await.expect("still there");
    assert_eq!(listed["roles"], json!(["ROLE_USER"]));
    assert_eq!(listed["disabled"], false);
    app.stop().await;
}

async fn admin_routes_refuse_a_moderator_and_a_user(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let moderator = app.user_session("mod1", &[Role::Moderator]).await;
    let user = app.user_session("plain", &[]).await;
    let target = app.create_user("alice", &[]).await;
    for caller in [&moderator, &user] {
        for request in admin_requests(&app, target) {
            let response = request
                .header("Authorization", caller.bearer())
                .send()
                .await
                .unwrap();
            assert_error(response, 403, "Require Admin Role!", "forbidden").await;
        }
    }
    let listed = listed(&app, &admin, target).await.expect("not deleted");
    assert_eq!(listed["roles"], json!(["ROLE_USER"]));
    assert_eq!(listed["disabled"], false);
    app.stop().await;
}

async fn user_list_has_the_documented_shape(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let before = portcullis::clock::rfc3339(app.clock.now_ms());
    let root = app.create_user("root", &[Role::Admin]).await;
    let alice = app.create_user("Alice", &[Role::Moderator]).await;
    let bob = app.create_user("bob", &[]).await;
    let admin = app.signin("root", PASSWORD).await;
    app.signin("alice", PASSWORD).await;
    let after = portcullis::clock::rfc3339(app.clock.now_ms());

    let response = get_as(&app, USERS, &admin).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["total"], 3);
    assert_eq!(page["page"], 1);
    assert_eq!(page["limit"], 20);
    assert_eq!(ids(&page), vec![root, alice, bob]);
    let items = page["items"].as_array().unwrap();
    for item in items {
        assert_eq!(
            keys(item),
            HashSet::from([
                "id",
                "username",
                "email",
                "roles",
                "disabled",
                "createdAt",
                "lastSigninAt",
                "emailVerified",
                "totp",
                "passkeys",
                // Issue 25: the roles given to the account itself, and machine accounts.
                "ownRoles",
                "serviceAccount"
            ]),
            "{item}"
        );
        assert_eq!(item["serviceAccount"], false, "{item}");
        assert!(
            item["ownRoles"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("user"))),
            "{item}"
        );
        let created = item["createdAt"].as_str().unwrap();
        assert!(is_rfc3339_millis(created), "{item}");
        assert!(
            before.as_str() <= created && created <= after.as_str(),
            "{item}"
        );
        assert_eq!(item["disabled"], false);
    }
    assert_eq!(items[1]["username"], "Alice");
    assert_eq!(items[1]["email"], "Alice@example.com");
    assert_eq!(items[0]["roles"], json!(["ROLE_USER", "ROLE_ADMIN"]));
    assert_eq!(items[1]["roles"], json!(["ROLE_USER", "ROLE_MODERATOR"]));
    assert_eq!(items[2]["roles"], json!(["ROLE_USER"]));
    // Signed in: a time; never signed in: null.
    for signed_in in [&items[0], &items[1]] {
        let at = signed_in["lastSigninAt"].as_str().unwrap();
        assert!(is_rfc3339_millis(at), "{signed_in}");
        assert!(before.as_str() <= at && at <= after.as_str(), "{signed_in}");
    }
    assert_eq!(items[2]["lastSigninAt"], Value::Null);
    app.stop().await;
}

async fn user_list_pages_by_id_with_a_default_and_maximum_limit(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let root = admin.body["id"].as_i64().unwrap();
    let mut all = Vec::new();
    for n in 0..24 {
        // Names that would sort differently from their ids.
        all.push(app.create_user(&format!("u{}", 99 - n), &[]).await);
    }

    let first = users_page(&app, &admin, "").await;
    assert_eq!(
        (first["page"].clone(), first["limit"].clone()),
        (json!(1), json!(20))
    );
    assert_eq!(first["total"], 25);
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 20);
    let second = users_page(&app, &admin, "?page=2").await;
    assert_eq!(second["page"], 2);
    assert_eq!(second["total"], 25);
    let second_ids = ids(&second);
    assert_eq!(second_ids.len(), 5);
    let mut together = first_ids.clone();
    together.extend(&second_ids);
    let mut sorted = together.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(together, sorted, "ordered by id, no overlap");
    assert_eq!(together[0], root);
    assert_eq!(
        &together[1..],
        &all[..],
        "every user, in creation (id) order"
    );

    let third = users_page(&app, &admin, "?page=3&limit=10").await;
    assert_eq!(ids(&third), together[20..].to_vec());
    assert_eq!(third["limit"], 10);
    let beyond = users_page(&app, &admin, "?page=9").await;
    assert_eq!(ids(&beyond), Vec::<i64>::new());
    assert_eq!(beyond["total"], 25);
    let max = users_page(&app, &admin, "?limit=100").await;
    assert_eq!(ids(&max), together);
    assert_eq!(max["limit"], 100);
    let one = users_page(&app, &admin, "?limit=1&page=25").await;
    assert_eq!(ids(&one), vec![together[24]]);
    app.stop().await;
}

async fn user_list_refuses_bad_paging(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    for query in [
        "limit=101",
        "limit=0",
        "limit=-1",
        "page=0",
        "page=-1",
        "limit=ten",
        "page=two",
        "limit=1.5",
        "page=",
        "sort=name",
    ] {
        let response = get_as(&app, &format!("{USERS}?{query}"), &admin).await;
        assert_bad_request(response, query).await;
    }
    app.stop().await;
}

async fn user_list_query_matches_a_username_or_email_prefix_ignoring_case(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    for name in ["alice", "Alfred", "malice", "bob"] {
        app.create_user(name, &[]).await;
    }
    // An email that does not start like its username.
    let signup = app.signup("carol", "Zed.Carol@Example.com", PASSWORD).await;
    assert_eq!(signup.status(), 201);

    let al = users_page(&app, &admin, "?query=AL").await;
    assert_eq!(usernames(&al), vec!["alice", "Alfred"], "not malice");
    assert_eq!(al["total"], 2);
    let by_email = users_page(&app, &admin, "?query=zed.c").await;
    assert_eq!(usernames(&by_email), vec!["carol"]);
    let by_email = users_page(&app, &admin, "?query=BOB%40EXAMPLE.C").await;
    assert_eq!(usernames(&by_email), vec!["bob"]);
    let middle = users_page(&app, &admin, "?query=lice").await;
    assert_eq!(usernames(&middle), Vec::<&str>::new(), "not a substring");
    assert_eq!(middle["total"], 0);
    let domain = users_page(&app, &admin, "?query=example.com").await;
    assert_eq!(domain["total"], 0);

    // total counts the whole filtered set, not the page.
    let paged = users_page(&app, &admin, "?query=a&limit=1").await;
    assert_eq!(usernames(&paged), vec!["alice"]);
    assert_eq!(paged["total"], 2);
    let next = users_page(&app, &admin, "?query=a&limit=1&page=2").await;
    assert_eq!(usernames(&next), vec!["Alfred"]);
    // An empty query filters nothing.
    let everyone = users_page(&app, &admin, "?query=").await;
    assert_eq!(everyone["total"], 6);
    app.stop().await;
}

async fn user_list_query_treats_wildcards_as_literal_characters(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    for name in ["a_b", "axb", "_lead", "xlead"] {
        app.create_user(name, &[]).await;
    }
    for (username, email) in [
        ("pct", "50%off@example.com"),
        ("pcx", "50xoff@example.com"),
        ("bang", "a!b@example.com"),
    ] {
        assert_eq!(app.signup(username, email, PASSWORD).await.status(), 201);
    }

    let cases: [(&str, &[&str]); 10] = [
        ("a_", &["a_b"]),
        ("_", &["_lead"]),
        ("_lead", &["_lead"]),
        ("%25", &[]),
        ("50%25", &["pct"]),
        ("50%25off", &["pct"]),
        ("%25off", &[]),
        ("a!", &["bang"]),
        ("a!b", &["bang"]),
        ("a%5C", &[]),
    ];
    for (query, expected) in cases {
        let page = users_page(&app, &admin, &format!("?query={query}")).await;
        assert_eq!(usernames(&page), expected.to_vec(), "query {query}");
        assert_eq!(page["total"], expected.len(), "query {query}");
    }
    app.stop().await;
}

async fn patch_changes_roles_and_answers_the_user_as_listed(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.create_user("alice", &[]).await;

    let response = patch(&app, &admin, alice, json!({"roles": ["moderator"]})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["roles"], json!(["ROLE_USER", "ROLE_MODERATOR"]));
    assert_eq!(body["id"], alice);
    assert_eq!(Some(&body), listed(&app, &admin, alice).await.as_ref());

    let response = patch(
        &app,
        &admin,
        alice,
        json!({"roles": ["user", "admin", "moderator"]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["roles"],
        json!(["ROLE_USER", "ROLE_MODERATOR", "ROLE_ADMIN"])
    );

    // `user` is always kept.
    let response = patch(&app, &admin, alice, json!({"roles": []})).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["roles"], json!(["ROLE_USER"]));

    let response = patch(&app, &admin, alice, json!({"disabled": true})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["disabled"], true);
    assert_eq!(body["roles"], json!(["ROLE_USER"]), "roles untouched");
    assert_eq!(Some(&body), listed(&app, &admin, alice).await.as_ref());

    // Both at once.
    let response = patch(
        &app,
        &admin,
        alice,
        json!({"roles": ["moderator"], "disabled": false}),
    )
    .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["disabled"], false);
    assert_eq!(body["roles"], json!(["ROLE_USER", "ROLE_MODERATOR"]));
    assert_eq!(Some(&body), listed(&app, &admin, alice).await.as_ref());
    app.stop().await;
}

async fn patch_refuses_unknown_roles_unknown_ids_and_unknown_fields(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.create_user("alice", &[]).await;
    let before = listed(&app, &admin, alice).await;

    let response = patch(
        &app,
        &admin,
        alice,
        json!({"roles": ["moderator", "superuser"]}),
    )
    .await;
    assert_error(
        response,
        400,
        "Failed! Role does not exist = superuser",
        "unknown_role",
    )
    .await;
    for body in [
        json!({"roles": ["moderator"], "isAdmin": true}),
        json!({"disabled": "yes"}),
        json!({"roles": "admin"}),
    ] {
        assert_bad_request(
            patch(&app, &admin, alice, body.clone()).await,
            &body.to_string(),
        )
        .await;
    }
    let text = app
        .client
        .patch(app.url(&format!("{USERS}/{alice}")))
        .header("Authorization", admin.bearer())
        .header("Content-Type", "text/plain")
        .body(r#"{"disabled": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    assert_eq!(listed(&app, &admin, alice).await, before, "nothing changed");

    for id in [alice + 1000, 0, -1, i64::MAX] {
        let response = patch(&app, &admin, id, json!({"roles": ["moderator"]})).await;
        assert_error(response, 404, "Not found.", "not_found").await;
    }
    app.stop().await;
}

async fn a_demoted_moderator_is_refused_on_the_very_next_request(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let id = app.create_user("mod1", &[Role::Moderator]).await;
    let moderator = app.signin("mod1", PASSWORD).await;
    assert_eq!(
        content(&app, "/api/test/mod", &moderator).await,
        (200, "Moderator Content.".to_string())
    );

    let response = patch(&app, &admin, id, json!({"roles": ["user"]})).await;
    assert_eq!(response.status(), 200);
    let again = get_as(&app, "/api/test/mod", &moderator).await;
    assert_error(again, 403, "Require Moderator Role!", "forbidden").await;
    // Still signed in, just without the role.
    assert_eq!(content(&app, "/api/test/user", &moderator).await.0, 200);
    app.stop().await;
}

async fn a_promoted_user_is_admitted_on_the_very_next_request(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let id = app.create_user("alice", &[]).await;
    let alice = app.signin("alice", PASSWORD).await;
    let before = get_as(&app, "/api/test/admin", &alice).await;
    assert_error(before, 403, "Require Admin Role!", "forbidden").await;

    let response = patch(&app, &admin, id, json!({"roles": ["admin"]})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        content(&app, "/api/test/admin", &alice).await,
        (200, "Admin Content.".to_string())
    );
    assert_eq!(get_as(&app, USERS, &alice).await.status(), 200);
    app.stop().await;
}

async fn disabling_ends_every_session_at_once_and_enabling_lets_them_sign_in_again(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let id = app.create_user("alice", &[]).await;
    let first = app.signin("alice", PASSWORD).await;
    let second = app.signin("alice", PASSWORD).await;
    let bob = app.user_session("bob", &[]).await;
    for s in [&first, &second] {
        assert_eq!(content(&app, "/api/test/user", s).await.0, 200);
    }

    let response = patch(&app, &admin, id, json!({"disabled": true})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["disabled"], true);
    assert_session_ended(&app, &first).await;
    assert_session_ended(&app, &second).await;
    assert_error(
        app.signin_raw("alice", PASSWORD).await,
        401,
        "Invalid username or password!",
        "invalid_credentials",
    )
    .await;
    assert_eq!(content(&app, "/api/test/user", &bob).await.0, 200);

    let response = patch(&app, &admin, id, json!({"disabled": false})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["disabled"], false);
    let back = app.signin("alice", PASSWORD).await;
    assert_eq!(content(&app, "/api/test/user", &back).await.0, 200);
    // Enabling starts afresh: the ended sessions stay ended.
    assert_session_ended(&app, &first).await;
    app.stop().await;
}

async fn deleting_a_user_stops_their_tokens_at_once(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let id = app.create_user("alice", &[Role::Moderator]).await;
    let alice = app.signin("alice", PASSWORD).await;
    let other = app.signin("alice", PASSWORD).await;
    let bob_id = app.create_user("bob", &[]).await;
    assert_eq!(content(&app, "/api/test/mod", &alice).await.0, 200);

    let response = delete(&app, &admin, id).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_session_ended(&app, &alice).await;
    assert_session_ended(&app, &other).await;
    assert_error(
        app.signin_raw("alice", PASSWORD).await,
        401,
        "Invalid username or password!",
        "invalid_credentials",
    )
    .await;
    assert_eq!(listed(&app, &admin, id).await, None);
    assert!(listed(&app, &admin, bob_id).await.is_some());

    for unknown in [id, bob_id + 1000, 0, -5] {
        let response = delete(&app, &admin, unknown).await;
        assert_error(response, 404, "Not found.", "not_found").await;
    }
    let response = patch(&app, &admin, id, json!({"disabled": false})).await;
    assert_error(response, 404, "Not found.", "not_found").await;
    // The name is free again, and the new account is not the old one.
    assert_eq!(
        app.signup("alice", "alice@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let reborn = app.signin("alice", PASSWORD).await;
    assert_eq!(reborn.body["roles"], json!(["ROLE_USER"]));
    assert_session_ended(&app, &alice).await;
    app.stop().await;
}

async fn the_only_admin_cannot_demote_disable_or_delete_themselves(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let root = app.create_user("root", &[Role::Admin]).await;
    let admin = app.signin("root", PASSWORD).await;
    // An admin who is disabled does not count.
    let dormant = app.create_user("dormant", &[Role::Admin]).await;
    assert_eq!(
        patch(&app, &admin, dormant, json!({"disabled": true}))
            .await
            .status(),
        200
    );
    let before = listed(&app, &admin, root).await;

    for body in [
        json!({"roles": ["user"]}),
        json!({"roles": ["moderator"]}),
        json!({"roles": []}),
        json!({"disabled": true}),
        json!({"roles": ["admin"], "disabled": true}),
        json!({"roles": ["moderator"], "disabled": false}),
    ] {
        assert_last_admin(patch(&app, &admin, root, body).await).await;
    }
    assert_last_admin(delete(&app, &admin, root).await).await;

    assert_eq!(listed(&app, &admin, root).await, before, "nothing changed");
    assert_eq!(
        content(&app, "/api/test/admin", &admin).await,
        (200, "Admin Content.".to_string())
    );
    let (status, _) = refresh_status(&app, &admin).await;
    assert_eq!(status, 200, "the session goes on");
    app.signin("root", PASSWORD).await;
    // Keeping the role is no removal.
    let keep = patch(&app, &admin, root, json!({"roles": ["admin", "moderator"]})).await;
    assert_eq!(keep.status(), 200);
    app.stop().await;
}

async fn with_a_second_admin_an_admin_may_demote_disable_or_delete_themselves(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let other_admin = app.user_session("keeper", &[Role::Admin]).await;

    let demoter = app.create_user("demoter", &[Role::Admin]).await;
    let session = app.signin("demoter", PASSWORD).await;
    let response = patch(&app, &session, demoter, json!({"roles": ["user"]})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["roles"],
        json!(["ROLE_USER"])
    );
    let again = get_as(&app, USERS, &session).await;
    assert_error(again, 403, "Require Admin Role!", "forbidden").await;

    let disabler = app.create_user("disabler", &[Role::Admin]).await;
    let session = app.signin("disabler", PASSWORD).await;
    let response = patch(&app, &session, disabler, json!({"disabled": true})).await;
    assert_eq!(response.status(), 200);
    assert_session_ended(&app, &session).await;
    assert_eq!(app.signin_raw("disabler", PASSWORD).await.status(), 401);

    let deleter = app.create_user("deleter", &[Role::Admin]).await;
    let session = app.signin("deleter", PASSWORD).await;
    assert_eq!(delete(&app, &session, deleter).await.status(), 204);
    assert_session_ended(&app, &session).await;
    assert_eq!(listed(&app, &other_admin, deleter).await, None);

    // The one left is now the last.
    assert_eq!(get_as(&app, USERS, &other_admin).await.status(), 200);
    let keeper = other_admin.body["id"].as_i64().unwrap();
    assert_last_admin(delete(&app, &other_admin, keeper).await).await;
    app.stop().await;
}

async fn an_admin_may_demote_another_admin(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let root = app.create_user("root", &[Role::Admin]).await;
    let admin = app.signin("root", PASSWORD).await;
    let second = app.create_user("second", &[Role::Admin]).await;
    let second_session = app.signin("second", PASSWORD).await;
    assert_eq!(
        content(&app, "/api/test/admin", &second_session).await.0,
        200
    );

    let response = patch(&app, &admin, second, json!({"roles": ["moderator"]})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["roles"],
        json!(["ROLE_USER", "ROLE_MODERATOR"])
    );
    let refused = get_as(&app, "/api/test/admin", &second_session).await;
    assert_error(refused, 403, "Require Admin Role!", "forbidden").await;

    // Now root is the last admin and may no longer step down.
    assert_last_admin(patch(&app, &admin, root, json!({"roles": ["user"]})).await).await;
    assert_eq!(content(&app, "/api/test/admin", &admin).await.0, 200);
    app.stop().await;
}

/// Admins still holding the admin role and enabled, from the list.
async fn active_admins(app: &TestApp, admin: &Session) -> usize {
    let page = users_page(app, admin, "?limit=100").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["disabled"] == false
                && u["roles"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("ROLE_ADMIN"))
        })
        .count()
}

async fn concurrent_removals_never_leave_no_admin(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let mut admins = Vec::new();
    for n in 0..6 {
        let id = app.create_user(&format!("adm{n}"), &[Role::Admin]).await;
        admins.push((id, app.signin(&format!("adm{n}"), PASSWORD).await));
    }
    // Everyone steps down at once: all but one may.
    let statuses: Vec<u16> = join_all(
        admins
            .iter()
            .map(|(id, s)| patch(&app, s, *id, json!({"roles": ["user"]}))),
    )
    .await
    .iter()
    .map(|r| r.status().as_u16())
    .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        1,
        "{statuses:?}"
    );
    let (_, last) = &admins[statuses.iter().position(|s| *s == 409).unwrap()];
    assert_eq!(active_admins(&app, last).await, 1);

    // Two admins removing each other at once: the second is no longer an admin.
    let a = app.create_user("pair-a", &[Role::Admin]).await;
    let a_session = app.signin("pair-a", PASSWORD).await;
    let b = app.create_user("pair-b", &[Role::Admin]).await;
    let b_session = app.signin("pair-b", PASSWORD).await;
    let (last_id, _) = admins[statuses.iter().position(|s| *s == 409).unwrap()];
    assert_eq!(
        patch(&app, last, last_id, json!({"roles": ["user"]}))
            .await
            .status(),
        200
    );
    let (ab, ba) = futures::join!(
        patch(&app, &a_session, b, json!({"disabled": true})),
        patch(&app, &b_session, a, json!({"disabled": true})),
    );
    let mut pair = [ab.status().as_u16(), ba.status().as_u16()];
    pair.sort();
    assert_eq!(pair[0], 200, "{pair:?}");
    assert!(pair[1] == 401 || pair[1] == 403, "{pair:?}");
    let survivor = if ab.status() == 200 {
        &a_session
    } else {
        &b_session
    };
    assert_eq!(active_admins(&app, survivor).await, 1);

    // Everyone deleting themselves at once: all but one may.
    let mut doomed = vec![(if ab.status() == 200 { a } else { b }, survivor.clone())];
    for n in 0..3 {
        let id = app.create_user(&format!("del{n}"), &[Role::Admin]).await;
        doomed.push((id, app.signin(&format!("del{n}"), PASSWORD).await));
    }
    let statuses: Vec<u16> = join_all(doomed.iter().map(|(id, s)| delete(&app, s, *id)))
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        1,
        "{statuses:?}"
    );
    let (_, last) = &doomed[statuses.iter().position(|s| *s == 409).unwrap()];
    assert_eq!(active_admins(&app, last).await, 1);
    app.stop().await;
}

async fn a_malformed_user_id_is_a_json_400(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    for id in [
        "abc",
        "1.5",
        "99999999999999999999",
        "%00",
        "1%20OR%201%3D1",
    ] {
        let url = app.url(&format!("{USERS}/{id}"));
        let deleted = app
            .client
            .delete(&url)
            .header("Authorization", admin.bearer())
            .send()
            .await
            .unwrap();
        assert_bad_request(deleted, id).await;
        let patched = app
            .client
            .patch(&url)
            .header("Authorization", admin.bearer())
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap();
        assert_bad_request(patched, id).await;
    }
    assert_eq!(content(&app, "/api/test/admin", &admin).await.0, 200);
    app.stop().await;
}
