//! Passkeys (docs/API.md §2, "Passkeys and two factors"), with a software authenticator
//! (tests/support/authenticator.rs) on every database: registration, sign-in without a
//! username, single-use and expiring challenges any node can finish, cloned credentials,
//! disabled accounts, and removal under the recent-sign-in rule.
use std::time::Duration;

use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    a_registered_passkey_signs_in_without_a_username,
    challenges_work_once_expire_and_belong_to_their_ceremony,
    a_ceremony_begun_on_one_node_finishes_on_another,
    a_counter_that_goes_backwards_is_refused_and_audited,
    a_disabled_or_deleted_accounts_passkey_is_refused,
    passkeys_are_renamed_and_removed_under_the_recent_signin_rule,
    adding_a_passkey_or_an_app_needs_a_recent_signin_or_the_password,
    a_passkey_of_another_origin_or_registered_twice_is_refused,
    passkeys_are_off_without_a_relying_party_browsers_accept,
);

/// A request with the session's bearer token (if any) and a JSON body (if any).
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    session: Option<&Session>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(session) = session {
        request = request.header("Authorization", session.bearer());
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

pub async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let code = response.status();
    let body: Value = response.json().await.expect("json body");
    assert_eq!(code, status, "{body}");
    body
}

/// Registers `key` on the session's account; the new passkey as listed.
pub async fn register(
    app: &TestApp,
    session: &Session,
    key: &mut SoftPasskey,
    name: &str,
) -> Value {
    let options = json_of(
        call(
            app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/start",
            Some(session),
            None,
        )
        .await,
        200,
    )
    .await;
    let credential = key.register(&options);
    json_of(
        call(
            app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/finish",
            Some(session),
            Some(json!({ "credential": credential, "name": name })),
        )
        .await,
        201,
    )
    .await
}

pub async fn signin_options(app: &TestApp) -> Value {
    json_of(
        app.post("/api/auth/passkeys/signin/start", json!({})).await,
        200,
    )
    .await
}

pub async fn finish_signin(app: &TestApp, credential: Value) -> reqwest::Response {
    app.post(
        "/api/auth/passkeys/signin/finish",
        json!({ "credential": credential }),
    )
    .await
}

/// Signs in with `key`: the session it opened.
pub async fn passkey_signin(app: &TestApp, key: &mut SoftPasskey) -> Session {
    let options = signin_options(app).await;
    let response = finish_signin(app, key.sign(&options)).await;
    assert_eq!(response.status(), 200, "passkey sign-in");
    Session::from_response(response).await
}

