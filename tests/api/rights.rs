//! Authorization beyond the three roles (issue 25, docs/API.md §2 "Roles, permissions and
//! groups", "API keys and service accounts", "Asking whether a user may"), on every
//! database: roles and permissions an admin defines, groups, where applications see them,
//! delegated user management, API keys, the decision endpoint, and OpenID Connect claims.
use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::oidc::{code_for, exchange, register, userinfo, VERIFIER};
use crate::on_every_database;

on_every_database!(
    defined_rights_reach_me_forward_and_signin,
    bad_names_duplicates_and_rights_in_use_are_refused_clearly,
    a_manager_gives_only_roles_it_holds_and_never_touches_an_admin,
    api_keys_carry_exactly_what_they_were_given_within_their_owner,
    service_accounts_never_sign_in_and_act_through_admin_made_keys,
    the_decision_endpoint_answers_clients_and_keys_from_the_cache,
    client_tokens_carry_application_roles_groups_and_permissions,
    a_user_in_two_hundred_groups_gets_a_bounded_id_token,
    rights_changes_are_audited_with_what_changed,
    a_key_needs_a_recent_signin_or_the_password,
    another_site_cannot_mint_a_key_with_the_browsers_cookies,
);

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    as_: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("Authorization", as_);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

/// Sends and expects `status`; the body, or null.
async fn expect(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    as_: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let response = send(app, method.clone(), path, as_, body).await;
    let got = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

use reqwest::Method as M;

/// An admin, a permission `invoices:write` (and `invoices:read`), a role `editor` giving
/// both, a group `payments` carrying it; returns the admin's bearer header.
async fn setup(app: &TestApp) -> String {
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    for p in ["invoices:write", "invoices:read"] {
        expect(
            app,
            M::POST,
            "/api/admin/permissions",
            &admin,
            Some(json!({"name": p})),
            201,
        )
        .await;
    }
    let role = expect(
        app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "editor", "description": "Edits invoices",
                    "permissions": ["invoices:write", "invoices:read"]})),
        201,
    )
    .await;
    assert_eq!(
        role["permissions"],
        json!(["invoices:read", "invoices:write"])
    );
    assert_eq!(role["builtIn"], false);
    let group = expect(
        app,
        M::POST,
        "/api/admin/groups",
        &admin,
        Some(json!({"name": "payments", "roles": ["Editor"]})),
        201,
    )
    .await;
    assert_eq!(group["roles"], json!(["editor"]));
    assert_eq!(group["members"], 0);
    admin
}

const FORWARD: &str = "/api/auth/forward";

async fn forward_status(app: &TestApp, as_: &str, query: &str) -> u16 {
    send(app, M::GET, &format!("{FORWARD}?{query}"), as_, None)
        .await
        .status()
        .as_u16()
}

