//! Account recovery and proof of address by mail (docs/API.md §4), against a real SMTP
//! server (tests/mail/catcher.py) and on every database: the reset flow end to end, the
//! rules of its tokens, email verification, the queue surviving an SMTP outage, and two
//! nodes sending each mail once.
use std::time::Duration;

use portcullis::config::SecretUrl;
use portcullis::domain::Locale;
use portcullis::domain::Role;
use portcullis::mail::templates::{subject, subject_in};
use portcullis::store::mail_outbox::Kind;
use serde_json::{json, Value};
use sqlx::{Connection, Row};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    a_forgotten_password_is_reset_by_mail_and_every_session_ends,
    reset_links_work_once_only_the_latest_and_not_after_they_expire,
    unknown_addresses_get_the_same_answer_and_no_mail,
    reset_requests_are_throttled_per_address,
    signup_mails_a_verification_link_that_proves_the_address,
    a_required_verification_holds_signin_until_the_link_is_followed,
    without_mail_the_mail_routes_answer_503_mail_disabled,
    a_mail_queued_while_smtp_is_down_is_sent_once_it_is_back,
    two_nodes_send_each_queued_mail_exactly_once,
    a_new_address_takes_effect_when_its_link_is_followed_and_the_old_one_is_told,
    a_sign_in_link_signs_in_once_when_enabled,
    the_command_line_prints_a_reset_link_that_works,
    each_factor_added_or_removed_is_mailed_and_a_reset_lists_them,
    mails_carry_the_branding,
    mails_speak_the_accounts_language_else_the_requests,
);

const WAIT: Duration = Duration::from_secs(15);
const RESET_ACCEPTED: &str =
    "If an account has this address, a link to reset its password is on its way.";
const INVALID_LINK: &str = "This link is invalid or has expired.";

async fn mail_app(
    db: TestDb,
    catcher: &MailCatcher,
    configure: impl FnOnce(&mut portcullis::config::Settings),
) -> TestApp {
    let url = catcher.url();
    TestApp::spawn_on(db, move |s| {
        s.smtp_url = Some(SecretUrl::from(url.as_str()));
        s.mail_from = "Portcullis <no-reply@portcullis.test>".into();
        s.public_url = "http://portcullis.test:8080/".into();
        configure(s);
    })
    .await
}

/// The SMTP server, and a server mailing through it on a new database of `db`'s kind.
async fn mailing(
    db: &DbKind,
    configure: impl FnOnce(&mut portcullis::config::Settings),
) -> Option<(MailCatcher, TestApp)> {
    let catcher = MailCatcher::start().await?;
    let app = mail_app(TestDb::create(db).await, &catcher, configure).await;
    Some((catcher, app))
}

async fn request_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.post("/api/auth/password-reset", json!({ "email": email }))
        .await
}

async fn confirm_reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/auth/password-reset/confirm",
        json!({ "token": token, "newPassword": password }),
    )
    .await
}

/// The one answer to every token that does not work.
async fn assert_invalid_link(response: reqwest::Response) {
    assert_error(response, 400, INVALID_LINK, "invalid_token").await;
}

async fn me(app: &TestApp, session: &Session) -> Value {
    let response = get_as(app, "/api/auth/me", session).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn a_forgotten_password_is_reset_by_mail_and_every_session_ends(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |_| {}).await else {
        return;
    };
    app.create_user("alice", &[]).await;
    let first = app.signin("alice", PASSWORD).await;
    let second = app.signin("alice@example.com", PASSWORD).await;
    assert_eq!(me(&app, &first).await["emailVerified"], false);

    // A link mailed before the reset (here, to verify the address) dies with it.
    let resend = post_as(&app, "/api/auth/verify-email/resend", &first, json!({})).await;
    assert_eq!(resend.status(), 202);
    let earlier = catcher
        .wait_for("alice@example.com", subject(Kind::VerifyEmail), 1, WAIT)
        .await
        .token("verify-email");

    let response = request_reset(&app, "Alice@Example.com").await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "message": RESET_ACCEPTED }));

    let mail = catcher
        .wait_for("alice@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await;
    assert!(
        mail.from.contains("no-reply@portcullis.test"),
        "{}",
        mail.from
    );
    assert!(mail.text.contains("Hello alice,"), "{}", mail.text);
    assert!(mail.text.contains("within 30 minutes"), "{}", mail.text);
    assert!(
        mail.text
            .contains("http://portcullis.test:8080/reset-password?token="),
        "the link starts at PORTCULLIS_PUBLIC_URL, without a doubled slash: {}",
        mail.text
    );
    let token = mail.token("reset-password");
    assert_eq!(token.len(), 43, "256 bits in base64url");

    // The token is never at rest in the database: only its hash.
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    let stored: String = sqlx::query("SELECT token_hash FROM mail_tokens")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);
    conn.close().await.ok();

    let response = confirm_reset(&app, &token, "a brand new passphrase").await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);

    // Every session of the account ended, and the old password no longer works.
    assert_session_ended(&app, &first).await;
    assert_session_ended(&app, &second).await;
    assert_eq!(app.signin_raw("alice", PASSWORD).await.status(), 401);
    let fresh = app.signin("alice", "a brand new passphrase").await;
    // Following the link proved the address.
    assert_eq!(me(&app, &fresh).await["emailVerified"], true);

    // The owner is told.
    let notice = catcher
        .wait_for("alice@example.com", subject(Kind::PasswordChanged), 1, WAIT)
        .await;
    assert!(notice
        .text
        .contains("password of your account was just changed"));

    // The link worked once.
    assert_invalid_link(confirm_reset(&app, &token, "yet another passphrase").await).await;
    assert_invalid_link(
        app.post("/api/auth/verify-email", json!({ "token": earlier }))
            .await,
    )
    .await;
    app.stop().await;
}

