//! Signing up with a passkey and no password (issue 27, docs/API.md §2 "Signing up with a
//! passkey"), with the software authenticator, on every database: off unless the operator
//! turns it on; the account made only once the authenticator answered, signed in, and able
//! to sign in again with its passkey and never with a password it was never given; the
//! ceremony spent once; a name taken meanwhile; and the last way in kept.
use portcullis::domain::Role;
use reqwest::Method as M;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;
use crate::passkeys::{call, json_of, passkey_signin};

on_every_database!(
    passkey_signup_is_off_unless_the_operator_turns_it_on,
    a_passkey_makes_a_signed_in_account_that_has_no_password,
    a_signup_ceremony_works_once_and_names_taken_meanwhile_are_refused,
    the_last_passkey_of_an_account_without_a_password_stays,
    another_site_cannot_finish_a_signup_in_a_visitors_browser,
);

const START: &str = "/api/auth/passkeys/signup/start";
const FINISH: &str = "/api/auth/passkeys/signup/finish";

async fn on(db: DbKind) -> TestApp {
    TestApp::spawn_with(db, |s| s.passkey_signup = true).await
}

async fn start(app: &TestApp, username: &str, email: &str) -> reqwest::Response {
    app.post(START, json!({"username": username, "email": email}))
        .await
}

/// Signs up `username` with `key`: the answer of the finish.
async fn sign_up(app: &TestApp, key: &mut SoftPasskey, username: &str) -> reqwest::Response {
    let options = json_of(
        start(app, username, &format!("{username}@example.com")).await,
        200,
    )
    .await;
    let credential = key.register(&options);
    app.post(FINISH, json!({"credential": credential, "name": "Laptop"}))
        .await
}

async fn passkey_signup_is_off_unless_the_operator_turns_it_on(db: DbKind) {
    let app = TestApp::spawn(db.clone()).await;
    let policy = json_of(app.get("/api/auth/policy").await, 200).await;
    assert_eq!(policy["passkeySignup"], false);
    let body = json_of(start(&app, "alice", "alice@example.com").await, 403).await;
    assert_eq!(body["code"], "passkey_signup_disabled");
    let body = json_of(app.post(FINISH, json!({"credential": {}})).await, 403).await;
    assert_eq!(body["code"], "passkey_signup_disabled");
    app.stop().await;

    let app = on(db).await;
    let policy = json_of(app.get("/api/auth/policy").await, 200).await;
    assert_eq!(policy["passkeySignup"], true);
    app.stop().await;
}

async fn a_passkey_makes_a_signed_in_account_that_has_no_password(db: DbKind) {
    let app = on(db).await;
    let mut key = SoftPasskey::localhost();
    let response = sign_up(&app, &mut key, "alice").await;
    assert_eq!(response.status(), 201);
    let session = Session::from_response(response).await;
    assert_eq!(session.body["username"], "alice");
    assert_eq!(session.body["roles"], json!(["ROLE_USER"]));
    let me = json_of(get_as(&app, "/api/auth/me", &session).await, 200).await;
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["emailVerified"], false);
    let passkeys = json_of(get_as(&app, "/api/auth/passkeys", &session).await, 200).await;
    assert_eq!(
        passkeys["items"].as_array().map(Vec::len),
        Some(1),
        "{passkeys}"
    );
    assert_eq!(passkeys["items"][0]["name"], "Laptop");

    // The passkey signs in again, without a username.
    let again = passkey_signin(&app, &mut key).await;
    assert_eq!(again.body["username"], "alice");
    // No password it was given works: there is none.
    for guess in ["", "password", "alice"] {
        let response = app.signin_raw("alice", guess).await;
        assert!(matches!(response.status().as_u16(), 400 | 401), "{guess}");
    }

    let admin = app.user_session("root", &[Role::Admin]).await;
    let audit = json_of(get_as(&app, "/api/admin/audit?limit=20", &admin).await, 200).await;
    let items = audit["items"].as_array().unwrap();
    let signup = items
        .iter()
        .find(|i| i["event"] == "signup" && i["username"] == "alice")
        .expect("the sign-up is audited");
    assert_eq!(signup["outcome"], "ok");
    assert_eq!(signup["detail"], "passkey");
    assert!(items
        .iter()
        .any(|i| i["event"] == "passkey_registered" && i["username"] == "alice"));
    app.stop().await;
}

