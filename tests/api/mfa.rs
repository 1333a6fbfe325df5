//! Two factors (docs/API.md §2, "Passkeys and two factors") on every database: TOTP
//! enrolment and recovery codes, the second step of a sign-in (codes once, the token's
//! life and limits, the throttle), a passkey as the second factor, removal, an admin's
//! view and reset, and enrolment required by role.
use std::time::Duration;

use portcullis::auth::totp;
use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;
use crate::passkeys::{call, events, json_of, register};

on_every_database!(
    a_totp_app_makes_signin_a_two_step_affair,
    a_code_works_once_and_the_second_step_token_has_limits,
    recovery_codes_stand_in_for_the_app_once_each,
    a_passkey_serves_as_the_second_factor,
    removing_the_app_needs_a_recent_signin_and_makes_signin_one_step_again,
    admins_see_and_reset_second_factors,
    a_required_second_factor_is_enrolled_during_signin,
    totp_secrets_are_sealed_when_a_key_encryption_key_is_set,
);

const POST: reqwest::Method = reqwest::Method::POST;

/// The code the app shows now, or `offset` steps from now.
pub(crate) fn code(app: &TestApp, secret: &str, offset: i64) -> String {
    let at = app.clock.now_secs() + offset * 30;
    totp::code_at(secret, at as u64).expect("code")
}