async fn defined_rights_reach_me_forward_and_signin(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let bob_id = app.create_user("bob", &[]).await;
    let bob = app.signin("bob", PASSWORD).await.bearer();
    assert_eq!(
        forward_status(&app, &bob, "permission=invoices:write").await,
        403
    );

    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/PAYMENTS/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    // Idempotent.
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;

    // On his very next request: /me says where he stands.
    let me = expect(&app, M::GET, "/api/auth/me", &bob, None, 200).await;
    assert_eq!(me["roles"], json!(["ROLE_USER", "ROLE_EDITOR"]));
    assert_eq!(me["groups"], json!(["payments"]));
    assert_eq!(
        me["permissions"],
        json!(["invoices:read", "invoices:write"])
    );
    // A sign-in answers the effective roles too (the tutorial's clients read them there).
    let again = app.signin("bob", PASSWORD).await;
    assert_eq!(again.body["roles"], json!(["ROLE_USER", "ROLE_EDITOR"]));

    // Forward authentication: each of role, group and permission, and all together.
    for query in [
        "permission=invoices:write",
        "group=payments",
        "group=Payments",
        "role=editor",
        "role=user",
        "role=editor&group=payments&permission=invoices:read",
    ] {
        assert_eq!(forward_status(&app, &bob, query).await, 200, "{query}");
    }
    for query in [
        "permission=invoices:delete",
        "group=sales",
        "role=moderator",
        "role=reviewer",
        "role=editor&permission=invoices:delete",
    ] {
        assert_eq!(forward_status(&app, &bob, query).await, 403, "{query}");
    }
    for query in [
        "permission=Invoices:Write",
        "group=a",
        "role=no%20such",
        "permission=",
    ] {
        assert_eq!(forward_status(&app, &bob, query).await, 400, "{query}");
    }
    let response = send(&app, M::GET, FORWARD, &bob, None).await;
    assert_eq!(response.headers()["x-portcullis-roles"], "user,editor");
    assert_eq!(response.headers()["x-portcullis-groups"], "payments");

    // An admin does not hold roles and permissions it was not given (only the built-in
    // ranks outrank).
    assert_eq!(forward_status(&app, &admin, "role=moderator").await, 200);
    assert_eq!(
        forward_status(&app, &admin, "permission=invoices:write").await,
        403
    );

    // The role's permissions change: every holder's follow.
    expect(
        &app,
        M::PATCH,
        "/api/admin/roles/editor",
        &admin,
        Some(json!({"permissions": ["invoices:read"]})),
        200,
    )
    .await;
    assert_eq!(
        forward_status(&app, &bob, "permission=invoices:write").await,
        403
    );
    assert_eq!(
        forward_status(&app, &bob, "permission=invoices:read").await,
        200
    );

    // Out of the group: it all goes at once.
    expect(
        &app,
        M::DELETE,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    assert_eq!(forward_status(&app, &bob, "group=payments").await, 403);
    let me = expect(&app, M::GET, "/api/auth/me", &bob, None, 200).await;
    assert_eq!(me["roles"], json!(["ROLE_USER"]));
    assert_eq!(me["groups"], json!([]));

    // A role given to the account itself, by name, with the built-in ones.
    let item = expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{bob_id}"),
        &admin,
        Some(json!({"roles": ["moderator", "EDITOR"]})),
        200,
    )
    .await;
    assert_eq!(
        item["roles"],
        json!(["ROLE_USER", "ROLE_MODERATOR", "ROLE_EDITOR"])
    );
    assert_eq!(item["ownRoles"], json!(["editor", "moderator", "user"]));
    assert_eq!(forward_status(&app, &bob, "role=editor").await, 200);
    // The tutorial's role routes keep their meaning.
    let response = send(&app, M::GET, "/api/test/mod", &bob, None).await;
    assert_eq!(response.status(), 200);

    // Where each right comes from.
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    let rights = expect(
        &app,
        M::GET,
        &format!("/api/admin/users/{bob_id}/rights"),
        &admin,
        None,
        200,
    )
    .await;
    let editor = rights["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "editor")
        .unwrap();
    assert_eq!(editor["from"], json!(["own", "payments"]));
    assert_eq!(rights["groups"], json!(["payments"]));
    assert_eq!(rights["permissions"][0]["name"], "invoices:read");
    assert_eq!(rights["permissions"][0]["roles"], json!(["editor"]));
    app.stop().await;
}

async fn bad_names_duplicates_and_rights_in_use_are_refused_clearly(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let bob_id = app.create_user("bob", &[]).await;
    let bob = app.signin("bob", PASSWORD).await.bearer();

    let error = |body: Value, code: &str| {
        assert_eq!(body["code"], code, "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    };
    // Taken names, in any case; the built-in ones too.
    for name in ["editor", "EDITOR", "admin", "User"] {
        let body = expect(
            &app,
            M::POST,
            "/api/admin/roles",
            &admin,
            Some(json!({"name": name})),
            409,
        )
        .await;
        error(body, "name_taken");
    }
    let body = expect(
        &app,
        M::POST,
        "/api/admin/groups",
        &admin,
        Some(json!({"name": "Payments"})),
        409,
    )
    .await;
    error(body, "name_taken");
    let body = expect(
        &app,
        M::POST,
        "/api/admin/permissions",
        &admin,
        Some(json!({"name": "invoices:write"})),
        409,
    )
    .await;
    error(body, "name_taken");
    // Malformed names, reserved permissions, unknown references, unknown fields.
    for name in ["ab", "has space", "x123456789012345678901", "rôle"] {
        let body = expect(
            &app,
            M::POST,
            "/api/admin/roles",
            &admin,
            Some(json!({"name": name})),
            400,
        )
        .await;
        error(body, "invalid_request");
    }
    for name in ["Upper", ":x", "portcullis:anything", ""] {
        let body = expect(
            &app,
            M::POST,
            "/api/admin/permissions",
            &admin,
            Some(json!({"name": name})),
            400,
        )
        .await;
        error(body, "invalid_request");
    }
    let body = expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "viewer", "permissions": ["nope:nope"]})),
        400,
    )
    .await;
    error(body, "unknown_permission");
    let body = expect(
        &app,
        M::POST,
        "/api/admin/groups",
        &admin,
        Some(json!({"name": "sales", "roles": ["ghost"]})),
        400,
    )
    .await;
    error(body, "unknown_role");
    let body = expect(
        &app,
        M::POST,
        "/api/admin/groups",
        &admin,
        Some(json!({"name": "sales", "roles": ["admin"]})),
        400,
    )
    .await;
    error(body, "invalid_request");
    let body = expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "viewer", "clientId": "no-such-client"})),
        400,
    )
    .await;
    error(body, "invalid_request");
    let body = expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "viewer", "colour": "red"})),
        400,
    )
    .await;
    error(body, "invalid_request");
    let body = expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{bob_id}"),
        &admin,
        Some(json!({"roles": ["ghost"]})),
        400,
    )
    .await;
    error(body, "unknown_role");
    // Nothing half-applied: the refused requests left no role, group or permission behind.
    let roles = expect(&app, M::GET, "/api/admin/roles", &admin, None, 200).await;
    let names: Vec<&str> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "moderator", "user", "editor"]);
    let groups = expect(&app, M::GET, "/api/admin/groups", &admin, None, 200).await;
    assert_eq!(groups["items"].as_array().unwrap().len(), 1);
    // Unknown things in paths.
    for (method, path) in [
        (M::PATCH, "/api/admin/roles/ghost"),
        (M::DELETE, "/api/admin/roles/ghost"),
        (M::DELETE, "/api/admin/permissions/ghost:x"),
        (M::PATCH, "/api/admin/groups/ghosts"),
        (M::DELETE, "/api/admin/groups/ghosts"),
        (M::GET, "/api/admin/groups/ghosts/members"),
        (M::PUT, "/api/admin/groups/ghosts/members/1"),
        (M::PUT, "/api/admin/groups/payments/members/999999"),
        (M::GET, "/api/admin/users/999999/rights"),
    ] {
        let body = if method == M::PATCH {
            Some(json!({}))
        } else {
            None
        };
        let body = expect(&app, method, path, &admin, body, 404).await;
        error(body, "not_found");
    }
    // In use: refused until cascade, which takes it from everyone.
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    let body = expect(
        &app,
        M::DELETE,
        "/api/admin/permissions/invoices:write",
        &admin,
        None,
        409,
    )
    .await;
    error(body.clone(), "in_use");
    assert!(
        body["message"].as_str().unwrap().contains("editor"),
        "{body}"
    );
    let body = expect(
        &app,
        M::DELETE,
        "/api/admin/roles/editor",
        &admin,
        None,
        409,
    )
    .await;
    error(body, "in_use");
    assert_eq!(
        forward_status(&app, &bob, "permission=invoices:write").await,
        200
    );
    expect(
        &app,
        M::DELETE,
        "/api/admin/permissions/invoices:write?cascade=true",
        &admin,
        None,
        204,
    )
    .await;
    assert_eq!(
        forward_status(&app, &bob, "permission=invoices:write").await,
        403
    );
    assert_eq!(forward_status(&app, &bob, "role=editor").await, 200);
    expect(
        &app,
        M::DELETE,
        "/api/admin/roles/editor?cascade=true",
        &admin,
        None,
        204,
    )
    .await;
    assert_eq!(forward_status(&app, &bob, "role=editor").await, 403);
    let groups = expect(&app, M::GET, "/api/admin/groups", &admin, None, 200).await;
    assert_eq!(groups["items"][0]["roles"], json!([]));
    // The built-in roles and permissions stay.
    let body = expect(
        &app,
        M::DELETE,
        "/api/admin/roles/admin?cascade=true",
        &admin,
        None,
        400,
    )
    .await;
    error(body, "invalid_request");
    let body = expect(
        &app,
        M::DELETE,
        "/api/admin/permissions/portcullis:users:manage",
        &admin,
        None,
        400,
    )
    .await;
    error(body, "invalid_request");
    let body = expect(
        &app,
        M::DELETE,
        "/api/admin/roles/user?cascade=maybe",
        &admin,
        None,
        400,
    )
    .await;
    error(body, "invalid_request");
    // Built-in roles may give permissions.
    expect(
        &app,
        M::POST,
        "/api/admin/permissions",
        &admin,
        Some(json!({"name": "posts:hide"})),
        201,
    )
    .await;
    expect(
        &app,
        M::PATCH,
        "/api/admin/roles/moderator",
        &admin,
        Some(json!({"permissions": ["posts:hide"]})),
        200,
    )
    .await;
    let mo = app.user_session("moe", &[Role::Moderator]).await.bearer();
    assert_eq!(
        forward_status(&app, &mo, "permission=posts:hide").await,
        200
    );
    // Only admins define.
    let body = expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &bob,
        Some(json!({"name": "mine"})),
        403,
    )
    .await;
    error(body, "forbidden");
    expect(&app, M::GET, "/api/admin/roles", &bob, None, 403).await;
    // Oversized bodies are refused before they are read.
    let huge = json!({"name": "big", "permissions": vec!["x"; 200_000]});
    let response = send(&app, M::POST, "/api/admin/roles", &admin, Some(huge)).await;
    assert_eq!(response.status(), 413);
    let many = json!({"name": "many", "permissions": (0..101).map(|i| format!("p{i}")).collect::<Vec<_>>()});
    let body = expect(&app, M::POST, "/api/admin/roles", &admin, Some(many), 400).await;
    error(body, "invalid_request");
    app.stop().await;
}

