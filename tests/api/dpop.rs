//! DPoP (RFC 9449, issue 24) on every database: tokens bound to the client's key at the
//! token endpoint, and refused without a proof of that key at userinfo and on refresh; a
//! proof works once, on every node; introspection says what a token is bound to. The
//! client's key is a P-256 pair made here, its proofs signed as a client library does.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis::service::clients::{ClientSettings, NewClient};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;
use crate::oidc::{code_for, Rp, CB, VERIFIER};
use crate::on_every_database;

on_every_database!(
    tokens_are_bound_to_the_clients_key_and_useless_without_it,
    a_client_that_must_use_dpop_and_proofs_that_do_not_hold,
);

/// A client's DPoP key: a P-256 pair.
struct DpopKey {
    encoding: EncodingKey,
    jwk: Value,
}

impl DpopKey {
    fn new() -> Self {
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let key = openssl::ec::EcKey::generate(&group).unwrap();
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let (mut x, mut y) = (
            openssl::bn::BigNum::new().unwrap(),
            openssl::bn::BigNum::new().unwrap(),
        );
        key.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .unwrap();
        let coordinate =
            |n: &openssl::bn::BigNum| URL_SAFE_NO_PAD.encode(n.to_vec_padded(32).unwrap());
        let pem = openssl::pkey::PKey::from_ec_key(key)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        DpopKey {
            encoding: EncodingKey::from_ec_pem(&pem).unwrap(),
            jwk: json!({"kty": "EC", "crv": "P-256", "x": coordinate(&x), "y": coordinate(&y)}),
        }
    }