/// Enrols a TOTP app on the session's account: its secret and recovery codes.
pub(crate) async fn enrol(app: &TestApp, session: &Session) -> (String, Vec<String>) {
    let setup = json_of(
        call(app, POST, "/api/auth/mfa/totp/setup", Some(session), None).await,
        200,
    )
    .await;
    let secret = setup["secret"].as_str().expect("secret").to_string();
    let confirmed = json_of(
        call(
            app,
            POST,
            "/api/auth/mfa/totp/confirm",
            Some(session),
            Some(json!({ "code": code(app, &secret, 0) })),
        )
        .await,
        200,
    )
    .await;
    let codes = confirmed["recoveryCodes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, codes)
}

/// A right password of an account with a second factor: the second step's answer.
pub(crate) async fn first_step(app: &TestApp, username: &str) -> Value {
    let response = app.signin_raw(username, PASSWORD).await;
    assert!(
        set_cookies(response.headers()).is_empty(),
        "no cookie before the second step"
    );
    let body = json_of(response, 200).await;
    assert_eq!(body["mfaRequired"], true, "{body}");
    assert!(body.get("accessToken").is_none(), "{body}");
    body
}

pub(crate) async fn verify(app: &TestApp, token: &Value, code: &str) -> reqwest::Response {
    app.post(
        "/api/auth/mfa/verify",
        json!({ "mfaToken": token, "code": code }),
    )
    .await
}

async fn assert_wrong_code(response: reqwest::Response) {
    assert_error(response, 401, "The code is not valid.", "mfa_code_invalid").await;
}

/// While enrolling, a wrong code is a 400: the caller may be signed in.
async fn assert_wrong_setup_code(response: reqwest::Response) {
    assert_error(response, 400, "The code is not valid.", "mfa_code_invalid").await;
}

async fn assert_token_invalid(response: reqwest::Response) {
    assert_error(
        response,
        401,
        "The sign-in has expired. Sign in again.",
        "mfa_token_invalid",
    )
    .await;
}

async fn a_totp_app_makes_signin_a_two_step_affair(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;

    let setup = json_of(
        call(&app, POST, "/api/auth/mfa/totp/setup", Some(&alice), None).await,
        200,
    )
    .await;
    let secret = setup["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32);
    let uri = setup["otpauthUri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/localhost:alice?"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    // Until confirmed, nothing changes at sign-in.
    let response = app.signin_raw("alice", PASSWORD).await;
    assert!(json_of(response, 200).await["accessToken"].is_string());

    let confirm = |code: String| {
        call(
            &app,
            POST,
            "/api/auth/mfa/totp/confirm",
            Some(&alice),
            Some(json!({ "code": code })),
        )
    };
    assert_wrong_setup_code(confirm("000000".into()).await).await;
    assert_wrong_setup_code(confirm(code(&app, secret, 3)).await).await;
    let enrolled = code(&app, secret, 0);
    let confirmed = json_of(confirm(enrolled.clone()).await, 200).await;
    let codes = confirmed["recoveryCodes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let response = confirm(code(&app, secret, 0)).await;
    assert_error(
        response,
        409,
        "A TOTP app is already enabled.",
        "totp_already_enabled",
    )
    .await;
    let response = call(&app, POST, "/api/auth/mfa/totp/setup", Some(&alice), None).await;
    assert_error(
        response,
        409,
        "A TOTP app is already enabled.",
        "totp_already_enabled",
    )
    .await;
    let status = json_of(get_as(&app, "/api/auth/mfa", &alice).await, 200).await;
    assert_eq!(
        status,
        json!({"totp": true, "passkeys": 0, "recoveryCodesLeft": 10})
    );

    let step = first_step(&app, "alice").await;
    assert_eq!(step["methods"], json!(["totp", "recovery"]));
    assert_eq!(step["expiresIn"], 300);
    assert!(step.get("enrolmentRequired").is_none());
    let token = &step["mfaToken"];
    assert_eq!(token.as_str().unwrap().len(), 43);
    // The code that confirmed the app was used: it does not work again.
    assert_wrong_code(verify(&app, token, &enrolled).await).await;
    app.clock.advance(Duration::from_secs(30));
    let response = verify(&app, token, &code(&app, secret, 0)).await;
    assert_eq!(response.status(), 200);
    let session = Session::from_response(response).await;
    assert_eq!(session.body["username"], "alice");
    assert!(session.cookies.contains_key("portcullis_access"));
    let me = json_of(get_as(&app, "/api/auth/me", &session).await, 200).await;
    assert_eq!(me["username"], "alice");
    // The token is spent.
    assert_token_invalid(verify(&app, token, &code(&app, secret, 1)).await).await;

    let events = events(&app, &admin).await;
    for expected in [
        ("totp_enabled", "ok"),
        ("totp_enabled", "failed"),
        ("mfa_verified", "ok"),
        ("mfa_verified", "failed"),
        ("signin", "ok"),
    ] {
        assert!(
            events.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {events:?}"
        );
    }
    app.stop().await;
}

async fn a_code_works_once_and_the_second_step_token_has_limits(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.throttle_account_failures = 7).await;
    let alice = app.user_session("alice", &[]).await;
    let bob = app.user_session("bob", &[]).await;
    let (secret, _) = enrol(&app, &alice).await;
    let (bob_secret, _) = enrol(&app, &bob).await;
    app.clock.advance(Duration::from_secs(30));

    // Once: a code accepted is not accepted again, even on a new sign-in.
    let code_now = code(&app, &secret, 0);
    let step = first_step(&app, "alice").await;
    assert_eq!(
        verify(&app, &step["mfaToken"], &code_now).await.status(),
        200
    );
    let step = first_step(&app, "alice").await;
    assert_wrong_code(verify(&app, &step["mfaToken"], &code_now).await).await;
    // Nor is an older one, though it would be in the window.
    assert_wrong_code(verify(&app, &step["mfaToken"], &code(&app, &secret, -1)).await).await;
    // The next step's code is (clock drift).
    assert_eq!(
        verify(&app, &step["mfaToken"], &code(&app, &secret, 1))
            .await
            .status(),
        200
    );

    // Bound to the account: alice's token does not take bob's code.
    app.clock.advance(Duration::from_secs(90));
    let step = first_step(&app, "alice").await;
    assert_wrong_code(verify(&app, &step["mfaToken"], &code(&app, &bob_secret, 0)).await).await;

    // Five minutes.
    app.clock.advance(Duration::from_secs(301));
    assert_token_invalid(verify(&app, &step["mfaToken"], &code(&app, &secret, 0)).await).await;

    // Five wrong codes end it.
    let step = first_step(&app, "alice").await;
    for _ in 0..5 {
        assert_wrong_code(verify(&app, &step["mfaToken"], "123456").await).await;
    }
    assert_token_invalid(verify(&app, &step["mfaToken"], &code(&app, &secret, 0)).await).await;
    // And they count as failed sign-ins: with one failure left, one more wrong code
    // (on a new token) and the account is throttled, right password or not.
    let step = first_step(&app, "alice").await;
    assert_wrong_code(verify(&app, &step["mfaToken"], "123456").await).await;
    let response = verify(&app, &step["mfaToken"], &code(&app, &secret, 0)).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(app.signin_raw("alice", PASSWORD).await.status(), 429);

    // Tokens of another shape, or none: refused alike, never a crash.
    for token in [json!("nope"), json!("a".repeat(43)), json!("")] {
        assert_token_invalid(verify(&app, &token, "123456").await).await;
    }
    let response = app
        .post("/api/auth/mfa/verify", json!({ "code": "123456" }))
        .await;
    assert_eq!(response.status(), 400);
    let response = app
        .post("/api/auth/mfa/verify", json!({ "mfaToken": "x" }))
        .await;
    assert_error(
        response,
        400,
        "Give a code or a passkey.",
        "invalid_request",
    )
    .await;
    app.stop().await;
}

async fn recovery_codes_stand_in_for_the_app_once_each(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    let (_, codes) = enrol(&app, &alice).await;
    for code in &codes {
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(code.matches('-').count(), 3, "{code}");
    }

    let step = first_step(&app, "alice").await;
    // Typed in capitals with spaces, it still works.
    let typed = codes[0].replace('-', " ").to_uppercase();
    assert_eq!(verify(&app, &step["mfaToken"], &typed).await.status(), 200);
    let step = first_step(&app, "alice").await;
    assert_wrong_code(verify(&app, &step["mfaToken"], &codes[0]).await).await;
    assert_eq!(
        verify(&app, &step["mfaToken"], &codes[1]).await.status(),
        200
    );
    let status = json_of(get_as(&app, "/api/auth/mfa", &alice).await, 200).await;
    assert_eq!(status["recoveryCodesLeft"], 8);

    // New codes replace the old ones.
    let fresh = json_of(
        call(
            &app,
            POST,
            "/api/auth/mfa/recovery-codes",
            Some(&alice),
            None,
        )
        .await,
        200,
    )
    .await;
    let fresh = fresh["recoveryCodes"].as_array().unwrap().clone();
    assert_eq!(fresh.len(), 10);
    let step = first_step(&app, "alice").await;
    assert_wrong_code(verify(&app, &step["mfaToken"], &codes[2]).await).await;
    assert_eq!(
        verify(&app, &step["mfaToken"], fresh[0].as_str().unwrap())
            .await
            .status(),
        200
    );

    // Old sessions need the password for new codes.
    app.clock.advance(Duration::from_secs(11 * 60));
    let response = call(
        &app,
        POST,
        "/api/auth/mfa/recovery-codes",
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(response.status(), 403);
    let response = call(
        &app,
        POST,
        "/api/auth/mfa/recovery-codes",
        Some(&alice),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(response.status(), 200);
    app.stop().await;
}

async fn a_passkey_serves_as_the_second_factor(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    let bob = app.user_session("bob", &[]).await;
    let mut key = SoftPasskey::localhost();
    let passkey = register(&app, &alice, &mut key, "Key").await;
    let _ = passkey;

    let step = first_step(&app, "alice").await;
    assert_eq!(step["methods"], json!(["passkey"]));
    let token = step["mfaToken"].clone();
    let options = json_of(
        app.post("/api/auth/mfa/passkey/start", json!({ "mfaToken": token }))
            .await,
        200,
    )
    .await;
    let allowed = options["publicKey"]["allowCredentials"]
        .as_array()
        .expect("allowCredentials");
    assert_eq!(allowed.len(), 1);

    // Another account's passkey does not answer alice's challenge.
    let mut bobs = SoftPasskey::localhost();
    register(&app, &bob, &mut bobs, "Bob's").await;
    let response = app
        .post(
            "/api/auth/mfa/verify",
            json!({ "mfaToken": token, "credential": bobs.sign(&options) }),
        )
        .await;
    assert_wrong_code(response).await;

    let options = json_of(
        app.post("/api/auth/mfa/passkey/start", json!({ "mfaToken": token }))
            .await,
        200,
    )
    .await;
    let response = app
        .post(
            "/api/auth/mfa/verify",
            json!({ "mfaToken": token, "credential": key.sign(&options) }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let session = Session::from_response(response).await;
    let sessions = json_of(get_as(&app, "/api/auth/sessions", &session).await, 200).await;
    let current = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .cloned()
        .unwrap();
    assert_eq!(
        current["method"], "password",
        "the first factor names the session"
    );

    // An account without a passkey has none to start with.
    let carol = app.user_session("carol", &[]).await;
    enrol(&app, &carol).await;
    let step = first_step(&app, "carol").await;
    let response = app
        .post(
            "/api/auth/mfa/passkey/start",
            json!({ "mfaToken": step["mfaToken"] }),
        )
        .await;
    assert_error(response, 409, "This account has no passkey.", "no_passkey").await;
    app.stop().await;
}

async fn removing_the_app_needs_a_recent_signin_and_makes_signin_one_step_again(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    let (secret, _) = enrol(&app, &alice).await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let response = call(
        &app,
        reqwest::Method::DELETE,
        "/api/auth/mfa/totp",
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

    app.clock.advance(Duration::from_secs(30));
    let step = first_step(&app, "alice").await;
    let response = verify(&app, &step["mfaToken"], &code(&app, &secret, 0)).await;
    let fresh = Session::from_response(response).await;
    let response = call(
        &app,
        reqwest::Method::DELETE,
        "/api/auth/mfa/totp",
        Some(&fresh),
        None,
    )
    .await;
    assert_eq!(json_of(response, 200).await["message"], "TOTP removed.");
    let response = call(
        &app,
        reqwest::Method::DELETE,
        "/api/auth/mfa/totp",
        Some(&fresh),
        None,
    )
    .await;
    assert_error(response, 404, "Not found.", "not_found").await;
    let status = json_of(get_as(&app, "/api/auth/mfa", &fresh).await, 200).await;
    assert_eq!(
        status,
        json!({"totp": false, "passkeys": 0, "recoveryCodesLeft": 0})
    );
    let response = app.signin_raw("alice", PASSWORD).await;
    assert!(json_of(response, 200).await["accessToken"].is_string());
    app.stop().await;
}

async fn admins_see_and_reset_second_factors(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    let alice_id = alice.body["id"].as_i64().unwrap();
    enrol(&app, &alice).await;
    let mut key = SoftPasskey::localhost();
    register(&app, &alice, &mut key, "Key").await;

    let page = json_of(
        get_as(&app, "/api/admin/users?query=alice", &admin).await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["totp"], true);
    assert_eq!(page["items"][0]["passkeys"], 1);
    let page = json_of(
        get_as(&app, "/api/admin/users?query=root", &admin).await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["totp"], false);
    assert_eq!(page["items"][0]["passkeys"], 0);

    let path = format!("/api/admin/users/{alice_id}/mfa");
    let response = call(&app, reqwest::Method::DELETE, &path, Some(&alice), None).await;
    assert_eq!(response.status(), 403, "admins only");
    let response = call(&app, reqwest::Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(
        json_of(response, 200).await["message"],
        "Second factors removed."
    );
    let response = call(
        &app,
        reqwest::Method::DELETE,
        "/api/admin/users/999999/mfa",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(response.status(), 404);
    let page = json_of(
        get_as(&app, "/api/admin/users?query=alice", &admin).await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["totp"], false);
    assert_eq!(page["items"][0]["passkeys"], 0);
    let response = app.signin_raw("alice", PASSWORD).await;
    assert!(json_of(response, 200).await["accessToken"].is_string());
    let events = events(&app, &admin).await;
    assert!(
        events.contains(&("mfa_reset".into(), "ok".into())),
        "{events:?}"
    );
    app.stop().await;
}

async fn a_required_second_factor_is_enrolled_during_signin(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.require_mfa_for = vec![Some(Role::Admin)];
    })
    .await;
    app.create_user("root", &[Role::Admin]).await;
    app.create_user("alice", &[]).await;
    // A user's sign-in is one step; an admin's needs a second factor first.
    let response = app.signin_raw("alice", PASSWORD).await;
    assert!(json_of(response, 200).await["accessToken"].is_string());
    let step = first_step(&app, "root").await;
    assert_eq!(step["enrolmentRequired"], true);
    assert_eq!(step["methods"], json!([]));
    let token = step["mfaToken"].clone();

    // The enrolment token is no second step, and signed-out calls need it.
    assert_token_invalid(verify(&app, &token, "123456").await).await;
    let response = app.post("/api/auth/mfa/totp/setup", json!({})).await;
    assert_eq!(response.status(), 401);
    let setup = json_of(
        app.post("/api/auth/mfa/totp/setup", json!({ "mfaToken": token }))
            .await,
        200,
    )
    .await;
    let secret = setup["secret"].as_str().unwrap();
    let response = app
        .post(
            "/api/auth/mfa/totp/confirm",
            json!({ "mfaToken": token, "code": "000000" }),
        )
        .await;
    assert_wrong_setup_code(response).await;
    let response = app
        .post(
            "/api/auth/mfa/totp/confirm",
            json!({ "mfaToken": token, "code": code(&app, secret, 0) }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let session = Session::from_response(response).await;
    assert_eq!(session.body["username"], "root");
    assert_eq!(session.body["recoveryCodes"].as_array().unwrap().len(), 10);
    let me = json_of(get_as(&app, "/api/auth/me", &session).await, 200).await;
    assert_eq!(me["username"], "root");
    // The token is spent; the next sign-in asks for the code like any other.
    let response = app
        .post(
            "/api/auth/mfa/totp/confirm",
            json!({ "mfaToken": token, "code": code(&app, secret, 1) }),
        )
        .await;
    assert_token_invalid(response).await;
    let step = first_step(&app, "root").await;
    assert_eq!(step["methods"], json!(["totp", "recovery"]));
    app.stop().await;
}

/// With `PORTCULLIS_KEY_ENCRYPTION_KEY` set, a stolen copy of the database holds no TOTP
/// secret in the clear; sign-in reads it back as before.
async fn totp_secrets_are_sealed_when_a_key_encryption_key_is_set(db: DbKind) {
    use sqlx::Row;
    let kek = "a key-encryption key for the tests, 0123456789";
    let app = TestApp::spawn_with(db, |s| s.key_encryption_key = Some(kek.into())).await;
    let alice = app.user_session("alice", &[]).await;
    let (secret, _) = enrol(&app, &alice).await;
    let stored: String = sqlx::query("SELECT secret FROM totp_secrets")
        .fetch_one(&app.state().db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert!(stored.starts_with("aes256gcm:"), "{stored}");
    assert!(!stored.contains(&secret), "{stored}");

    let step = first_step(&app, "alice").await;
    app.clock.advance(Duration::from_secs(30));
    let response = verify(&app, &step["mfaToken"], &code(&app, &secret, 0)).await;
    assert_eq!(response.status(), 200);
    app.stop().await;
}