async fn a_manager_gives_only_roles_it_holds_and_never_touches_an_admin(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "user-manager", "permissions": ["portcullis:users:manage"]})),
        201,
    )
    .await;
    expect(
        &app,
        M::POST,
        "/api/admin/groups",
        &admin,
        Some(json!({"name": "mods", "roles": ["moderator"]})),
        201,
    )
    .await;
    let carol_id = app.create_user("carol", &[]).await;
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{carol_id}"),
        &admin,
        Some(json!({"roles": ["user-manager", "editor"]})),
        200,
    )
    .await;
    let carol = app.signin("carol", PASSWORD).await.bearer();
    let dave_id = app.create_user("dave", &[]).await;
    let root_id = 1;

    // Within what she holds: yes.
    let item = expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{dave_id}"),
        &carol,
        Some(json!({"roles": ["editor"]})),
        200,
    )
    .await;
    assert_eq!(item["ownRoles"], json!(["editor", "user"]));
    expect(&app, M::GET, "/api/admin/users", &carol, None, 200).await;
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{dave_id}"),
        &carol,
        None,
        204,
    )
    .await;
    // Beyond it: no, and nothing changes.
    for roles in [
        json!(["moderator"]),
        json!(["admin"]),
        json!(["editor", "user-manager", "admin"]),
    ] {
        let body = expect(
            &app,
            M::PATCH,
            &format!("/api/admin/users/{dave_id}"),
            &carol,
            Some(json!({"roles": roles})),
            403,
        )
        .await;
        assert_eq!(body["code"], "forbidden");
    }
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/mods/members/{dave_id}"),
        &carol,
        None,
        403,
    )
    .await;
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{dave_id}"),
        &carol,
        Some(json!({"disabled": true})),
        403,
    )
    .await;
    // Never an admin's roles, not even to give one she holds.
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{root_id}"),
        &carol,
        Some(json!({"roles": ["admin", "editor"]})),
        403,
    )
    .await;
    // Not herself into more, either.
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/mods/members/{carol_id}"),
        &carol,
        None,
        403,
    )
    .await;
    // Definitions stay an admin's.
    expect(
        &app,
        M::POST,
        "/api/admin/groups",
        &carol,
        Some(json!({"name": "mine"})),
        403,
    )
    .await;
    expect(
        &app,
        M::PATCH,
        "/api/admin/roles/editor",
        &carol,
        Some(json!({"permissions": []})),
        403,
    )
    .await;
    expect(
        &app,
        M::DELETE,
        &format!("/api/admin/users/{dave_id}"),
        &carol,
        None,
        403,
    )
    .await;
    let dave = app.signin("dave", PASSWORD).await;
    assert_eq!(dave.body["roles"], json!(["ROLE_USER", "ROLE_EDITOR"]));
    // Her API key manages within what the key was given, not all she holds.
    let made = expect(
        &app,
        M::POST,
        "/api/auth/api-keys",
        &carol,
        Some(json!({"name": "mgr", "permissions": ["portcullis:users:manage"]})),
        201,
    )
    .await;
    let narrow = format!("Bearer {}", made["key"].as_str().unwrap());
    let body = expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{dave_id}"),
        &narrow,
        Some(json!({"roles": []})),
        403,
    )
    .await;
    assert_eq!(
        body["code"], "forbidden",
        "the key does not hold editor: {body}"
    );
    let made = expect(&app, M::POST, "/api/auth/api-keys", &carol,
                      Some(json!({"name": "mgr2", "roles": ["editor"], "permissions": ["portcullis:users:manage"]})), 201).await;
    let wide = format!("Bearer {}", made["key"].as_str().unwrap());
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{dave_id}"),
        &wide,
        Some(json!({"roles": []})),
        200,
    )
    .await;
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{dave_id}"),
        &wide,
        Some(json!({"roles": ["editor"]})),
        200,
    )
    .await;
    // The role taken from her: she manages nobody.
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{carol_id}"),
        &admin,
        Some(json!({"roles": ["editor"]})),
        200,
    )
    .await;
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{dave_id}"),
        &carol,
        Some(json!({"roles": []})),
        403,
    )
    .await;
    app.stop().await;
}