    /// RFC 7638's thumbprint: what `cnf.jkt` must be.
    fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A proof for `method` at `url`, now, with `ath` for `token` when given.
    fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        self.proof_at(method, url, token, chrono_now())
    }

    fn proof_at(&self, method: &str, url: &str, token: Option<&str>, iat: i64) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        let mut claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": method,
            "htu": url,
            "iat": iat,
        });
        if let Some(token) = token {
            claims["ath"] = URL_SAFE_NO_PAD
                .encode(Sha256::digest(token.as_bytes()))
                .into();
        }
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn register_rp(app: &TestApp, public: bool, require_dpop: bool) -> Rp {
    let registered = portcullis::service::clients::register(
        &app.state().db,
        &app.clock,
        portcullis::service::admin::Actor::CommandLine { force: false },
        NewClient {
            name: "DPoP app".into(),
            redirect_uris: vec![CB.into()],
            post_logout_uris: vec![],
            public,
            scopes: None,
            id_token_alg: None,
            settings: ClientSettings {
                require_dpop,
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

/// A token request by `rp` at `app`, with these DPoP headers.
async fn token_with(
    app: &TestApp,
    rp: &Rp,
    form: &[(&str, &str)],
    proofs: &[&str],
) -> (u16, Value) {
    let mut form = form.to_vec();
    let mut request = app.client.post(app.url("/api/oauth/token"));
    match &rp.secret {
        Some(secret) => request = request.basic_auth(&rp.client_id, Some(secret)),
        None => form.push(("client_id", &rp.client_id)),
    }
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    let response = request.form(&form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Userinfo with `Authorization: <scheme> <token>` and these DPoP headers.
async fn userinfo_with(
    app: &TestApp,
    scheme: &str,
    token: &str,
    proofs: &[&str],
) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/api/oauth/userinfo"))
        .header("Authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    request.send().await.unwrap()
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn tokens_are_bound_to_the_clients_key_and_useless_without_it(db: DbKind) {
    let db = TestDb::create(&db).await;
    let second = db.shared();
    let app = TestApp::spawn_on(db, |_| {}).await;
    let other_node = TestApp::spawn_on(second, |_| {}).await;
    let rp = register_rp(&app, true, false).await;
    let resource_server = register_rp(&app, false, false).await;
    let key = DpopKey::new();
    let thief = DpopKey::new();
    let base = app.settings.public_base();
    let token_url = format!("{base}/api/oauth/token");
    let userinfo_url = format!("{base}/api/oauth/userinfo");
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert!(discovery["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("ES256")));

    // The code exchanged with a proof: the tokens are the key's.
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (status, tokens) = token_with(
        &app,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[&key.proof("POST", &token_url, None)],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims_of(&access)["cnf"]["jkt"], key.thumbprint());

    // Userinfo with a proof of the key, for this request and this token: yes.
    let proof = key.proof("GET", &userinfo_url, Some(&access));
    let answer = userinfo_with(&app, "DPoP", &access, &[&proof]).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<Value>().await.unwrap()["preferred_username"],
        "alice"
    );
    // The same proof again, on this node or the other: a replay (RFC 9449 §11.1).
    for node in [&app, &other_node] {
        let replay = userinfo_with(node, "DPoP", &access, &[&proof]).await;
        assert_eq!(replay.status(), 401, "a proof works once, on every node");
    }
    // The stolen token without the key (RFC 9449 §7.1: a bound token MUST come with a
    // proof of its key; §4.3's checks of htm, htu and ath): as a bearer token, with the
    // thief's own proof, with a proof for another URL or another token, or with no proof,
    // it is refused.
    let refused = [
        userinfo_with(&app, "Bearer", &access, &[]).await,
        userinfo_with(
            &app,
            "DPoP",
            &access,
            &[&thief.proof("GET", &userinfo_url, Some(&access))],
        )
        .await,
        userinfo_with(
            &app,
            "DPoP",
            &access,
            &[&key.proof("GET", &token_url, Some(&access))],
        )
        .await,
        userinfo_with(
            &app,
            "DPoP",
            &access,
            &[&key.proof("GET", &userinfo_url, Some("other"))],
        )
        .await,
        userinfo_with(
            &app,
            "DPoP",
            &access,
            &[&key.proof("POST", &userinfo_url, Some(&access))],
        )
        .await,
        userinfo_with(&app, "DPoP", &access, &[]).await,
    ];
    for (i, answer) in refused.into_iter().enumerate() {
        assert_eq!(answer.status(), 401, "case {i}");
        let challenge = answer.headers()["www-authenticate"].to_str().unwrap();
        // Told in the scheme it tried: case 0 tried Bearer.
        let scheme = if i == 0 { "Bearer" } else { "DPoP" };
        assert!(
            challenge.starts_with(&format!("{scheme} error=\"invalid_token\"")),
            "case {i}: {challenge}"
        );
    }
    // A proof too old is refused though everything else holds.
    let stale = key.proof_at("GET", &userinfo_url, Some(&access), chrono_now() - 300);
    assert_eq!(
        userinfo_with(&app, "DPoP", &access, &[&stale])
            .await
            .status(),
        401
    );

    // The refresh token is bound too (a public client's: RFC 9449 §5).
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, body) = token_with(&app, &rp, &form, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, body) =
        token_with(&app, &rp, &form, &[&thief.proof("POST", &token_url, None)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, refreshed) =
        token_with(&app, &rp, &form, &[&key.proof("POST", &token_url, None)]).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["token_type"], "DPoP");
    let fresh = refreshed["access_token"].as_str().unwrap();
    assert_eq!(claims_of(fresh)["cnf"]["jkt"], key.thumbprint());

    // Introspection tells a resource server the key, for it to check the proof.
    let introspected: Value = app
        .client
        .post(app.url("/api/oauth/introspect"))
        .basic_auth(
            &resource_server.client_id,
            resource_server.secret.as_deref(),
        )
        .form(&[("token", fresh)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["token_type"], "DPoP");
    assert_eq!(introspected["cnf"]["jkt"], key.thumbprint());

    // A service's own token (client_credentials) binds the same way.
    let (status, service) = token_with(
        &app,
        &resource_server,
        &[("grant_type", "client_credentials")],
        &[&key.proof("POST", &token_url, None)],
    )
    .await;
    assert_eq!(status, 200, "{service}");
    assert_eq!(service["token_type"], "DPoP");
    assert_eq!(
        claims_of(service["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.thumbprint()
    );
    other_node.stop().await;
    app.stop().await;
}

async fn a_client_that_must_use_dpop_and_proofs_that_do_not_hold(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let strict = register_rp(&app, false, true).await;
    let plain = register_rp(&app, false, false).await;
    let key = DpopKey::new();
    let base = app.settings.public_base();
    let token_url = format!("{base}/api/oauth/token");
    let userinfo_url = format!("{base}/api/oauth/userinfo");
    let grant = [("grant_type", "client_credentials")];

    // A client registered as DPoP-bound gets no token without a proof (RFC 9449 §5.2,
    // dpop_bound_access_tokens: the AS MUST reject its requests without one).
    let (status, body) = token_with(&app, &strict, &grant, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, body) = token_with(
        &app,
        &strict,
        &grant,
        &[&key.proof("POST", &token_url, None)],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Proofs that do not hold at the token endpoint (RFC 9449 §4.3's checks): each is
    // invalid_dpop_proof.
    let mut forged = key.proof("POST", &token_url, None);
    forged.push('A');
    let mut unsigned_header = Header::new(Algorithm::HS256);
    unsigned_header.typ = Some("dpop+jwt".into());
    let symmetric = jsonwebtoken::encode(
        &unsigned_header,
        &json!({"jti": "x", "htm": "POST", "htu": token_url, "iat": chrono_now()}),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let one = key.proof("POST", &token_url, None);
    for (case, proofs) in [
        ("another URL", vec![key.proof("POST", &userinfo_url, None)]),
        ("another method", vec![key.proof("GET", &token_url, None)]),
        ("a bad signature", vec![forged]),
        ("a symmetric algorithm", vec![symmetric]),
        (
            "from the future",
            vec![key.proof_at("POST", &token_url, None, chrono_now() + 300)],
        ),
        (
            "two headers",
            vec![one.clone(), key.proof("POST", &token_url, None)],
        ),
        ("not a JWT", vec!["nonsense".to_string()]),
    ] {
        let refs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let (status, body) = token_with(&app, &plain, &grant, &refs).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{case}: {body}"
        );
    }
    // A proof used once at the token endpoint is not taken again.
    let (status, _) = token_with(&app, &plain, &grant, &[&one]).await;
    assert_eq!(status, 200);
    let (status, body) = token_with(&app, &plain, &grant, &[&one]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );

    // An unbound token is a bearer token: with the DPoP scheme it is refused.
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &plain, &alice, &[]).await;
    let (status, tokens) = token_with(
        &app,
        &plain,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap();
    assert!(claims_of(access).get("cnf").is_none());
    assert_eq!(
        userinfo_with(&app, "Bearer", access, &[]).await.status(),
        200
    );
    let proof = key.proof("GET", &userinfo_url, Some(access));
    assert_eq!(
        userinfo_with(&app, "DPoP", access, &[&proof])
            .await
            .status(),
        401
    );
    app.stop().await;
}