async fn reset_links_work_once_only_the_latest_and_not_after_they_expire(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |s| {
        s.reset_ttl = Duration::from_secs(2);
    })
    .await
    else {
        return;
    };
    app.create_user("bob", &[]).await;
    let subject = subject(Kind::PasswordReset);

    assert_eq!(request_reset(&app, "bob@example.com").await.status(), 202);
    let older = catcher
        .wait_for("bob@example.com", subject, 1, WAIT)
        .await
        .token("reset-password");
    assert_eq!(request_reset(&app, "bob@example.com").await.status(), 202);
    let latest = catcher
        .wait_for("bob@example.com", subject, 2, WAIT)
        .await
        .token("reset-password");
    assert_ne!(older, latest);

    // A new link voids the one before it.
    assert_invalid_link(confirm_reset(&app, &older, "a brand new passphrase").await).await;
    // A password the policy refuses is refused, and the link still works.
    let refused = confirm_reset(&app, &latest, "short").await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "invalid_request", "{body}");
    // Tokens of other shapes are refused with the same answer, unread.
    for bad in [
        "",
        "x",
        &"A".repeat(43),
        &format!("{}\0", &latest[..42]),
        &latest[..42],
    ] {
        assert_invalid_link(confirm_reset(&app, bad, "a brand new passphrase").await).await;
    }
    // After its lifetime (2 s here), the latest link is refused too, the same way.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_invalid_link(confirm_reset(&app, &latest, "a brand new passphrase").await).await;
    assert_eq!(app.signin_raw("bob", PASSWORD).await.status(), 200);
    app.stop().await;
}