async fn a_signup_ceremony_works_once_and_names_taken_meanwhile_are_refused(db: DbKind) {
    let app = on(db).await;
    app.create_user("taken", &[]).await;
    let body = json_of(start(&app, "taken", "new@example.com").await, 409).await;
    assert_eq!(body["code"], "username_taken");
    let body = json_of(start(&app, "fresh", "taken@example.com").await, 409).await;
    assert_eq!(body["code"], "email_taken");
    let body = json_of(start(&app, "x", "fresh@example.com").await, 400).await;
    assert_eq!(body["code"], "invalid_request");

    // A ceremony's answer is taken once.
    let mut key = SoftPasskey::localhost();
    let options = json_of(start(&app, "bob", "bob@example.com").await, 200).await;
    let credential = key.register(&options);
    let first = app
        .post(FINISH, json!({"credential": credential.clone()}))
        .await;
    assert_eq!(first.status(), 201);
    let replay = json_of(
        app.post(FINISH, json!({"credential": credential})).await,
        400,
    )
    .await;
    assert_eq!(replay["code"], "passkey_rejected");

    // Two ceremonies for one name: the first to finish has it.
    let (mut one, mut two) = (SoftPasskey::localhost(), SoftPasskey::localhost());
    let first = json_of(start(&app, "carol", "carol@example.com").await, 200).await;
    let second = json_of(start(&app, "carol", "carol2@example.com").await, 200).await;
    let won = app
        .post(FINISH, json!({"credential": one.register(&first)}))
        .await;
    assert_eq!(won.status(), 201);
    let lost = app
        .post(FINISH, json!({"credential": two.register(&second)}))
        .await;
    let body = json_of(lost, 409).await;
    assert_eq!(body["code"], "username_taken");
    app.stop().await;
}

async fn the_last_passkey_of_an_account_without_a_password_stays(db: DbKind) {
    let app = on(db).await;
    let mut key = SoftPasskey::localhost();
    let session = Session::from_response(sign_up(&app, &mut key, "dora").await).await;
    let listed = json_of(get_as(&app, "/api/auth/passkeys", &session).await, 200).await;
    let first = listed["items"][0]["id"].as_i64().unwrap();
    // Just signed in: recent enough to change factors.
    let response = call(
        &app,
        M::DELETE,
        &format!("/api/auth/passkeys/{first}"),
        Some(&session),
        None,
    )
    .await;
    let body = json_of(response, 409).await;
    assert_eq!(body["code"], "last_signin_method");

    // With a second passkey, either may go, but not both.
    let mut spare = SoftPasskey::localhost();
    crate::passkeys::register(&app, &session, &mut spare, "Phone").await;
    let response = call(
        &app,
        M::DELETE,
        &format!("/api/auth/passkeys/{first}"),
        Some(&session),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let listed = json_of(get_as(&app, "/api/auth/passkeys", &session).await, 200).await;
    let last = listed["items"][0]["id"].as_i64().unwrap();
    let response = call(
        &app,
        M::DELETE,
        &format!("/api/auth/passkeys/{last}"),
        Some(&session),
        None,
    )
    .await;
    assert_eq!(json_of(response, 409).await["code"], "last_signin_method");
    app.stop().await;
}

/// Login CSRF: another site holding a finished ceremony of its own (an account it made)
/// cannot have a visitor's browser post it to sign the visitor in as that account. A form
/// is all a page may send cross-site without a preflight, and the route takes JSON only;
/// the ceremony is untouched and still finishes for its owner.
async fn another_site_cannot_finish_a_signup_in_a_visitors_browser(db: DbKind) {
    let app = on(db).await;
    let mut key = SoftPasskey::localhost();
    let options = json_of(start(&app, "mallory", "mallory@example.com").await, 200).await;
    let credential = key.register(&options);
    let form = app
        .client
        .post(app.url(FINISH))
        .header("Origin", "http://evil.example")
        .form(&[("credential", credential.to_string())])
        .send()
        .await
        .unwrap();
    assert!(
        form.headers().get("set-cookie").is_none(),
        "no session handed out"
    );
    let body = json_of(form, 415).await;
    assert_eq!(body["code"], "unsupported_media_type");
    let owner = app.post(FINISH, json!({"credential": credential})).await;
    assert_eq!(
        owner.status(),
        201,
        "the ceremony was not spent by the refused post"
    );
    app.stop().await;
}