async fn make_key(app: &TestApp, as_: &str, body: Value) -> (String, Value) {
    let made = expect(app, M::POST, "/api/auth/api-keys", as_, Some(body), 201).await;
    let key = made["key"].as_str().expect("the key, once").to_string();
    (format!("Bearer {key}"), made)
}

async fn api_keys_carry_exactly_what_they_were_given_within_their_owner(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let bob_id = app.create_user("bob", &[Role::Moderator]).await;
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    let bob = app.signin("bob", PASSWORD).await.bearer();

    let (key, made) = make_key(
        &app,
        &bob,
        json!({"name": "reader", "expiresInDays": 30,
                                                   "permissions": ["invoices:read"]}),
    )
    .await;
    assert!(made["key"].as_str().unwrap().starts_with("pck_"));
    assert_eq!(
        made["prefix"].as_str().unwrap(),
        &made["key"].as_str().unwrap()[..12]
    );
    assert_eq!(made["permissions"], json!(["invoices:read"]));
    assert!(made["lastUsedAt"].is_null());

    // Exactly what it was given.
    assert_eq!(
        forward_status(&app, &key, "permission=invoices:read").await,
        200
    );
    assert_eq!(
        forward_status(&app, &key, "permission=invoices:write").await,
        403
    );
    assert_eq!(forward_status(&app, &key, "role=editor").await, 403);
    assert_eq!(forward_status(&app, &key, "role=moderator").await, 403);
    assert_eq!(forward_status(&app, &key, "group=payments").await, 403);
    assert_eq!(
        send(&app, M::GET, "/api/test/user", &key, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        send(&app, M::GET, "/api/test/mod", &key, None)
            .await
            .status(),
        403
    );
    let me = expect(&app, M::GET, "/api/auth/me", &key, None, 200).await;
    assert_eq!(me["apiKeyId"], made["id"]);
    assert_eq!(me["permissions"], json!(["invoices:read"]));
    // Never the account itself.
    for (method, path, body) in [
        (M::GET, "/api/auth/api-keys", None),
        (M::POST, "/api/auth/api-keys", Some(json!({"name": "more"}))),
        (M::GET, "/api/auth/sessions", None),
        (
            M::POST,
            "/api/auth/password",
            Some(json!({"currentPassword": PASSWORD, "newPassword": "another-long-passphrase-9"})),
        ),
    ] {
        let body = expect(&app, method, path, &key, body, 403).await;
        assert_eq!(body["code"], "forbidden");
    }
    // A role given by name works as a role.
    let (modkey, _) = make_key(
        &app,
        &bob,
        json!({"name": "mod", "roles": ["moderator", "Editor"]}),
    )
    .await;
    assert_eq!(
        send(&app, M::GET, "/api/test/mod", &modkey, None)
            .await
            .status(),
        200
    );
    assert_eq!(forward_status(&app, &modkey, "role=editor").await, 200);
    assert_eq!(
        forward_status(&app, &modkey, "permission=invoices:read").await,
        403
    );

    // Nothing beyond the owner's, and bad requests.
    for (body, status, code) in [
        (
            json!({"name": "x", "permissions": ["invoices:delete"]}),
            403,
            "forbidden",
        ),
        (json!({"name": "x", "roles": ["admin"]}), 403, "forbidden"),
        (
            json!({"name": "x", "expiresInDays": 0}),
            400,
            "invalid_request",
        ),
        (
            json!({"name": "x", "expiresInDays": 366}),
            400,
            "invalid_request",
        ),
        (json!({"name": ""}), 400, "invalid_request"),
        (json!({"name": "x", "scopes": []}), 400, "invalid_request"),
    ] {
        let answer = expect(
            &app,
            M::POST,
            "/api/auth/api-keys",
            &bob,
            Some(body.clone()),
            status,
        )
        .await;
        assert_eq!(answer["code"], code, "{body}");
    }
    for bad in [
        "Bearer pck_short",
        "Bearer pck_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let answer = expect(&app, M::GET, "/api/test/user", bad, None, 401).await;
        assert_eq!(answer["code"], "invalid_token");
    }

    // Listed without the secret, with its last use.
    let list = expect(&app, M::GET, "/api/auth/api-keys", &bob, None, 200).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|k| k.get("key").is_none()));
    let reader = items.iter().find(|k| k["name"] == "reader").unwrap();
    // The use is written in the background.
    let mut used = reader["lastUsedAt"].clone();
    for _ in 0..50 {
        if !used.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let list = expect(&app, M::GET, "/api/auth/api-keys", &bob, None, 200).await;
        used = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == "reader")
            .unwrap()["lastUsedAt"]
            .clone();
    }
    assert!(used.as_str().is_some_and(is_rfc3339_millis), "{used}");

    // The owner loses the role: the key loses what came with it.
    expect(
        &app,
        M::DELETE,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    assert_eq!(
        forward_status(&app, &key, "permission=invoices:read").await,
        403
    );
    assert_eq!(
        send(&app, M::GET, "/api/test/user", &key, None)
            .await
            .status(),
        200
    );
    // Revoked: refused at once; revoking again, or another's key, is a 404.
    let id = made["id"].as_i64().unwrap();
    expect(
        &app,
        M::DELETE,
        &format!("/api/auth/api-keys/{id}"),
        &bob,
        None,
        204,
    )
    .await;
    expect(&app, M::GET, "/api/test/user", &key, None, 401).await;
    expect(
        &app,
        M::DELETE,
        &format!("/api/auth/api-keys/{id}"),
        &bob,
        None,
        404,
    )
    .await;
    let other = app.user_session("eve", &[]).await.bearer();
    let mod_id =
        expect(&app, M::GET, "/api/auth/api-keys", &bob, None, 200).await["items"][0]["id"].clone();
    expect(
        &app,
        M::DELETE,
        &format!("/api/auth/api-keys/{mod_id}"),
        &other,
        None,
        404,
    )
    .await;
    // The owner disabled: every key stops.
    assert_eq!(
        send(&app, M::GET, "/api/test/mod", &modkey, None)
            .await
            .status(),
        200
    );
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{bob_id}"),
        &admin,
        Some(json!({"disabled": true})),
        200,
    )
    .await;
    expect(&app, M::GET, "/api/test/user", &modkey, None, 401).await;
    app.stop().await;
}

