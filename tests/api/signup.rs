//! POST /api/auth/signup: every row of docs/API.md's table, and the race.
use futures::future::join_all;
use portcullis::domain::Role;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    signup_creates_a_user_who_can_sign_in,
    username_is_unique_without_regard_to_case,
    email_is_unique_without_regard_to_case,
    unknown_role_is_refused_by_name,
    only_an_admin_may_assign_roles,
    invalid_fields_say_which_field_and_why,
    common_passwords_are_refused,
    concurrent_identical_signups_create_exactly_one_account,
);

// Admission to the hashing pool goes by the measured hashing rate, so what an idle server
// admits is measured on an idle machine, by hand (scripts/test says how), not in CI.
on_every_database!(
    #[ignore = "needs an idle machine, and measures its speed: run it by hand (--ignored on_an_idle_machine; see scripts/test)"]
    a_burst_of_64_signups_a_core_at_the_default_cost_is_admitted_on_an_idle_machine,
);

async fn signup_creates_a_user_who_can_sign_in(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let response = app.signup("Alice", "Alice@Example.com", PASSWORD).await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "User registered successfully!", "code": "created"})
    );

    let session = app.signin("alice", PASSWORD).await;
    assert_eq!(session.body["username"], "Alice", "stored as typed");
    assert_eq!(session.body["email"], "Alice@Example.com");
    assert_eq!(session.body["roles"], json!(["ROLE_USER"]));
    // Signing in by email works too, in any case.
    app.signin("alice@example.COM", PASSWORD).await;
    app.stop().await;
}

async fn username_is_unique_without_regard_to_case(db: DbKind) {
    let app = TestApp::spawn(db).await;
    assert_eq!(
        app.signup("alice", "a1@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let again = app.signup("ALICE", "a2@example.com", PASSWORD).await;
    assert_error(
        again,
        409,
        "Failed! Username is already in use!",
        "username_taken",
    )
    .await;
    app.stop().await;
}

async fn email_is_unique_without_regard_to_case(db: DbKind) {
    let app = TestApp::spawn(db).await;
    assert_eq!(
        app.signup("alice", "alice@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let again = app.signup("bob", "ALICE@EXAMPLE.COM", PASSWORD).await;
    assert_error(
        again,
        409,
        "Failed! Email is already in use!",
        "email_taken",
    )
    .await;
    app.stop().await;
}

async fn unknown_role_is_refused_by_name(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let response = app
        .post("/api/auth/signup", json!({"username": "alice", "email": "a@example.com", "password": PASSWORD, "roles": ["user", "superuser"]}))
        .await;
    assert_error(
        response,
        400,
        "Failed! Role does not exist = superuser",
        "unknown_role",
    )
    .await;
    app.stop().await;
}

async fn only_an_admin_may_assign_roles(db: DbKind) {
    let app = TestApp::spawn(db).await;
    for roles in [
        json!(["admin"]),
        json!(["moderator"]),
        json!(["user", "moderator"]),
    ] {
        let response = app
            .post("/api/auth/signup", json!({"username": "mallory", "email": "m@example.com", "password": PASSWORD, "roles": roles}))
            .await;
        assert_error(
            response,
            403,
            "Require Admin Role to assign roles!",
            "forbidden",
        )
        .await;
    }
    // Asking for just "user" is what everyone gets anyway.
    let plain = app
        .post("/api/auth/signup", json!({"username": "carol", "email": "c@example.com", "password": PASSWORD, "roles": ["user"]}))
        .await;
    assert_eq!(plain.status(), 201);

    // A moderator may not either.
    let moderator = app.user_session("mod1", &[Role::Moderator]).await;
    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("Authorization", moderator.bearer())
        .json(&json!({"username": "mallory", "email": "m@example.com", "password": PASSWORD, "roles": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let admin = app.user_session("root1", &[Role::Admin]).await;
    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("Authorization", admin.bearer())
        .json(&json!({"username": "dave", "email": "d@example.com", "password": PASSWORD, "roles": ["moderator"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let dave = app.signin("dave", PASSWORD).await;
    assert_eq!(dave.body["roles"], json!(["ROLE_USER", "ROLE_MODERATOR"]));
    app.stop().await;
}

async fn invalid_fields_say_which_field_and_why(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let cases = [
        (
            json!({"username": "al", "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "a".repeat(21), "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "al ice", "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "alice", "email": "not-an-email", "password": PASSWORD}),
            "email",
        ),
        (
            json!({"username": "alice", "email": format!("{}@example.com", "a".repeat(250)), "password": PASSWORD}),
            "email",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": "x".repeat(129)}),
            "password",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": "alice-rocks-2024"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (json!({"username": "alice", "password": PASSWORD}), "email"),
        (
            json!({"username": "alice", "email": "a@example.com"}),
            "password",
        ),
        (
            json!({"username": 42, "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": PASSWORD, "isAdmin": true}),
            "isAdmin",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": PASSWORD, "roles": "admin"}),
            "roles",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/api/auth/signup", body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["code"], "invalid_request", "{body}");
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{body} -> {error}"
        );
    }
    // Nothing was created along the way.
    assert_eq!(
        app.signup("alice", "a@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    app.stop().await;
}

async fn common_passwords_are_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    for password in ["password123", "12345678", "qwertyuiop", "Iloveyou!"] {
        let response = app.signup("alice", "a@example.com", password).await;
        assert_error(
            response,
            400,
            "Password is too common.",
            "password_too_common",
        )
        .await;
    }
    app.stop().await;
}

async fn concurrent_identical_signups_create_exactly_one_account(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let attempts = (0..64).map(|_| app.signup("racer", "racer@example.com", PASSWORD));
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    app.signin("racer", PASSWORD).await;
    app.stop().await;
}

/// An office signing up at nine: 64 simultaneous signups of one identity per core, with
/// the default argon2 cost, are all hashed and answered (one 201, the rest 409), none shed.
async fn a_burst_of_64_signups_a_core_at_the_default_cost_is_admitted_on_an_idle_machine(
    db: DbKind,
) {
    let _alone = hashing_alone().await;
    let app = TestApp::spawn_with(db, |s| {
        s.argon2 = portcullis::config::Settings::defaults().argon2;
    })
    .await;
    // A hash done first, so that admission has a measured hash time to go by.
    assert_eq!(
        app.signup("early", "early@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let cores = std::thread::available_parallelism().unwrap().get();
    let attempts = (0..64 * cores).map(|_| app.signup("office", "office@example.com", PASSWORD));
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (count(201), count(409)),
        (1, 64 * cores - 1),
        "{statuses:?}"
    );
    app.stop().await;
}