async fn unknown_addresses_get_the_same_answer_and_no_mail(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |_| {}).await else {
        return;
    };
    app.create_user("carol", &[]).await;
    let unknown = request_reset(&app, "nobody@example.com").await;
    let known = request_reset(&app, "carol@example.com").await;
    assert_eq!(unknown.status(), known.status());
    let (unknown, known): (Value, Value) =
        (unknown.json().await.unwrap(), known.json().await.unwrap());
    assert_eq!(unknown, known, "no enumeration: the same body");
    catcher
        .wait_for("carol@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await;
    // The unknown address's request was handled (skipped) before carol's was sent: the
    // queue goes in order, so nothing more is coming for it.
    assert!(
        catcher
            .mails()
            .iter()
            .all(|m| m.to == ["carol@example.com"]),
        "{:?}",
        catcher.mails()
    );
    // A disabled account gets no link either.
    let admin = app
        .user_session("root", &[portcullis::domain::Role::Admin])
        .await;
    let id = app.create_user("dave", &[]).await;
    let disabled = app
        .client
        .patch(app.url(&format!("/api/admin/users/{id}")))
        .header("Authorization", admin.bearer())
        .json(&json!({ "disabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    assert_eq!(request_reset(&app, "dave@example.com").await.status(), 202);
    assert_eq!(request_reset(&app, "carol@example.com").await.status(), 202);
    catcher
        .wait_for("carol@example.com", subject(Kind::PasswordReset), 2, WAIT)
        .await;
    assert!(catcher
        .mails_to("dave@example.com", subject(Kind::PasswordReset))
        .is_empty());
    // Input that is no address is a 400, whatever the accounts.
    let response = request_reset(&app, "not an address").await;
    assert_eq!(response.status(), 400);
    let response = app
        .post("/api/auth/password-reset", json!({ "email": 7 }))
        .await;
    assert_eq!(response.status(), 400);
    app.stop().await;
}

async fn reset_requests_are_throttled_per_address(db: DbKind) {
    let Some((_catcher, app)) = mailing(&db, |s| {
        s.throttle_account_failures = 2;
    })
    .await
    else {
        return;
    };
    app.create_user("erin", &[]).await;
    for _ in 0..2 {
        assert_eq!(request_reset(&app, "erin@example.com").await.status(), 202);
    }
    let third = request_reset(&app, "ERIN@example.com").await;
    assert!(third.headers().contains_key("retry-after"));
    assert_error(
        third,
        429,
        "Too many requests for this address or from this client. Try again later.",
        "too_many_attempts",
    )
    .await;
    // Unknown addresses are counted the same way.
    for _ in 0..2 {
        assert_eq!(request_reset(&app, "ghost@example.com").await.status(), 202);
    }
    assert_eq!(request_reset(&app, "ghost@example.com").await.status(), 429);
    // Another address is not held up, and sign-in is not either.
    assert_eq!(request_reset(&app, "other@example.com").await.status(), 202);
    assert_eq!(app.signin_raw("erin", PASSWORD).await.status(), 200);
    app.stop().await;
}

async fn signup_mails_a_verification_link_that_proves_the_address(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |_| {}).await else {
        return;
    };
    assert_eq!(
        app.signup("frank", "frank@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let session = app.signin("frank", PASSWORD).await;
    assert_eq!(me(&app, &session).await["emailVerified"], false);

    let mail = catcher
        .wait_for("frank@example.com", subject(Kind::VerifyEmail), 1, WAIT)
        .await;
    assert!(mail.text.contains("frank@example.com"), "{}", mail.text);
    assert!(mail.text.contains("24 hours"));
    let token = mail.token("verify-email");

    // A reset token is not a verification token, nor the other way round.
    assert_invalid_link(confirm_reset(&app, &token, "a brand new passphrase").await).await;
    let verified = app
        .post("/api/auth/verify-email", json!({ "token": token }))
        .await;
    assert_eq!(verified.status(), 200);
    assert_eq!(me(&app, &session).await["emailVerified"], true);
    assert_invalid_link(
        app.post("/api/auth/verify-email", json!({ "token": token }))
            .await,
    )
    .await;
    // Nothing left to verify.
    let resend = app
        .client
        .post(app.url("/api/auth/verify-email/resend"))
        .header("Authorization", session.bearer())
        .send()
        .await
        .unwrap();
    assert_error(
        resend,
        409,
        "Your email address is verified already.",
        "already_verified",
    )
    .await;

    // The admin list says so too.
    let admin = app
        .user_session("root", &[portcullis::domain::Role::Admin])
        .await;
    let list: Value = get_as(&app, "/api/admin/users?query=frank", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["emailVerified"], true, "{list}");
    app.stop().await;
}

async fn a_required_verification_holds_signin_until_the_link_is_followed(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |s| {
        s.require_verified_email = true;
    })
    .await
    else {
        return;
    };
    let policy: Value = app.get("/api/auth/policy").await.json().await.unwrap();
    assert_eq!(
        policy["mail"],
        json!({ "enabled": true, "requireVerifiedEmail": true, "magicLinks": false })
    );
    assert_eq!(
        app.signup("gina", "gina@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    assert_error(
        app.signin_raw("gina", PASSWORD).await,
        403,
        "Verify your email address first: follow the link we mailed you.",
        "email_not_verified",
    )
    .await;
    // A wrong password still says only that.
    assert_eq!(
        app.signin_raw("gina", "wrong password here").await.status(),
        401
    );

    let first = catcher
        .wait_for("gina@example.com", subject(Kind::VerifyEmail), 1, WAIT)
        .await
        .token("verify-email");
    // Asking again needs a session, which gina cannot have yet; the link she has works.
    let verified = app
        .post("/api/auth/verify-email", json!({ "token": first }))
        .await;
    assert_eq!(verified.status(), 200);
    assert_eq!(app.signin_raw("gina", PASSWORD).await.status(), 200);
    app.stop().await;
}

async fn without_mail_the_mail_routes_answer_503_mail_disabled(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let policy: Value = app.get("/api/auth/policy").await.json().await.unwrap();
    assert_eq!(
        policy["mail"],
        json!({ "enabled": false, "requireVerifiedEmail": false, "magicLinks": false })
    );
    assert_error(
        request_reset(&app, "anyone@example.com").await,
        503,
        "Mail is not set up on this server.",
        "mail_disabled",
    )
    .await;
    let session = app.user_session("hank", &[]).await;
    let resend = app
        .client
        .post(app.url("/api/auth/verify-email/resend"))
        .header("Authorization", session.bearer())
        .send()
        .await
        .unwrap();
    assert_error(
        resend,
        503,
        "Mail is not set up on this server.",
        "mail_disabled",
    )
    .await;
    // Signup works as ever, and queues nothing.
    assert_eq!(
        app.signup("ivy", "ivy@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    let queued: i64 = sqlx::query("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 0);
    conn.close().await.ok();
    app.stop().await;
}

/// `(attempts, last_error)` of the one queued mail.
async fn queued_attempts(url: &str) -> Option<(i64, Option<String>)> {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let row =
        sqlx::query("SELECT attempts, last_error FROM mail_outbox WHERE kind = 'password_reset'")
            .fetch_optional(&mut conn)
            .await
            .unwrap();
    conn.close().await.ok();
    row.map(|r| (r.get(0), r.get(1)))
}

async fn a_mail_queued_while_smtp_is_down_is_sent_once_it_is_back(db: DbKind) {
    let Some(mut catcher) = MailCatcher::start().await else {
        return;
    };
    let app = mail_app(TestDb::create(&db).await, &catcher, |s| {
        s.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    app.create_user("jack", &[]).await;
    catcher.pause();
    assert_eq!(request_reset(&app, "jack@example.com").await.status(), 202);
    // The first attempt fails and is recorded; the mail stays queued.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some((attempts, Some(error))) = queued_attempts(&app.db.url).await {
            assert!(attempts >= 1);
            assert!(!error.is_empty());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed attempt recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    catcher.resume().await;
    // The next try (5 s after the first failure, then 10 s) finds the server back.
    let mail = catcher
        .wait_for(
            "jack@example.com",
            subject(Kind::PasswordReset),
            1,
            Duration::from_secs(30),
        )
        .await;
    let token = mail.token("reset-password");
    assert_eq!(
        confirm_reset(&app, &token, "a brand new passphrase")
            .await
            .status(),
        200
    );
    catcher
        .wait_for("jack@example.com", subject(Kind::PasswordChanged), 1, WAIT)
        .await;
    assert_eq!(
        catcher
            .mails_to("jack@example.com", subject(Kind::PasswordReset))
            .len(),
        1,
        "sent once"
    );
    // Counted: the failed attempt as `retried`, the delivery as `sent`. The recorder is
    // shared by every server of this test binary, so these are at least, not exactly.
    let metrics = app.metrics_addr().expect("a metrics listener");
    let text = app
        .client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for outcome in ["retried", "sent"] {
        let line = text
            .lines()
            .find(|l| {
                l.starts_with("portcullis_mail_total{")
                    && l.contains("kind=\"password_reset\"")
                    && l.contains(&format!("outcome=\"{outcome}\""))
            })
            .unwrap_or_else(|| panic!("no {outcome} count in {text}"));
        let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(count >= 1.0, "{line}");
    }
    // The queue's depth is a gauge set at each scrape (its value is whichever server
    // rendered last, so only its presence is asserted here).
    assert!(text.contains("\nportcullis_mail_queue_depth "), "{text}");
    app.stop().await;
}

async fn two_nodes_send_each_queued_mail_exactly_once(db: DbKind) {
    const ACCOUNTS: usize = 12;
    let Some(catcher) = MailCatcher::start().await else {
        return;
    };
    let first = mail_app(TestDb::create(&db).await, &catcher, |_| {}).await;
    let second = mail_app(first.db.shared(), &catcher, |_| {}).await;
    for n in 0..ACCOUNTS {
        first.create_user(&format!("user{n}"), &[]).await;
    }
    // Alternate nodes, all at once: both senders compete for every mail.
    let requests = (0..ACCOUNTS).map(|n| {
        let node = if n % 2 == 0 { &first } else { &second };
        async move { request_reset(node, &format!("user{n}@example.com")).await }
    });
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status(), 202);
    }
    for n in 0..ACCOUNTS {
        catcher
            .wait_for(
                &format!("user{n}@example.com"),
                subject(Kind::PasswordReset),
                1,
                WAIT,
            )
            .await;
    }
    // Two polls of both senders later, still one each.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mails = catcher.mails();
    assert_eq!(
        mails.len(),
        ACCOUNTS,
        "{:?}",
        mails.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    for n in 0..ACCOUNTS {
        let to = format!("user{n}@example.com");
        assert_eq!(
            catcher.mails_to(&to, subject(Kind::PasswordReset)).len(),
            1,
            "{to}"
        );
    }
    second.stop().await;
    first.stop().await;
}

/// The real binary, logging at debug level, sends real mail: the log records every step
/// (the audit events) and never a token, nor the password that was set.
#[tokio::test]
async fn the_log_records_every_mail_step_but_never_a_token() {
    let Some(catcher) = MailCatcher::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let port = free_port();
    let db_url = format!("sqlite://{}/mail.db", dir.path().display());
    let mut command = binary_on(&db_url);
    command
        .arg("serve")
        .env("PORTCULLIS_BIND", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_SMTP_URL", catcher.url())
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap());
    let mut child = command.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_ready(
        &client,
        &format!("{base}/health/ready"),
        &mut child,
        Some(&log_path),
        WAIT,
    )
    .await;
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();

    let signup = json!({"username": "kate", "email": "kate@example.com", "password": PASSWORD});
    assert_eq!(
        post("/api/auth/signup", signup).await.unwrap().status(),
        201
    );
    let verify = catcher
        .wait_for("kate@example.com", subject(Kind::VerifyEmail), 1, WAIT)
        .await
        .token("verify-email");
    let verified = post("/api/auth/verify-email", json!({"token": verify}))
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    let reset = json!({"email": "kate@example.com"});
    assert_eq!(
        post("/api/auth/password-reset", reset)
            .await
            .unwrap()
            .status(),
        202
    );
    let token = catcher
        .wait_for("kate@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await
        .token("reset-password");
    let confirm = json!({"token": token, "newPassword": "a brand new passphrase"});
    let confirmed = post("/api/auth/password-reset/confirm", confirm)
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    catcher
        .wait_for("kate@example.com", subject(Kind::PasswordChanged), 1, WAIT)
        .await;
    let status = tokio::task::spawn_blocking(move || terminate(&mut child, WAIT))
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    for event in [
        "password_reset_requested",
        "mailed_verify_email",
        "mailed_password_reset",
        "\"password_reset\"",
        "email_verified",
        "mailed_password_changed",
    ] {
        assert!(log.contains(event), "the log has {event}");
    }
    for secret in [
        token.as_str(),
        verify.as_str(),
        "a brand new passphrase",
        PASSWORD,
    ] {
        assert!(!log.contains(secret), "the log holds {secret}");
    }
}

async fn a_new_address_takes_effect_when_its_link_is_followed_and_the_old_one_is_told(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |_| {}).await else {
        return;
    };
    app.create_user("lena", &[]).await;
    app.create_user("moe", &[]).await;
    let session = app.signin("lena", PASSWORD).await;
    let change =
        |password: &str, email: &str| json!({ "currentPassword": password, "newEmail": email });
    // The password is checked, the address must be new to every account.
    let wrong = post_as(
        &app,
        "/api/auth/email",
        &session,
        change("not the password", "l@example.org"),
    )
    .await;
    assert_error(
        wrong,
        403,
        "Current password is incorrect.",
        "wrong_password",
    )
    .await;
    let taken = post_as(
        &app,
        "/api/auth/email",
        &session,
        change(PASSWORD, "MOE@example.com"),
    )
    .await;
    assert_error(
        taken,
        409,
        "Failed! Email is already in use!",
        "email_taken",
    )
    .await;
    let same = post_as(
        &app,
        "/api/auth/email",
        &session,
        change(PASSWORD, "Lena@example.com"),
    )
    .await;
    assert_eq!(same.status(), 400);
    let asked = post_as(
        &app,
        "/api/auth/email",
        &session,
        change(PASSWORD, "lena@example.org"),
    )
    .await;
    assert_eq!(asked.status(), 202);

    let mail = catcher
        .wait_for("lena@example.org", subject(Kind::EmailChange), 1, WAIT)
        .await;
    assert!(mail.text.contains("lena@example.org"), "{}", mail.text);
    // Nothing changes until the link is followed.
    assert_eq!(me(&app, &session).await["email"], "lena@example.com");
    let token = mail.token("verify-email");
    let followed = app
        .post("/api/auth/verify-email", json!({ "token": token }))
        .await;
    assert_eq!(followed.status(), 200);
    let body: Value = followed.json().await.unwrap();
    assert_eq!(body["message"], "Your email address has been changed.");
    let now = me(&app, &session).await;
    assert_eq!(now["email"], "lena@example.org");
    assert_eq!(now["emailVerified"], true);
    assert_eq!(
        app.signin_raw("lena@example.org", PASSWORD).await.status(),
        200
    );
    assert_eq!(
        app.signin_raw("lena@example.com", PASSWORD).await.status(),
        401
    );
    // The old address is told where the account's mail goes now.
    let notice = catcher
        .wait_for("lena@example.com", subject(Kind::EmailChanged), 1, WAIT)
        .await;
    assert!(notice.text.contains("lena@example.org"), "{}", notice.text);
    // The link worked once.
    assert_invalid_link(
        app.post("/api/auth/verify-email", json!({ "token": token }))
            .await,
    )
    .await;
    app.stop().await;
}

async fn a_sign_in_link_signs_in_once_when_enabled(db: DbKind) {
    // Sign-in links need mail: turning them on without it stops the server at start.
    let db_off = TestDb::create(&db).await;
    let mut settings = test_settings(&db_off.url);
    settings.magic_links = true;
    let refused =
        portcullis::server::Server::start(settings, portcullis::clock::Clock::default()).await;
    let why = refused.err().expect("refused").to_string();
    assert!(why.contains("PORTCULLIS_MAGIC_LINKS"), "{why}");

    let Some((catcher, app)) = mailing(&db, |_| {}).await else {
        return;
    };
    app.create_user("nina", &[]).await;
    assert_error(
        app.post(
            "/api/auth/magic-link",
            json!({ "email": "nina@example.com" }),
        )
        .await,
        403,
        "Sign-in links are not enabled on this server.",
        "magic_links_disabled",
    )
    .await;
    app.stop().await;

    let app = mail_app(TestDb::create(&db).await, &catcher, |s| {
        s.magic_links = true
    })
    .await;
    app.create_user("nina", &[]).await;
    let policy: Value = app.get("/api/auth/policy").await.json().await.unwrap();
    assert_eq!(policy["mail"]["magicLinks"], true);
    let unknown = app
        .post(
            "/api/auth/magic-link",
            json!({ "email": "nobody@example.com" }),
        )
        .await;
    let known = app
        .post(
            "/api/auth/magic-link",
            json!({ "email": "nina@example.com" }),
        )
        .await;
    assert_eq!(
        (unknown.status().as_u16(), known.status().as_u16()),
        (202, 202)
    );
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        known.json::<Value>().await.unwrap()
    );
    let mail = catcher
        .wait_for("nina@example.com", subject(Kind::MagicLink), 1, WAIT)
        .await;
    assert!(mail.text.contains("within 10 minutes"), "{}", mail.text);
    let token = mail.token("magic-link");
    let signed_in = app
        .post("/api/auth/magic-link/confirm", json!({ "token": token }))
        .await;
    let session = Session::from_response(signed_in).await;
    assert_eq!(session.body["username"], "nina");
    assert!(
        session.cookies.contains_key("portcullis_access"),
        "cookies as at sign-in"
    );
    let me = me(&app, &session).await;
    assert_eq!(me["emailVerified"], true, "the link proved the address");
    // The session list says how it was signed in.
    let list: Value = get_as(&app, "/api/auth/sessions", &session)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["method"], "magic_link", "{list}");
    assert_invalid_link(
        app.post("/api/auth/magic-link/confirm", json!({ "token": token }))
            .await,
    )
    .await;
    // A reset token is no sign-in link.
    assert_eq!(request_reset(&app, "nina@example.com").await.status(), 202);
    let reset = catcher
        .wait_for("nina@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await
        .token("reset-password");
    assert_invalid_link(
        app.post("/api/auth/magic-link/confirm", json!({ "token": reset }))
            .await,
    )
    .await;

    // A link is a first factor: with a TOTP app, the second step follows it.
    let setup: Value = post_as(&app, "/api/auth/mfa/totp/setup", &session, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().expect("secret");
    let code = |app: &TestApp| {
        portcullis::auth::totp::code_at(secret, app.clock.now_secs() as u64).expect("code")
    };
    let confirmed = post_as(
        &app,
        "/api/auth/mfa/totp/confirm",
        &session,
        json!({ "code": code(&app) }),
    )
    .await;
    assert_eq!(confirmed.status(), 200);
    app.clock.advance(Duration::from_secs(30));
    assert_eq!(
        app.post(
            "/api/auth/magic-link",
            json!({ "email": "nina@example.com" })
        )
        .await
        .status(),
        202
    );
    let token = catcher
        .wait_for("nina@example.com", subject(Kind::MagicLink), 2, WAIT)
        .await
        .token("magic-link");
    let step: Value = app
        .post("/api/auth/magic-link/confirm", json!({ "token": token }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(step["mfaRequired"], true, "{step}");
    assert!(step.get("accessToken").is_none(), "{step}");
    let done = app
        .post(
            "/api/auth/mfa/verify",
            json!({ "mfaToken": step["mfaToken"], "code": code(&app) }),
        )
        .await;
    assert_eq!(done.status(), 200);
    let session = Session::from_response(done).await;
    let list: Value = get_as(&app, "/api/auth/sessions", &session)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["method"], "magic_link", "{list}");
    app.stop().await;
}

async fn the_command_line_prints_a_reset_link_that_works(db: DbKind) {
    let app = TestApp::spawn(db).await;
    app.create_user("olga", &[]).await;
    let mut command = binary_on(&app.db.url);
    command
        .args(["user", "reset-link", "olga@example.com"])
        .env("PORTCULLIS_PUBLIC_URL", "https://auth.example.com/");
    let out = run_with_stdin(command, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap();
    let token = link
        .trim()
        .strip_prefix("https://auth.example.com/reset-password?token=")
        .unwrap_or_else(|| panic!("a reset link: {link}"));
    assert_eq!(
        confirm_reset(&app, token, "a brand new passphrase")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.signin_raw("olga", "a brand new passphrase")
            .await
            .status(),
        200
    );
    let mut unknown = binary_on(&app.db.url);
    unknown.args(["user", "reset-link", "nobody"]);
    let out = run_with_stdin(unknown, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account named nobody"));
    app.stop().await;
}

/// Issue 22, item 1: the owner hears of every factor added or removed, by name, with a
/// link to the profile; the mail that confirms a reset lists what the account has.
async fn each_factor_added_or_removed_is_mailed_and_a_reset_lists_them(db: DbKind) {
    // On localhost, where the tests' software passkeys belong.
    let Some((catcher, app)) =
        mailing(&db, |s| s.public_url = "http://localhost:8080/".into()).await
    else {
        return;
    };
    let alice = app.create_user("alice", &[]).await;
    let session = app.signin("alice", PASSWORD).await;
    let notice =
        |n: usize| catcher.wait_for("alice@example.com", subject(Kind::FactorChanged), n, WAIT);

    let mut laptop = SoftPasskey::localhost();
    let added = crate::passkeys::register(&app, &session, &mut laptop, "Laptop").await;
    let mail = notice(1).await;
    assert!(
        mail.text.contains("A passkey named \"Laptop\" was added"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains("http://localhost:8080/account/security"),
        "{}",
        mail.text
    );
    assert!(
        mail.html
            .contains("href=\"http://localhost:8080/account/security\""),
        "{}",
        mail.html
    );

    let removed = delete_as(
        &app,
        &format!("/api/auth/passkeys/{}", added["id"]),
        &session,
    )
    .await;
    assert_eq!(removed.status(), 200);
    let mail = notice(2).await;
    assert!(
        mail.text
            .contains("The passkey named \"Laptop\" was removed"),
        "{}",
        mail.text
    );

    let mut phone = SoftPasskey::localhost();
    crate::passkeys::register(&app, &session, &mut phone, "Phone").await;
    notice(3).await;
    let setup: Value = post_as(&app, "/api/auth/mfa/totp/setup", &session, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().expect("secret");
    let code = portcullis::auth::totp::code_at(secret, app.clock.now_secs() as u64).unwrap();
    let confirmed = post_as(
        &app,
        "/api/auth/mfa/totp/confirm",
        &session,
        json!({ "code": code }),
    )
    .await;
    assert_eq!(confirmed.status(), 200);
    let mail = notice(4).await;
    assert!(
        mail.text.contains("An authenticator app was set up"),
        "{}",
        mail.text
    );

    // The reset's confirmation names what can still get past the new password.
    assert_eq!(request_reset(&app, "alice@example.com").await.status(), 202);
    let token = catcher
        .wait_for("alice@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await
        .token("reset-password");
    assert_eq!(
        confirm_reset(&app, &token, "a brand new passphrase")
            .await
            .status(),
        200
    );
    let changed = catcher
        .wait_for("alice@example.com", subject(Kind::PasswordChanged), 1, WAIT)
        .await;
    for part in [&changed.text, &changed.html] {
        assert!(part.contains("Phone"), "{part}");
        assert!(part.contains("Authenticator app"), "{part}");
        assert!(
            !part.contains("Laptop"),
            "a removed passkey is not listed: {part}"
        );
    }

    // An administrator's reset is a change too.
    app.create_user("root", &[Role::Admin]).await;
    let admin = app.signin("root", PASSWORD).await;
    let reset = delete_as(&app, &format!("/api/admin/users/{alice}/mfa"), &admin).await;
    assert_eq!(reset.status(), 200);
    let mail = notice(5).await;
    assert!(
        mail.text.contains("An administrator removed"),
        "{}",
        mail.text
    );
    app.stop().await;
}

/// Issue 27: the operator's name, colour and logo are in the mails as on the pages.
async fn mails_carry_the_branding(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |_| {}).await else {
        return;
    };
    app.create_user("alice", &[]).await;
    assert_eq!(request_reset(&app, "alice@example.com").await.status(), 202);
    let plain = catcher
        .wait_for("alice@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await;
    assert!(
        plain.html.contains("background: #0d6efd; color: #ffffff;"),
        "{}",
        plain.html
    );
    assert!(
        !plain.html.contains("<img"),
        "no logo, no image: {}",
        plain.html
    );

    let admin = app.user_session("root", &[Role::Admin]).await;
    let set = app
        .client
        .put(app.url("/api/admin/branding"))
        .header("Authorization", admin.bearer())
        .json(&json!({"productName": "Acme <ID>", "primaryColor": "#ffd54f"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>"#;
    let logo = app
        .client
        .put(app.url("/api/admin/branding/logo"))
        .header("Authorization", admin.bearer())
        .header("Content-Type", "image/svg+xml")
        .body(svg)
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 200);
    let logo_url: Value = logo.json().await.unwrap();
    let logo_url = logo_url["logoUrl"].as_str().unwrap().to_string();

    // Another account: resets are throttled per address.
    app.create_user("bob", &[]).await;
    assert_eq!(request_reset(&app, "bob@example.com").await.status(), 202);
    let branded = catcher
        .wait_for("bob@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await;
    assert!(
        branded
            .text
            .contains("This mail was sent by Acme <ID> because"),
        "{}",
        branded.text
    );
    assert!(
        branded.html.contains("sent by Acme &lt;ID&gt;"),
        "escaped: {}",
        branded.html
    );
    // A light colour gets dark text.
    assert!(
        branded
            .html
            .contains("background: #ffd54f; color: #000000;"),
        "{}",
        branded.html
    );
    assert!(
        branded
            .html
            .contains(&format!("src=\"http://portcullis.test:8080{logo_url}\"")),
        "the logo at the public URL: {}",
        branded.html
    );
    app.stop().await;
}

/// Issue 27: a mail speaks the language its account chose, else the one of the request
/// that asked for it (the web app's cookie, then Accept-Language), else English.
async fn mails_speak_the_accounts_language_else_the_requests(db: DbKind) {
    let Some((catcher, app)) = mailing(&db, |_| {}).await else {
        return;
    };
    for name in ["alice", "bob", "carol", "dave"] {
        app.create_user(name, &[]).await;
    }
    let reset = |email: &str, headers: &[(&str, &str)]| {
        let mut request = app
            .client
            .post(app.url("/api/auth/password-reset"))
            .json(&json!({ "email": email }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let german = [("Accept-Language", "de-DE,de;q=0.9,en;q=0.5")];
    assert_eq!(
        reset("alice@example.com", &german).await.unwrap().status(),
        202
    );
    let mail = catcher
        .wait_for(
            "alice@example.com",
            subject_in(Kind::PasswordReset, Locale::De),
            1,
            WAIT,
        )
        .await;
    assert!(mail.text.contains("Hallo alice"), "{}", mail.text);
    assert!(mail.html.contains("<html lang=\"de\">"), "{}", mail.html);

    // The web app's choice outweighs the browser's.
    let chosen = [
        ("Accept-Language", "de"),
        ("Cookie", "portcullis_locale=es"),
    ];
    assert_eq!(
        reset("bob@example.com", &chosen).await.unwrap().status(),
        202
    );
    catcher
        .wait_for(
            "bob@example.com",
            subject_in(Kind::PasswordReset, Locale::Es),
            1,
            WAIT,
        )
        .await;

    // The account's own choice outweighs both.
    let carol = app.signin("carol", PASSWORD).await;
    let set = app
        .client
        .put(app.url("/api/auth/locale"))
        .header("Authorization", carol.bearer())
        .json(&json!({"locale": "es"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(
        reset("carol@example.com", &german).await.unwrap().status(),
        202
    );
    catcher
        .wait_for(
            "carol@example.com",
            subject_in(Kind::PasswordReset, Locale::Es),
            1,
            WAIT,
        )
        .await;

    // None of ours asked for: English.
    let french = [("Accept-Language", "fr-FR")];
    assert_eq!(
        reset("dave@example.com", &french).await.unwrap().status(),
        202
    );
    catcher
        .wait_for("dave@example.com", subject(Kind::PasswordReset), 1, WAIT)
        .await;
    app.stop().await;
}
