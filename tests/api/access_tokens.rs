//! Access tokens (docs/API.md §1, "Access token" and the authentication failures table): what
//! the server issues, and every kind of token it must refuse.
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use portcullis::auth::access_token::LEEWAY_SECS;
use portcullis::clock::Clock;
use portcullis::config::TokenAlg;
use rand::distributions::{Alphanumeric, DistString};
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    a_token_past_its_lifetime_and_the_leeway_is_reported_as_expired,
    forged_tokens_are_refused_as_invalid,
    a_deleted_users_token_stops_working,
    a_disabled_users_token_stops_working,
    issued_tokens_carry_the_documented_claims,
    issuer_and_lifetime_follow_the_settings,
    without_a_configured_secret_tokens_are_signed_with_the_key_kept_in_the_database,
    a_token_from_a_server_with_another_secret_is_refused,
    a_token_in_the_url_query_is_never_read,
    by_default_tokens_are_eddsa_and_any_service_can_check_them,
    tokens_signed_by_another_key_or_algorithm_are_refused,
    a_token_from_a_server_with_other_keys_is_refused,
);

/// The tutorial's kind of token: HS256 with this secret.
fn hs256_with(settings: &mut portcullis::config::Settings, secret: &str) {
    settings.access_token_alg = TokenAlg::Hs256;
    settings.jwt_secret = Some(secret.into());
}

fn random_secret() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hs256(key: &[u8], message: &str) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hs512(key: &[u8], message: &str) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A JWT with exactly this header and these claims, HMAC-SHA256-signed with `key`.
fn forge(header: &Value, claims: &Value, key: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = b64(hs256(key, &signing_input));
    format!("{signing_input}.{signature}")
}

fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

fn claims_of(token: &str) -> Value {
    segment(token, 1)
}

fn header_of(token: &str) -> Value {
    segment(token, 0)
}

async fn get_user_content(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_with(
        "/api/test/user",
        ("Authorization", &format!("Bearer {token}")),
    )
    .await
}

async fn a_token_past_its_lifetime_and_the_leeway_is_reported_as_expired(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let token = session.access.clone().unwrap();
    let ttl = app.settings.access_ttl;

    app.clock.advance(ttl - Duration::from_secs(2));
    assert_eq!(get_user_content(&app, &token).await.status(), 200);

    app.clock.advance(Duration::from_secs(2 + LEEWAY_SECS + 1));
    assert_error(
        get_user_content(&app, &token).await,
        401,
        "Unauthorized! Access Token was expired!",
        "token_expired",
    )
    .await;
    // The same through the other header and the access cookie alone.
    let response = app
        .get_with("/api/test/user", ("x-access-token", &token))
        .await;
    assert_error(
        response,
        401,
        "Unauthorized! Access Token was expired!",
        "token_expired",
    )
    .await;
    let response = app
        .get_with(
            "/api/test/user",
            ("Cookie", &format!("portcullis_access={token}")),
        )
        .await;
    assert_error(
        response,
        401,
        "Unauthorized! Access Token was expired!",
        "token_expired",
    )
    .await;
    app.stop().await;
}