async fn service_accounts_never_sign_in_and_act_through_admin_made_keys(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let made = expect(
        &app,
        M::POST,
        "/api/admin/service-accounts",
        &admin,
        Some(json!({"username": "billing-bot", "description": "nightly billing"})),
        201,
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    let body = expect(
        &app,
        M::POST,
        "/api/admin/service-accounts",
        &admin,
        Some(json!({"username": "Billing-Bot"})),
        409,
    )
    .await;
    assert_eq!(body["code"], "name_taken");
    // It holds roles as anyone does.
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{id}"),
        &admin,
        None,
        204,
    )
    .await;
    let page = expect(
        &app,
        M::GET,
        "/api/admin/users?query=billing",
        &admin,
        None,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["serviceAccount"], true);
    // No sign-in, by any password.
    let response = app.signin_raw("billing-bot", PASSWORD).await;
    assert_eq!(response.status(), 401);
    // An admin makes its keys, within what it holds.
    let key = expect(
        &app,
        M::POST,
        &format!("/api/admin/users/{id}/api-keys"),
        &admin,
        Some(json!({"name": "prod", "permissions": ["invoices:write"]})),
        201,
    )
    .await;
    let bearer = format!("Bearer {}", key["key"].as_str().unwrap());
    assert_eq!(key["createdBy"], 1);
    assert_eq!(
        forward_status(&app, &bearer, "permission=invoices:write").await,
        200
    );
    expect(
        &app,
        M::POST,
        &format!("/api/admin/users/{id}/api-keys"),
        &admin,
        Some(json!({"name": "more", "permissions": ["posts:hide"]})),
        403,
    )
    .await;
    // Only for service accounts: a person makes their own.
    let bob_id = app.create_user("bob", &[]).await;
    expect(
        &app,
        M::POST,
        &format!("/api/admin/users/{bob_id}/api-keys"),
        &admin,
        Some(json!({"name": "x"})),
        400,
    )
    .await;
    let list = expect(
        &app,
        M::GET,
        &format!("/api/admin/users/{id}/api-keys"),
        &admin,
        None,
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // An admin revokes any account's key.
    let key_id = key["id"].as_i64().unwrap();
    expect(
        &app,
        M::DELETE,
        &format!("/api/admin/users/{id}/api-keys/{key_id}"),
        &admin,
        None,
        204,
    )
    .await;
    expect(&app, M::GET, "/api/test/user", &bearer, None, 401).await;
    // Only admins make service accounts.
    let bob = app.signin("bob", PASSWORD).await.bearer();
    expect(
        &app,
        M::POST,
        "/api/admin/service-accounts",
        &bob,
        Some(json!({"username": "mine"})),
        403,
    )
    .await;
    app.stop().await;
}

async fn check(app: &TestApp, auth: reqwest::RequestBuilder, body: Value) -> (u16, Value) {
    let _ = app;
    let response = auth.json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn the_decision_endpoint_answers_clients_and_keys_from_the_cache(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let rp = register(&app, false, None).await;
    let public = register(&app, true, None).await;
    // An application role: its permission counts only for its client.
    expect(
        &app,
        M::POST,
        "/api/admin/permissions",
        &admin,
        Some(json!({"name": "till:open"})),
        201,
    )
    .await;
    expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "clerk", "clientId": rp.client_id, "permissions": ["till:open"]})),
        201,
    )
    .await;
    let bob_id = app.create_user("bob", &[]).await;
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{bob_id}"),
        &admin,
        Some(json!({"roles": ["clerk"]})),
        200,
    )
    .await;
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;

    let url = app.url("/api/authz/check");
    let as_rp = || {
        app.client
            .post(&url)
            .basic_auth(&rp.client_id, rp.secret.as_deref())
    };
    for (permission, allowed) in [
        ("invoices:write", true),
        ("till:open", true),
        ("posts:hide", false),
    ] {
        let (status, answer) = check(
            &app,
            as_rp(),
            json!({"userId": bob_id, "permission": permission}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer,
            json!({"allowed": allowed, "userId": bob_id}),
            "{permission}"
        );
    }
    let (_, answer) = check(
        &app,
        as_rp(),
        json!({"username": "BOB", "permission": "invoices:read"}),
    )
    .await;
    assert_eq!(answer["allowed"], true);

    // A key with portcullis:authz:check asks outside any client: no application roles.
    expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "gatekeeper", "permissions": ["portcullis:authz:check"]})),
        201,
    )
    .await;
    let made = expect(
        &app,
        M::POST,
        "/api/admin/service-accounts",
        &admin,
        Some(json!({"username": "gate"})),
        201,
    )
    .await;
    let gate = made["id"].as_i64().unwrap();
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{gate}"),
        &admin,
        Some(json!({"roles": ["gatekeeper"]})),
        200,
    )
    .await;
    let key = expect(
        &app,
        M::POST,
        &format!("/api/admin/users/{gate}/api-keys"),
        &admin,
        Some(json!({"name": "gate", "permissions": ["portcullis:authz:check"]})),
        201,
    )
    .await;
    let as_key = || {
        app.client.post(&url).header(
            "Authorization",
            format!("Bearer {}", key["key"].as_str().unwrap()),
        )
    };
    let (status, answer) = check(
        &app,
        as_key(),
        json!({"userId": bob_id, "permission": "invoices:write"}),
    )
    .await;
    assert_eq!((status, answer["allowed"].clone()), (200, json!(true)));
    let (_, answer) = check(
        &app,
        as_key(),
        json!({"userId": bob_id, "permission": "till:open"}),
    )
    .await;
    assert_eq!(answer["allowed"], false);

    // A disabled user may do nothing.
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{bob_id}"),
        &admin,
        Some(json!({"disabled": true})),
        200,
    )
    .await;
    let (_, answer) = check(
        &app,
        as_rp(),
        json!({"userId": bob_id, "permission": "invoices:write"}),
    )
    .await;
    assert_eq!(answer["allowed"], false);

    // Who may not ask, and bad questions.
    let nobody = app.client.post(&url);
    let (status, _) = check(
        &app,
        nobody,
        json!({"userId": bob_id, "permission": "invoices:write"}),
    )
    .await;
    assert_eq!(status, 401);
    let wrong = app
        .client
        .post(&url)
        .basic_auth(&rp.client_id, Some("wrong"));
    let (status, _) = check(
        &app,
        wrong,
        json!({"userId": bob_id, "permission": "invoices:write"}),
    )
    .await;
    assert_eq!(status, 401);
    let as_public = app
        .client
        .post(&url)
        .basic_auth(&public.client_id, Some(""));
    let (status, _) = check(
        &app,
        as_public,
        json!({"userId": bob_id, "permission": "invoices:write"}),
    )
    .await;
    assert!(status == 401 || status == 403, "{status}");
    let eve = app.user_session("eve", &[]).await.bearer();
    let (status, answer) = check(
        &app,
        app.client.post(&url).header("Authorization", eve),
        json!({"userId": bob_id, "permission": "x"}),
    )
    .await;
    assert_eq!((status, answer["code"].clone()), (403, json!("forbidden")));
    for (body, status) in [
        (json!({"userId": 999_999, "permission": "x"}), 404),
        (json!({"userId": bob_id, "permission": "Not Valid"}), 400),
        (json!({"permission": "x"}), 400),
        (
            json!({"userId": bob_id, "username": "bob", "permission": "x"}),
            400,
        ),
        (json!({"userId": "one", "permission": "x"}), 400),
    ] {
        let (got, answer) = check(&app, as_rp(), body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
    }
    app.stop().await;
}

