//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0, issue 24) on every
//! database: a client that registered a `backchannel_logout_uri` and was given tokens on a
//! browser session gets one signed logout token when that session ends (sign-out, an admin
//! disabling the user, expiry), from the queue, retried when it does not answer 200, and
//! delivered by one node of two. The client here is a small HTTP server of the test's own
//! that records what it is sent.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis::domain::Role;
use portcullis::service::clients::{ClientSettings, NewClient};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::oidc::{code_for, exchange, Rp, CB, VERIFIER};
use crate::on_every_database;

on_every_database!(
    ending_a_session_posts_one_logout_token_to_each_client_of_it,
    a_failed_delivery_is_retried_and_two_nodes_deliver_once,
);

/// The relying party's back-channel endpoint: records every `logout_token`, answering
/// each with the next of `answers` (then 200).
#[derive(Clone)]
struct Receiver {
    tokens: Arc<Mutex<Vec<String>>>,
    answers: Arc<Mutex<Vec<u16>>>,
    uri: String,
}

impl Receiver {
    async fn start(answers: &[u16]) -> Self {
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(answers.to_vec()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/backchannel", listener.local_addr().unwrap());
        let (t, a) = (tokens.clone(), answers.clone());
        let app = axum::Router::new().route(
            "/backchannel",
            axum::routing::post(
                move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                    let (t, a) = (t.clone(), a.clone());
                    async move {
                        t.lock().unwrap().push(form["logout_token"].clone());
                        let mut answers = a.lock().unwrap();
                        let status = if answers.is_empty() {
                            200
                        } else {
                            answers.remove(0)
                        };
                        axum::http::StatusCode::from_u16(status).unwrap()
                    }
                },
            ),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            tokens,
            answers,
            uri,
        }
    }

    /// Waits up to `within` for at least `n` tokens; all received so far.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.tokens.lock().unwrap().clone();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn register_rp(app: &TestApp, backchannel: Option<&str>) -> Rp {
    let registered = portcullis::service::clients::register(
        &app.state().db,
        &app.clock,
        portcullis::service::admin::Actor::CommandLine { force: false },
        NewClient {
            name: "Back-channel app".into(),
            redirect_uris: vec![CB.into()],
            post_logout_uris: vec![],
            public: false,
            scopes: None,
            id_token_alg: None,
            settings: ClientSettings {
                backchannel_logout_uri: backchannel.map(String::from),
                ..ClientSettings::default()
            },
        },
    )
    .await
    .unwrap();
    Rp {
        client_id: registered.client.client_id,
        secret: registered.secret,
    }
}

/// Signs `session`'s browser in to `rp`: the ID token's claims.
async fn sign_in_to(app: &TestApp, rp: &Rp, session: &Session) -> Value {
    let code = code_for(app, rp, session, &[]).await;
    let (status, tokens) = exchange(app, rp, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    crate::oidc::check_id_token(app, rp, tokens["id_token"].as_str().unwrap()).await
}

/// A logout token checked as a relying party must (§2.6): signature by a published key,
/// `typ`, `iss`, `aud`, `iat`/`exp`, the event, `sid`/`sub`, and no `nonce`.
async fn check_logout_token(app: &TestApp, rp: &Rp, token: &str) -> Value {
    let set: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&[app.settings.public_base()]);
    validation.set_audience(&[&rp.client_id]);
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(
        claims["events"],
        json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].is_string());
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 120);
    claims
}

async fn ending_a_session_posts_one_logout_token_to_each_client_of_it(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let receiver = Receiver::start(&[]).await;
    let other_receiver = Receiver::start(&[]).await;
    let rp = register_rp(&app, Some(&receiver.uri)).await;
    let bystander = register_rp(&app, Some(&other_receiver.uri)).await;
    let silent = register_rp(&app, None).await;
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["backchannel_logout_supported"], true);
    assert_eq!(discovery["backchannel_logout_session_supported"], true);

    // Signed in to two clients on one browser session; the bystander on another.
    let alice = app.user_session("alice", &[]).await;
    let id = sign_in_to(&app, &rp, &alice).await;
    sign_in_to(&app, &silent, &alice).await;
    let elsewhere = app.signin("alice", PASSWORD).await;
    sign_in_to(&app, &bystander, &elsewhere).await;

    // Signing out of the first session: the client of it hears, once (Back-Channel Logout
    // 1.0 §2.5, a POST of logout_token; §2.4 its claims); the other does not.
    let out = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Cookie", alice.cookie_header())
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success());
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "one logout token");
    let claims = check_logout_token(&app, &rp, &got[0]).await;
    assert_eq!(claims["sid"], id["sid"], "the ID token's session");
    assert_eq!(claims["sub"], id["sub"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.tokens.lock().unwrap().len(), 1, "only once");
    assert!(other_receiver.tokens.lock().unwrap().is_empty());

    // An admin disabling the user ends the other session: its client hears.
    let admin = app.user_session("root", &[Role::Admin]).await;
    let user_id = alice.body["id"].as_i64().unwrap();
    let disabled = app
        .client
        .patch(app.url(&format!("/api/admin/users/{user_id}")))
        .header("Authorization", admin.bearer())
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    let got = other_receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    check_logout_token(&app, &bystander, &got[0]).await;

    // A session that expires tells its clients when the prune finds it.
    let bob = app.user_session("bob", &[]).await;
    sign_in_to(&app, &rp, &bob).await;
    app.clock
        .advance(app.settings.session_ttl + Duration::from_secs(60));
    let queued = portcullis::service::oidc::backchannel::announce_ended(&app.state().provider())
        .await
        .unwrap();
    assert!(queued >= 1, "{queued}");
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    let claims = check_logout_token(&app, &rp, &got[1]).await;
    assert_eq!(claims["sub"], bob.body["id"].to_string());
    app.stop().await;
}

async fn a_failed_delivery_is_retried_and_two_nodes_deliver_once(db: DbKind) {
    let db = TestDb::create(&db).await;
    let second = db.shared();
    let app = TestApp::spawn_on(db, |_| {}).await;
    let other_node = TestApp::spawn_on(second, |_| {}).await;
    // The client fails the first attempt and takes the second (2 s later).
    let receiver = Receiver::start(&[503]).await;
    let rp = register_rp(&app, Some(&receiver.uri)).await;
    let alice = app.user_session("alice", &[]).await;
    sign_in_to(&app, &rp, &alice).await;
    let out = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Cookie", alice.cookie_header())
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success());
    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 2, "a failed attempt, then a delivered one");
    assert!(receiver.answers.lock().unwrap().is_empty());
    check_logout_token(&app, &rp, &got[1]).await;
    // Neither node delivers it again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.tokens.lock().unwrap().len(), 2);
    other_node.stop().await;
    app.stop().await;
}