async fn forged_tokens_are_refused_as_invalid(db: DbKind) {
    let secret = random_secret();
    let app = TestApp::spawn_with(db, |s| hs256_with(s, &secret)).await;
    let key = secret.as_bytes();
    let session = app.user_session("alice", &[]).await;
    let genuine = claims_of(session.access.as_deref().unwrap());
    let hs256_header = json!({"alg": "HS256", "typ": "JWT"});

    // The forger is faithful: the genuine claims re-signed with the right key pass, so each
    // refusal below is for the one thing that case changes.
    let control = forge(&hs256_header, &genuine, key);
    let response = get_user_content(&app, &control).await;
    assert_eq!(
        response.status(),
        200,
        "re-signed genuine claims are accepted"
    );

    let now = app.clock.now_secs();
    let with = |field: &str, value: Value| {
        let mut claims = genuine.clone();
        claims[field] = value;
        forge(&hs256_header, &claims, key)
    };
    let with_header = |extra: Value| {
        let mut header = hs256_header.clone();
        header
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        forge(&header, &genuine, key)
    };
    let without_exp = {
        let mut claims = genuine.clone();
        claims.as_object_mut().unwrap().remove("exp");
        forge(&hs256_header, &claims, key)
    };
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string()),
        b64(genuine.to_string())
    );
    let hs512_with_the_right_key = {
        let input = format!(
            "{}.{}",
            b64(json!({"alg": "HS512", "typ": "JWT"}).to_string()),
            b64(genuine.to_string())
        );
        let signature = b64(hs512(key, &input));
        format!("{input}.{signature}")
    };

    let cases: Vec<(&str, String)> = vec![
        (
            "wrong key",
            forge(&hs256_header, &genuine, random_secret().as_bytes()),
        ),
        ("alg none", alg_none),
        ("HS512 with the right key", hs512_with_the_right_key),
        ("missing exp", without_exp),
        ("wrong iss", with("iss", json!("someone-else"))),
        ("wrong aud", with("aud", json!("someone-else"))),
        ("iat in the future", with("iat", json!(now + 300))),
        ("nbf in the future", with("nbf", json!(now + 300))),
        ("crit header", with_header(json!({"crit": ["exp"]}))),
        (
            "jku header",
            with_header(json!({"jku": "http://127.0.0.1:9/keys.json"})),
        ),
        (
            "x5u header",
            with_header(json!({"x5u": "http://127.0.0.1:9/cert.pem"})),
        ),
        (
            "jwk header",
            with_header(json!({"jwk": {"kty": "oct", "k": b64(key)}})),
        ),
        ("x5c header", with_header(json!({"x5c": ["MIIB"]}))),
        ("signature stripped", {
            let c = control.rsplit_once('.').unwrap().0;
            format!("{c}.")
        }),
    ];
    for (why, token) in cases {
        let response = get_user_content(&app, &token).await;
        assert_eq!(response.status(), 401, "{why}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "Unauthorized!", "code": "invalid_token"}),
            "{why}"
        );
    }
    app.stop().await;
}

async fn a_deleted_users_token_stops_working(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let token = session.access.clone().unwrap();
    let id = session.body["id"].as_i64().unwrap();
    assert_eq!(get_user_content(&app, &token).await.status(), 200);

    let state = app.state();
    sqlx::query(&state.db.sql("DELETE FROM users WHERE id = ?"))
        .bind(id)
        .execute(&state.db.pool)
        .await
        .unwrap();
    state.cache.user_changed(id).await;

    assert_error(
        get_user_content(&app, &token).await,
        401,
        "Unauthorized!",
        "invalid_token",
    )
    .await;
    app.stop().await;
}

async fn a_disabled_users_token_stops_working(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let token = session.access.clone().unwrap();
    let id = session.body["id"].as_i64().unwrap();
    assert_eq!(get_user_content(&app, &token).await.status(), 200);

    let state = app.state();
    let changed = portcullis::store::users::set_disabled(&state.db, id, true, app.clock.now_ms())
        .await
        .unwrap();
    assert!(changed);
    state.cache.user_changed(id).await;

    assert_error(
        get_user_content(&app, &token).await,
        401,
        "Unauthorized!",
        "invalid_token",
    )
    .await;
    let response = app
        .get_with(
            "/api/test/user",
            ("Cookie", &format!("portcullis_access={token}")),
        )
        .await;
    assert_error(response, 401, "Unauthorized!", "invalid_token").await;
    app.stop().await;
}