fn claims_of(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn client_tokens_carry_application_roles_groups_and_permissions(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let rp = register(&app, false, None).await;
    let other = register(&app, false, None).await;
    expect(
        &app,
        M::POST,
        "/api/admin/permissions",
        &admin,
        Some(json!({"name": "till:open"})),
        201,
    )
    .await;
    expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "clerk", "clientId": rp.client_id, "permissions": ["till:open"]})),
        201,
    )
    .await;
    expect(
        &app,
        M::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({"name": "auditor", "clientId": other.client_id})),
        201,
    )
    .await;
    let bob_id = app.create_user("bob", &[Role::Moderator]).await;
    expect(
        &app,
        M::PATCH,
        &format!("/api/admin/users/{bob_id}"),
        &admin,
        Some(json!({"roles": ["moderator", "clerk", "auditor"]})),
        200,
    )
    .await;
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    let bob = app.signin("bob", PASSWORD).await;
    // Application roles are not global roles.
    assert_eq!(
        bob.body["roles"],
        json!(["ROLE_USER", "ROLE_MODERATOR", "ROLE_EDITOR"])
    );

    let scope = "openid profile roles groups";
    let code = code_for(&app, &rp, &bob, &[("scope", scope)]).await;
    let (status, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["roles"], json!(["user", "moderator", "editor", "clerk"]));
    assert_eq!(id["groups"], json!(["payments"]));
    assert!(
        id.get("permissions").is_none(),
        "permissions are looked up, not carried: {id}"
    );
    // The access token keeps its claims: no roles, no groups.
    let access = claims_of(tokens["access_token"].as_str().unwrap());
    assert!(
        access.get("roles").is_none() && access.get("groups").is_none(),
        "{access}"
    );
    let (status, info) = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        info["roles"],
        json!(["user", "moderator", "editor", "clerk"])
    );
    assert_eq!(info["groups"], json!(["payments"]));
    assert_eq!(
        info["permissions"],
        json!(["invoices:read", "invoices:write", "till:open"])
    );
    // Introspection: what the roles give now, for the token's client.
    let introspected: Value = app
        .client
        .post(app.url("/api/oauth/introspect"))
        .basic_auth(&rp.client_id, rp.secret.as_deref())
        .form(&[("token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        introspected["permissions"],
        json!(["invoices:read", "invoices:write", "till:open"])
    );

    // Without the scopes, none of it.
    let code = code_for(&app, &other, &bob, &[("scope", "openid profile")]).await;
    let (_, tokens) = exchange(&app, &other, &code, Some(VERIFIER)).await;
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert!(
        id.get("roles").is_none() && id.get("groups").is_none(),
        "{id}"
    );
    // The other client sees its own application role, not the first's.
    let code = code_for(&app, &other, &bob, &[("scope", "openid roles")]).await;
    let (_, tokens) = exchange(&app, &other, &code, Some(VERIFIER)).await;
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id["roles"],
        json!(["user", "moderator", "editor", "auditor"])
    );

    // Discovery names the new scope and claims.
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert!(discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("groups")));
    assert!(discovery["claims_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("groups")));

    // A client deleted takes its application roles with it.
    expect(
        &app,
        M::DELETE,
        &format!("/api/admin/clients/{}", other.client_id),
        &admin,
        None,
        204,
    )
    .await;
    let roles = expect(&app, M::GET, "/api/admin/roles", &admin, None, 200).await;
    assert!(!roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "auditor"));
    app.stop().await;
}