/// The audit trail's event names, newest first.
pub async fn events(app: &TestApp, admin: &Session) -> Vec<(String, String)> {
    let body = json_of(get_as(app, "/api/admin/audit?limit=100", admin).await, 200).await;
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["event"].as_str().unwrap_or_default().to_string(),
                i["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn assert_refused(response: reqwest::Response) {
    assert_error(response, 401, "Passkey sign-in failed.", "passkey_invalid").await;
}

async fn a_registered_passkey_signs_in_without_a_username(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;

    let options = json_of(
        call(
            &app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/start",
            Some(&alice),
            None,
        )
        .await,
        200,
    )
    .await;
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert_eq!(
        public_key["authenticatorSelection"]["residentKey"],
        "required"
    );
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(public_key["attestation"], "none");
    assert_eq!(public_key["user"]["name"], "alice");
    let handle = public_key["user"]["id"].as_str().expect("user handle");
    assert_ne!(handle, "alice");
    assert_ne!(
        handle,
        alice.body["id"].to_string(),
        "the handle is not the database id"
    );

    let mut key = SoftPasskey::localhost();
    let credential = key.register(&options);
    let created = json_of(
        call(
            &app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/finish",
            Some(&alice),
            Some(json!({ "credential": credential, "name": "Laptop" })),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(created["name"], "Laptop");
    assert_eq!(created["lastUsedAt"], Value::Null);
    assert!(is_rfc3339_millis(created["createdAt"].as_str().unwrap()));

    let listed = json_of(get_as(&app, "/api/auth/passkeys", &alice).await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], created["id"]);

    // No username anywhere: the options allow any credential, the answer names the account.
    let options = signin_options(&app).await;
    assert!(options["publicKey"]
        .get("allowCredentials")
        .is_none_or(|a| a.as_array().is_some_and(Vec::is_empty)));
    assert!(options.get("mediation").is_none());
    let response = finish_signin(&app, key.sign(&options)).await;
    assert_eq!(response.status(), 200);
    let session = Session::from_response(response).await;
    assert_eq!(session.body["username"], "alice");
    assert_eq!(session.body["roles"], json!(["ROLE_USER"]));
    assert_eq!(session.body["tokenType"], "Bearer");
    assert!(
        session.cookies.contains_key("portcullis_access"),
        "cookies as for a password sign-in"
    );
    // The same answer as a password sign-in: the same keys. (Not alice's: her passkey is
    // a second factor now.)
    let bob = app.user_session("bob", &[]).await;
    let password = bob;
    assert_eq!(keys(&session.body), keys(&password.body));

    let me = json_of(get_as(&app, "/api/auth/me", &session).await, 200).await;
    assert_eq!(me["username"], "alice");
    let sessions = json_of(get_as(&app, "/api/auth/sessions", &session).await, 200).await;
    let current = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .expect("current session")
        .clone();
    assert_eq!(current["method"], "passkey");
    let listed = json_of(get_as(&app, "/api/auth/passkeys", &alice).await, 200).await;
    assert!(listed["items"][0]["lastUsedAt"].is_string());

    let events = events(&app, &admin).await;
    assert!(
        events.contains(&("passkey_registered".into(), "ok".into())),
        "{events:?}"
    );
    assert!(
        events.contains(&("signin_passkey".into(), "ok".into())),
        "{events:?}"
    );
    app.stop().await;
}

async fn challenges_work_once_expire_and_belong_to_their_ceremony(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    app.create_user("bob", &[]).await;
    let mut key = SoftPasskey::localhost();
    register(&app, &alice, &mut key, "Laptop").await;

    // Once: the same answer again is refused.
    let options = signin_options(&app).await;
    let credential = key.sign(&options);
    assert_eq!(finish_signin(&app, credential.clone()).await.status(), 200);
    assert_refused(finish_signin(&app, credential).await).await;

    // Two minutes: later, the challenge is gone.
    let options = signin_options(&app).await;
    app.clock.advance(Duration::from_secs(121));
    assert_refused(finish_signin(&app, key.sign(&options)).await).await;

    // A registration's challenge does not sign in, and bob cannot finish alice's.
    let options = json_of(
        call(
            &app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/start",
            Some(&alice),
            None,
        )
        .await,
        200,
    )
    .await;
    let mut other = SoftPasskey::localhost();
    let registration = other.register(&options);
    let bob = app.signin("bob", PASSWORD).await;
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/auth/passkeys/register/finish",
        Some(&bob),
        Some(json!({ "credential": registration })),
    )
    .await;
    assert_error(
        response,
        400,
        "The passkey could not be verified.",
        "passkey_rejected",
    )
    .await;
    assert_refused(finish_signin(&app, other.sign(&options)).await).await;

    // Garbage is a refusal, not a crash.
    assert_refused(finish_signin(&app, json!({"id": "x"})).await).await;
    assert_refused(finish_signin(&app, json!("a string")).await).await;
    let response = app
        .post("/api/auth/passkeys/signin/finish", json!({}))
        .await;
    assert_eq!(response.status(), 400);
    app.stop().await;
}

async fn a_ceremony_begun_on_one_node_finishes_on_another(db: DbKind) {
    let one = TestApp::spawn(db).await;
    let two = TestApp::spawn_on(one.db.shared(), |_| {}).await;
    let alice = one.user_session("alice", &[]).await;
    let mut key = SoftPasskey::localhost();

    let options = json_of(
        call(
            &one,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/start",
            Some(&alice),
            None,
        )
        .await,
        200,
    )
    .await;
    let credential = key.register(&options);
    let response = call(
        &two,
        reqwest::Method::POST,
        "/api/auth/passkeys/register/finish",
        Some(&alice),
        Some(json!({ "credential": credential })),
    )
    .await;
    let created = json_of(response, 201).await;
    assert_eq!(created["name"], "Passkey", "the default name");

    let options = signin_options(&two).await;
    let response = finish_signin(&one, key.sign(&options)).await;
    assert_eq!(response.status(), 200);
    two.stop().await;
    one.stop().await;
}

async fn a_counter_that_goes_backwards_is_refused_and_audited(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    let mut key = SoftPasskey::localhost();
    register(&app, &alice, &mut key, "Key").await;

    let options = signin_options(&app).await;
    assert_eq!(
        finish_signin(&app, key.sign_with_counter(&options, 5))
            .await
            .status(),
        200
    );
    // A clone of the key, still at 3.
    let options = signin_options(&app).await;
    assert_refused(finish_signin(&app, key.sign_with_counter(&options, 3)).await).await;
    let options = signin_options(&app).await;
    assert_refused(finish_signin(&app, key.sign_with_counter(&options, 5)).await).await;
    // The real key moves on.
    let options = signin_options(&app).await;
    assert_eq!(
        finish_signin(&app, key.sign_with_counter(&options, 6))
            .await
            .status(),
        200
    );

    let events = events(&app, &admin).await;
    assert!(
        events.contains(&("passkey_counter_regressed".into(), "failed".into())),
        "{events:?}"
    );
    assert!(
        events.contains(&("signin_passkey".into(), "failed".into())),
        "{events:?}"
    );
    app.stop().await;
}

async fn a_disabled_or_deleted_accounts_passkey_is_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    let alice_id = alice.body["id"].as_i64().unwrap();
    let mut key = SoftPasskey::localhost();
    register(&app, &alice, &mut key, "Key").await;

    let path = format!("/api/admin/users/{alice_id}");
    let response = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let options = signin_options(&app).await;
    assert_refused(finish_signin(&app, key.sign(&options)).await).await;

    let response = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(response.status(), 200);
    passkey_signin(&app, &mut key).await;

    let response = call(&app, reqwest::Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(response.status(), 204);
    let options = signin_options(&app).await;
    assert_refused(finish_signin(&app, key.sign(&options)).await).await;
    app.stop().await;
}

/// A stolen access token alone must not add its thief's passkey or authenticator app
/// (issue 22, item 1): after ten minutes, adding one needs the password, as removing does.
async fn adding_a_passkey_or_an_app_needs_a_recent_signin_or_the_password(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let start = |body: Option<Value>| {
        let (app, alice) = (&app, &alice);
        async move {
            call(
                app,
                reqwest::Method::POST,
                "/api/auth/passkeys/register/start",
                Some(alice),
                body,
            )
            .await
        }
    };
    let setup = |body: Option<Value>| {
        let (app, alice) = (&app, &alice);
        async move {
            call(
                app,
                reqwest::Method::POST,
                "/api/auth/mfa/totp/setup",
                Some(alice),
                body,
            )
            .await
        }
    };
    for response in [start(None).await, setup(None).await] {
        assert_error(
            response,
            403,
            "Sign in again, or give your password, to do this.",
            "reauthentication_required",
        )
        .await;
    }
    let wrong = json!({"password": "wrong password"});
    for response in [start(Some(wrong.clone())).await, setup(Some(wrong)).await] {
        assert_error(
            response,
            403,
            "Current password is incorrect.",
            "wrong_password",
        )
        .await;
    }
    // Nothing was begun: a confirmation has no pending app, a finish no ceremony.
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/auth/mfa/totp/confirm",
        Some(&alice),
        Some(json!({"code": "123456"})),
    )
    .await;
    assert_eq!(response.status(), 409);
    let status = json_of(
        call(
            &app,
            reqwest::Method::GET,
            "/api/auth/mfa",
            Some(&alice),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(status["passkeys"], 0, "{status}");
    assert_eq!(status["totp"], false, "{status}");

    // With the password, both go through.
    let password = json!({ "password": PASSWORD });
    let options = json_of(start(Some(password.clone())).await, 200).await;
    let mut key = SoftPasskey::localhost();
    let credential = key.register(&options);
    let added = call(
        &app,
        reqwest::Method::POST,
        "/api/auth/passkeys/register/finish",
        Some(&alice),
        Some(json!({ "credential": credential, "name": "Laptop" })),
    )
    .await;
    assert_eq!(json_of(added, 201).await["name"], "Laptop");
    let totp = json_of(setup(Some(password)).await, 200).await;
    assert!(totp["secret"].as_str().is_some(), "{totp}");

    // A fresh sign-in needs no password.
    let fresh = app.user_session("bob", &[]).await;
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/auth/passkeys/register/start",
        Some(&fresh),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    app.stop().await;
}

async fn passkeys_are_renamed_and_removed_under_the_recent_signin_rule(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    let bob = app.user_session("bob", &[]).await;
    let mut first = SoftPasskey::localhost();
    let mut second = SoftPasskey::localhost();
    let one = register(&app, &alice, &mut first, "First").await;
    let two = register(&app, &alice, &mut second, "Second").await;
    let path = |p: &Value| format!("/api/auth/passkeys/{}", p["id"]);

    let renamed = json_of(
        call(
            &app,
            reqwest::Method::PATCH,
            &path(&one),
            Some(&alice),
            Some(json!({"name": " Phone "})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(renamed["name"], "Phone");
    let response = call(
        &app,
        reqwest::Method::PATCH,
        &path(&one),
        Some(&bob),
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_error(response, 404, "Not found.", "not_found").await;
    for bad in [
        json!({"name": ""}),
        json!({"name": "x".repeat(65)}),
        json!({"name": "a\u{7}b"}),
        json!({}),
    ] {
        let response = call(
            &app,
            reqwest::Method::PATCH,
            &path(&one),
            Some(&alice),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(response.status(), 400, "{bad}");
    }
    let response = call(
        &app,
        reqwest::Method::PATCH,
        "/api/auth/passkeys/abc",
        Some(&alice),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(response.status(), 400);

    // Within ten minutes of signing in: no password needed. Not someone else's, though.
    let response = call(&app, reqwest::Method::DELETE, &path(&one), Some(&bob), None).await;
    assert_error(response, 404, "Not found.", "not_found").await;
    let response = call(
        &app,
        reqwest::Method::DELETE,
        &path(&one),
        Some(&alice),
        None,
    )
    .await;
    let body = json_of(response, 200).await;
    assert_eq!(body["message"], "Passkey removed.");
    let options = signin_options(&app).await;
    assert_refused(finish_signin(&app, first.sign(&options)).await).await;

    // Later, the password again (or a fresh sign-in).
    app.clock.advance(Duration::from_secs(11 * 60));
    let response = call(
        &app,
        reqwest::Method::DELETE,
        &path(&two),
        Some(&alice),
        None,
    )
    .await;
    assert_error(
        response,
        403,
        "Sign in again, or give your password, to do this.",
        "reauthentication_required",
    )
    .await;
    let response = call(
        &app,
        reqwest::Method::DELETE,
        &path(&two),
        Some(&alice),
        Some(json!({"password": "wrong password"})),
    )
    .await;
    assert_error(
        response,
        403,
        "Current password is incorrect.",
        "wrong_password",
    )
    .await;
    let fresh = passkey_signin(&app, &mut second).await;
    let response = call(
        &app,
        reqwest::Method::DELETE,
        &path(&two),
        Some(&fresh),
        None,
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "a passkey sign-in is a recent sign-in"
    );
    let listed = json_of(get_as(&app, "/api/auth/passkeys", &alice).await, 200).await;
    assert_eq!(listed["items"], json!([]));

    let mut third = SoftPasskey::localhost();
    let three = register(&app, &fresh, &mut third, "Third").await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let fresh = passkey_signin(&app, &mut third).await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let response = call(
        &app,
        reqwest::Method::DELETE,
        &path(&three),
        Some(&fresh),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "the password stands in for a recent sign-in"
    );
    app.stop().await;
}

async fn a_passkey_of_another_origin_or_registered_twice_is_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    let start = || {
        call(
            &app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/start",
            Some(&alice),
            None,
        )
    };
    let finish = |credential: Value| {
        call(
            &app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/finish",
            Some(&alice),
            Some(json!({ "credential": credential })),
        )
    };

    // A phishing page's origin, and another site's RP id.
    for mut key in [
        SoftPasskey::new("https://evil.example", "localhost"),
        SoftPasskey::new("http://localhost:8080", "evil.example"),
    ] {
        let options = json_of(start().await, 200).await;
        let response = finish(key.register(&options)).await;
        assert_error(
            response,
            400,
            "The passkey could not be verified.",
            "passkey_rejected",
        )
        .await;
    }

    let mut key = SoftPasskey::localhost();
    let options = json_of(start().await, 200).await;
    assert_eq!(finish(key.register(&options)).await.status(), 201);
    // Again on the same account: the options exclude it (a browser would not even offer
    // it), and webauthn-rs refuses what they exclude.
    let options = json_of(start().await, 200).await;
    let excluded = options["publicKey"]["excludeCredentials"]
        .as_array()
        .expect("excluded");
    assert_eq!(
        excluded.len(),
        1,
        "the registered passkey is excluded: {options}"
    );
    let response = finish(key.register(&options)).await;
    assert_error(
        response,
        400,
        "The passkey could not be verified.",
        "passkey_rejected",
    )
    .await;
    // On another account: one credential belongs to one account.
    let bob = app.user_session("bob", &[]).await;
    let options = json_of(
        call(
            &app,
            reqwest::Method::POST,
            "/api/auth/passkeys/register/start",
            Some(&bob),
            None,
        )
        .await,
        200,
    )
    .await;
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/auth/passkeys/register/finish",
        Some(&bob),
        Some(json!({ "credential": key.register(&options) })),
    )
    .await;
    assert_error(
        response,
        409,
        "This passkey is already registered.",
        "passkey_exists",
    )
    .await;

    // Signing in from a phishing origin fails too.
    let mut phished = SoftPasskey::localhost();
    register(&app, &alice, &mut phished, "Another").await;
    phished.origin = "https://evil.example".into();
    let options = signin_options(&app).await;
    assert_refused(finish_signin(&app, phished.sign(&options)).await).await;
    app.stop().await;
}

async fn passkeys_are_off_without_a_relying_party_browsers_accept(db: DbKind) {
    // Set explicitly, a relying party the public URL cannot use stops the server at start.
    let refused_db = TestDb::create(&db).await;
    let mut settings = test_settings(&refused_db.url);
    settings.public_url = "https://auth.example.com".into();
    settings.rp_id = Some("other.org".into());
    let refused =
        portcullis::server::Server::start(settings, portcullis::clock::Clock::default()).await;
    let why = format!("{:#}", refused.err().expect("refused"));
    assert!(why.contains("PORTCULLIS_RP_ID"), "{why}");

    // Derived from a public URL on an IP address (browsers refuse those), passkeys are off
    // and say so; the rest of the server, TOTP included, works.
    let app = TestApp::spawn_with(db, |s| s.public_url = "http://127.0.0.1:8080".into()).await;
    let policy = json_of(app.get("/api/auth/policy").await, 200).await;
    assert_eq!(policy["passkeys"], false);
    let response = app.post("/api/auth/passkeys/signin/start", json!({})).await;
    assert_error(
        response,
        403,
        "Passkeys are not enabled on this server: set PORTCULLIS_RP_ID.",
        "passkeys_disabled",
    )
    .await;
    let alice = app.user_session("alice", &[]).await;
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/auth/passkeys/register/start",
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(response.status(), 403);
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/auth/mfa/totp/setup",
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    app.stop().await;
}