async fn issued_tokens_carry_the_documented_claims(db: DbKind) {
    let secret = random_secret();
    let app = TestApp::spawn_with(db, |s| hs256_with(s, &secret)).await;
    let before = app.clock.now_secs();
    let session = app.user_session("alice", &[]).await;
    let after = app.clock.now_secs();
    let token = session.access.clone().unwrap();

    let header = header_of(&token);
    assert_eq!(header["alg"], "HS256", "{header}");
    let claims = claims_of(&token);
    let id = &claims["id"];
    assert!(id.is_i64(), "id is a JSON number: {claims}");
    assert_eq!(id, &session.body["id"], "{claims}");
    assert_eq!(claims["sub"], json!(id.as_i64().unwrap().to_string()));
    assert!(
        claims["sid"].as_str().is_some_and(|s| !s.is_empty()),
        "{claims}"
    );
    assert!(
        claims["jti"].as_str().is_some_and(|s| !s.is_empty()),
        "{claims}"
    );
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let exp = claims["exp"].as_i64().expect("exp is a number");
    assert!((before..=after).contains(&iat), "iat {iat} is now");
    assert_eq!(exp - iat, 900, "{claims}");
    assert_eq!(claims["iss"], "portcullis");
    assert_eq!(claims["aud"], "portcullis");

    // The signature is HMAC-SHA256 under the configured secret.
    let (input, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(signature, b64(hs256(secret.as_bytes(), input)));

    // Every sign-in is a session of its own with a token of its own.
    let second = claims_of(&app.signin("alice", PASSWORD).await.access.unwrap());
    assert_ne!(second["sid"], claims["sid"]);
    assert_ne!(second["jti"], claims["jti"]);
    app.stop().await;
}

async fn issuer_and_lifetime_follow_the_settings(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.issuer = "auth.example.test".into();
        s.access_ttl = Duration::from_secs(120);
    })
    .await;
    let session = app.user_session("alice", &[]).await;
    assert_eq!(session.body["expiresIn"], 120);
    let claims = claims_of(session.access.as_deref().unwrap());
    assert_eq!(claims["iss"], "auth.example.test");
    assert_eq!(claims["aud"], "auth.example.test");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert_eq!(
        get_user_content(&app, session.access.as_deref().unwrap())
            .await
            .status(),
        200
    );
    app.stop().await;
}