async fn a_user_in_two_hundred_groups_gets_a_bounded_id_token(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let rp = register(&app, false, None).await;
    let bob_id = app.create_user("bob", &[]).await;
    // 200 groups, each name 20 characters, through the same use case as the API.
    let notify = app.state().notifier();
    let actor = portcullis::service::admin::Actor::CommandLine { force: false };
    for i in 0..200 {
        let name = format!("team-with-long-{i:05}");
        portcullis::service::groups::create_group(
            &notify,
            actor,
            portcullis::service::groups::NewGroup {
                name: name.clone(),
                description: None,
                roles: vec!["editor".into()],
            },
        )
        .await
        .unwrap();
        portcullis::service::groups::set_membership(&notify, actor, &name, bob_id, true)
            .await
            .unwrap();
    }
    let bob = app.signin("bob", PASSWORD).await;
    let code = code_for(&app, &rp, &bob, &[("scope", "openid roles groups")]).await;
    let (status, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    // The groups moved to userinfo (OpenID Connect Core §5.6.2): the token stays small.
    assert!(id_token.len() < 2048, "{} bytes", id_token.len());
    let id = claims_of(id_token);
    assert!(id.get("groups").is_none(), "{id}");
    assert_eq!(id["_claim_names"], json!({"groups": "userinfo"}));
    assert_eq!(
        id["_claim_sources"]["userinfo"]["endpoint"],
        format!("{}/api/oauth/userinfo", app.settings.public_base())
    );
    assert_eq!(id["roles"], json!(["user", "editor"]));
    let (_, info) = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["groups"].as_array().unwrap().len(), 200);
    // The first-party access token never carried them.
    assert!(bob.access.as_deref().unwrap().len() < 600);
    let me = expect(&app, M::GET, "/api/auth/me", &bob.bearer(), None, 200).await;
    assert_eq!(me["groups"].as_array().unwrap().len(), 200);
    let _ = admin;
    app.stop().await;
}