async fn without_a_configured_secret_tokens_are_signed_with_the_key_kept_in_the_database(
    db: DbKind,
) {
    let app = TestApp::spawn_with(db, |s| s.access_token_alg = TokenAlg::Hs256).await;
    assert!(app.settings.jwt_secret.is_none());
    let session = app.user_session("alice", &[]).await;
    let token = session.access.unwrap();

    let state = app.state();
    let row = sqlx::query(&state.db.sql("SELECT value FROM server_keys WHERE name = ?"))
        .bind("jwt_hs256")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let key = STANDARD.decode(row.get::<String, _>(0)).unwrap();
    assert_eq!(key.len(), 32, "a 256-bit key");
    let (input, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(signature, b64(hs256(&key, input)));
    app.stop().await;
}

async fn a_token_from_a_server_with_another_secret_is_refused(db: DbKind) {
    let ours = TestApp::spawn_with(db, |s| hs256_with(s, &random_secret())).await;
    // Where the other server keeps its data does not matter; SQLite is the quickest.
    let theirs = TestApp::spawn_with(DbKind::Sqlite, |s| hs256_with(s, &random_secret())).await;
    ours.create_user("alice", &[]).await;
    let foreign = theirs.user_session("alice", &[]).await;
    let token = foreign.access.unwrap();
    assert_eq!(get_user_content(&theirs, &token).await.status(), 200);

    assert_error(
        get_user_content(&ours, &token).await,
        401,
        "Unauthorized!",
        "invalid_token",
    )
    .await;
    theirs.stop().await;
    ours.stop().await;
}

async fn a_token_in_the_url_query_is_never_read(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let token = session.access.unwrap();
    for query in [
        "token",
        "access_token",
        "accessToken",
        "x-access-token",
        "jwt",
    ] {
        let response = app.get(&format!("/api/test/user?{query}={token}")).await;
        assert_error(response, 401, "No token provided!", "unauthenticated").await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_short_or_well_known_jwt_secret_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/portcullis.db", dir.path().display());
    let thirty_one_random = Alphanumeric.sample_string(&mut rand::thread_rng(), 31);
    let refused = [
        "".to_string(),
        "bezkoder-secret-key".to_string(),
        "secret".to_string(),
        thirty_one_random.clone(),
        "changeme".repeat(5),
        "bezkoder-secret-key".repeat(2),
        "x".repeat(64),
    ];
    for secret in refused {
        let mut settings = test_settings(&url);
        settings.jwt_secret = Some(secret.as_str().into());
        let error = match portcullis::server::Server::start(settings, Clock::default()).await {
            Ok(server) => {
                server.stop().await.unwrap();
                panic!("the server started with PORTCULLIS_JWT_SECRET={secret:?}");
            }
            Err(e) => format!("{e:#}"),
        };
        assert!(
            error.contains("PORTCULLIS_JWT_SECRET"),
            "{secret:?}: {error}"
        );
        if secret == thirty_one_random {
            assert!(!error.contains(&secret), "the error never shows the secret");
        }
    }

    // Forty random characters are accepted.
    let mut settings = test_settings(&url);
    settings.jwt_secret = Some(random_secret().into());
    let server = portcullis::server::Server::start(settings, Clock::default())
        .await
        .expect("a strong secret starts the server");
    server.stop().await.unwrap();
}

/// The published key set, as a relying party fetches it.
async fn jwks(app: &TestApp) -> jsonwebtoken::jwk::JwkSet {
    let response = app.get("/.well-known/jwks.json").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn by_default_tokens_are_eddsa_and_any_service_can_check_them(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let token = session.access.clone().unwrap();
    let header = header_of(&token);
    assert_eq!(header["alg"], "EdDSA", "{header}");
    assert_eq!(header["typ"], "JWT", "{header}");
    let kid = header["kid"].as_str().expect("a kid");

    // Checked offline with nothing but the published key, as another service would.
    let set = jwks(&app).await;
    let jwk = set.find(kid).expect("the kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&["portcullis"]);
    validation.set_audience(&["portcullis"]);
    validation.validate_exp = false;
    let checked = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
    assert_eq!(
        checked.claims["sub"],
        json!(session.body["id"].as_i64().unwrap().to_string())
    );
    assert_eq!(checked.claims["id"], session.body["id"]);
    assert_eq!(get_user_content(&app, &token).await.status(), 200);
    app.stop().await;
}

async fn tokens_signed_by_another_key_or_algorithm_are_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let session = app.user_session("alice", &[]).await;
    let token = session.access.clone().unwrap();
    let genuine = claims_of(&token);
    let kid = header_of(&token)["kid"].as_str().unwrap().to_string();
    let set = jwks(&app).await;
    let public_x = serde_json::to_value(set.find(&kid).unwrap()).unwrap()["x"]
        .as_str()
        .unwrap()
        .to_string();
    // Key confusion: HS256 "signed" with the public key, under our kid or none.
    let confused = forge(
        &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
        &genuine,
        public_x.as_bytes(),
    );
    let confused_raw = {
        let raw = URL_SAFE_NO_PAD.decode(&public_x).unwrap();
        forge(
            &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
            &genuine,
            &raw,
        )
    };
    let kidless = forge(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &genuine,
        public_x.as_bytes(),
    );
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string()),
        b64(genuine.to_string())
    );
    // Our claims under our kid, signed by another Ed25519 key.
    let (other_kid, der) =
        portcullis::auth::keys::generate(portcullis::auth::keys::KeyAlg::EdDSA).unwrap();
    let other = portcullis::auth::keys::load(
        &other_kid,
        portcullis::auth::keys::KeyAlg::EdDSA,
        &der,
        0,
        None,
    )
    .unwrap();
    let mut other_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    other_header.kid = Some(kid.clone());
    let wrong_key = jsonwebtoken::encode(&other_header, &genuine, &other.encoding).unwrap();
    other_header.kid = Some(other_kid);
    let unknown_kid = jsonwebtoken::encode(&other_header, &genuine, &other.encoding).unwrap();
    for (why, forged) in [
        ("HS256 with the public key as text", confused),
        ("HS256 with the public key's bytes", confused_raw),
        ("HS256 without a kid", kidless),
        ("alg none", alg_none),
        ("another key under our kid", wrong_key),
        ("an unknown kid", unknown_kid),
    ] {
        assert_error(
            get_user_content(&app, &forged).await,
            401,
            "Unauthorized!",
            "invalid_token",
        )
        .await;
        let _ = why;
    }
    assert_eq!(get_user_content(&app, &token).await.status(), 200);
    app.stop().await;
}

async fn a_token_from_a_server_with_other_keys_is_refused(db: DbKind) {
    let ours = TestApp::spawn(db).await;
    let theirs = TestApp::spawn(DbKind::Sqlite).await;
    ours.create_user("alice", &[]).await;
    let token = theirs.user_session("alice", &[]).await.access.unwrap();
    assert_eq!(get_user_content(&theirs, &token).await.status(), 200);
    assert_error(
        get_user_content(&ours, &token).await,
        401,
        "Unauthorized!",
        "invalid_token",
    )
    .await;
    theirs.stop().await;
    ours.stop().await;
}