async fn rights_changes_are_audited_with_what_changed(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = setup(&app).await;
    let bob_id = app.create_user("bob", &[]).await;
    expect(
        &app,
        M::PUT,
        &format!("/api/admin/groups/payments/members/{bob_id}"),
        &admin,
        None,
        204,
    )
    .await;
    expect(
        &app,
        M::DELETE,
        "/api/admin/roles/editor?cascade=true",
        &admin,
        None,
        204,
    )
    .await;
    let bob = app.signin("bob", PASSWORD).await.bearer();
    let made = expect(
        &app,
        M::POST,
        "/api/auth/api-keys",
        &bob,
        Some(json!({"name": "k"})),
        201,
    )
    .await;
    expect(
        &app,
        M::DELETE,
        &format!("/api/auth/api-keys/{}", made["id"]),
        &bob,
        None,
        204,
    )
    .await;
    let audit = expect(
        &app,
        M::GET,
        "/api/admin/audit?limit=100",
        &admin,
        None,
        200,
    )
    .await;
    let events: Vec<(String, Value, Value)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["detail"].clone(),
                e["subjectId"].clone(),
            )
        })
        .collect();
    let find = |name: &str| {
        events
            .iter()
            .find(|(e, _, _)| e == name)
            .unwrap_or_else(|| panic!("{name} in {events:?}"))
    };
    assert_eq!(find("permission_created").1, "permission invoices:read");
    assert_eq!(
        find("role_created").1,
        "role editor: invoices:write invoices:read"
    );
    assert_eq!(find("group_created").1, "group payments: editor");
    assert_eq!(find("group_member_added").1, "group payments");
    assert_eq!(find("group_member_added").2, bob_id);
    assert_eq!(
        find("role_deleted").1,
        "role editor: taken from 0 accounts and 1 groups"
    );
    assert!(find("api_key_created")
        .1
        .as_str()
        .unwrap()
        .starts_with("api key k (pck_"));
    assert!(find("api_key_revoked")
        .1
        .as_str()
        .unwrap()
        .starts_with("api key k (pck_"));
    app.stop().await;
}

/// A key outlives the session that made it: as for adding a passkey, a stolen session alone
/// must not mint one (a sign-in within 10 minutes, or the password again).
async fn a_key_needs_a_recent_signin_or_the_password(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let bob = app.user_session("bob", &[]).await.bearer();
    app.clock.advance(std::time::Duration::from_secs(601));
    let body = expect(
        &app,
        M::POST,
        "/api/auth/api-keys",
        &bob,
        Some(json!({"name": "late"})),
        403,
    )
    .await;
    assert_eq!(body["code"], "reauthentication_required", "{body}");
    let body = expect(
        &app,
        M::POST,
        "/api/auth/api-keys",
        &bob,
        Some(json!({"name": "late", "password": "not the password"})),
        403,
    )
    .await;
    assert_eq!(body["code"], "wrong_password", "{body}");
    let made = expect(
        &app,
        M::POST,
        "/api/auth/api-keys",
        &bob,
        Some(json!({"name": "late", "password": PASSWORD})),
        201,
    )
    .await;
    assert!(made["key"].as_str().unwrap().starts_with("pck_"));
    let list = expect(&app, M::GET, "/api/auth/api-keys", &bob, None, 200).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "the refused ones made nothing"
    );
    app.stop().await;
}

/// A page on another site that makes the browser POST with its cookies gets no key (the
/// cross-site rule of every cookie-authenticated change); the same request from our origin does.
async fn another_site_cannot_mint_a_key_with_the_browsers_cookies(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let bob = app.user_session("bob", &[]).await;
    let post = |origin: &str| {
        app.client
            .post(app.url("/api/auth/api-keys"))
            .header("Cookie", bob.cookie_header())
            .header("Origin", origin.to_string())
            .json(&json!({"name": "planted"}))
    };
    let response = post("https://evil.example").send().await.unwrap();
    let body = assert_error(response, 403, "Cross-site request refused.", "csrf").await;
    assert_eq!(body["code"], "csrf");
    let list = expect(&app, M::GET, "/api/auth/api-keys", &bob.bearer(), None, 200).await;
    assert_eq!(list["items"], json!([]), "no key was made");
    let response = post(&app.base)
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    app.stop().await;
}
