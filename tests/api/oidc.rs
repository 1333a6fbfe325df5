//! The OpenID Connect provider (issue 15, docs/API.md §5) on every database: the code flow
//! with PKCE, consent, the token endpoint's grants, ID tokens checked against the published
//! keys, userinfo, revocation, introspection, logout, clients; and the known attacks.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use portcullis::domain::Role;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    the_code_flow_signs_a_user_in_to_a_client,
    a_remembered_consent_skips_the_page_and_prompt_consent_asks_again,
    refresh_tokens_rotate_and_a_reused_one_ends_the_grant,
    a_code_used_twice_revokes_what_it_gave,
    pkce_is_required_where_promised_and_cannot_be_downgraded,
    redirect_uri_tricks_are_never_redirected_to,
    request_errors_go_back_to_the_client_with_state_and_iss,
    client_authentication_is_enforced,
    client_credentials_revocation_and_introspection,
    rp_initiated_logout_ends_the_session_it_names,
    a_logout_without_the_sessions_cookies_is_confirmed_by_the_user,
    the_authorization_endpoint_takes_a_form_post,
    max_age_asks_an_older_signin_to_be_made_again,
    id_tokens_are_rs256_unless_the_client_chose_another,
    a_revoked_service_token_is_inactive_on_every_node,
    one_address_cannot_make_the_server_store_without_bound,
    a_refresh_error_leaves_the_grant_and_a_narrower_scope_is_honoured,
    a_revoked_consent_ends_the_clients_grants,
    admins_register_and_remove_clients,
    rotated_keys_are_published_before_they_sign,
    an_id_token_says_a_second_factor_signed_in,
    clients_consents_and_client_signins_are_audited,
);

pub(crate) const CB: &str = "https://rp.example/cb";
pub(crate) const VERIFIER: &str = "a-pkce-verifier-of-enough-length-0123456789abcdefghij";

pub(crate) struct Rp {
    pub client_id: String,
    pub secret: Option<String>,
}

pub(crate) async fn register(app: &TestApp, public: bool, scopes: Option<&[&str]>) -> Rp {
    let registered = portcullis::service::clients::register(
        &app.state().db,
        &app.clock,
        portcullis::service::admin::Actor::CommandLine { force: false },
        portcullis::service::clients::NewClient {
            name: "Sample app".into(),
            redirect_uris: vec![CB.into()],
            post_logout_uris: vec!["https://rp.example/bye".into()],
            public,
            scopes: scopes.map(|s| s.iter().map(|s| s.to_string()).collect()),
            id_token_alg: None,
            settings: Default::default(),
        },
    )
    .await
    .unwrap();
    Rp {
        client_id: registered.client.client_id,
        secret: registered.secret,
    }
}

pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn authorize_url(rp: &Rp, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse("http://x/api/oauth/authorize").unwrap();
    let c = challenge(VERIFIER);
    {
        let mut q = url.query_pairs_mut();
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", rp.client_id.as_str()),
            ("redirect_uri", CB),
            ("scope", "openid profile email roles offline_access"),
            ("state", "the-state"),
            ("nonce", "the-nonce"),
            ("code_challenge", c.as_str()),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            pairs.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                pairs.push((k, v));
            }
        }
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// GET `path` as the session's browser, answered with a redirect: its Location.
pub(crate) async fn location(
    app: &TestApp,
    path: &str,
    session: Option<&Session>,
) -> (u16, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(s) = session {
        request = request.header("Authorization", s.bearer());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location)
}

pub(crate) fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let parsed = url::Url::parse(url)
        .or_else(|_| url::Url::parse(&format!("http://x{url}")))
        .unwrap();
    parsed.query_pairs().into_owned().collect()
}

/// Signs in through the consent page's API: authorize, approve, the code from the redirect.
pub(crate) async fn code_for(
    app: &TestApp,
    rp: &Rp,
    session: &Session,
    extra: &[(&str, &str)],
) -> String {
    let (status, to) = location(app, &authorize_url(rp, extra), Some(session)).await;
    assert_eq!(status, 302, "{to}");
    let to = if to.starts_with("/oauth/consent") {
        let request = query_of(&to)["request"].clone();
        let answer = post_as(
            app,
            &format!("/api/oauth/requests/{request}"),
            session,
            json!({"approve": true}),
        )
        .await;
        assert_eq!(answer.status(), 200);
        answer.json::<Value>().await.unwrap()["redirectTo"]
            .as_str()
            .unwrap()
            .to_string()
    } else {
        to
    };
    assert!(to.starts_with(CB), "{to}");
    let q = query_of(&to);
    assert_eq!(q.get("state").map(String::as_str), Some("the-state"));
    assert_eq!(
        q.get("iss").map(String::as_str),
        Some(app.settings.public_base().as_str())
    );
    q["code"].clone()
}

pub(crate) async fn token(app: &TestApp, rp: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    let mut request = app.client.post(app.url("/api/oauth/token")).form(form);
    match &rp.secret {
        Some(secret) => request = request.basic_auth(&rp.client_id, Some(secret)),
        None => {
            let mut with_id = form.to_vec();
            with_id.push(("client_id", &rp.client_id));
            request = app.client.post(app.url("/api/oauth/token")).form(&with_id);
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub(crate) async fn exchange(
    app: &TestApp,
    rp: &Rp,
    code: &str,
    verifier: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token(app, rp, &form).await
}

pub(crate) async fn userinfo(app: &TestApp, access: &str) -> (u16, Value) {
    let response = app
        .get_with(
            "/api/oauth/userinfo",
            ("Authorization", &format!("Bearer {access}")),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What introspection says of `token`, asked by `rp` (a resource server) at `app`'s node.
async fn introspect(app: &TestApp, rp: &Rp, token: &str) -> Value {
    app.client
        .post(app.url("/api/oauth/introspect"))
        .basic_auth(&rp.client_id, rp.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Whether introspection at `app`'s node says `token` is active.
async fn active(app: &TestApp, rp: &Rp, token: &str) -> bool {
    introspect(app, rp, token).await["active"] == true
}

/// Revokes `token` as `rp` at `app`'s node (RFC 7009); the status.
async fn revoke(app: &TestApp, rp: &Rp, token: &str) -> u16 {
    app.client
        .post(app.url("/api/oauth/revoke"))
        .basic_auth(&rp.client_id, rp.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The ID token checked as a relying party does: signature by a published key, `iss`, `aud`.
pub(crate) async fn check_id_token(app: &TestApp, rp: &Rp, id_token: &str) -> Value {
    let set: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("published kid");
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&[app.settings.public_base()]);
    validation.set_audience(&[&rp.client_id]);
    jsonwebtoken::decode::<Value>(
        id_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

async fn the_code_flow_signs_a_user_in_to_a_client(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[Role::Moderator]).await;
    let id = alice.body["id"].as_i64().unwrap();

    // Discovery names us and the endpoints.
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let issuer = app.settings.public_base();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(
        discovery["token_endpoint"],
        format!("{issuer}/api/oauth/token")
    );
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );

    // First time: the consent page, which shows the client and the scopes.
    let (status, to) = location(&app, &authorize_url(&rp, &[]), Some(&alice)).await;
    assert_eq!(status, 302);
    assert!(to.starts_with("/oauth/consent?request="), "{to}");
    let request = query_of(&to)["request"].clone();
    let view: Value = app
        .get(&format!("/api/oauth/requests/{request}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["client"]["name"], "Sample app");
    assert_eq!(
        view["scopes"],
        json!(["openid", "profile", "email", "roles", "offline_access"])
    );
    assert_eq!(view["signInRequired"], false);
    // Deciding needs a signed-in user.
    let anonymous = app
        .post(
            &format!("/api/oauth/requests/{request}"),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(anonymous.status(), 401);

    let code = code_for(&app, &rp, &alice, &[]).await;
    let (status, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().unwrap();
    assert!(
        tokens["refresh_token"].is_string(),
        "offline_access gives one"
    );

    let claims = check_id_token(&app, &rp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], id.to_string());
    assert_eq!(claims["nonce"], "the-nonce");
    assert_eq!(claims["azp"], rp.client_id.as_str());
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["roles"], json!(["user", "moderator"]));
    assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    assert!(
        claims["sid"].is_string() && claims["at_hash"].is_string(),
        "{claims}"
    );

    let (status, info) = userinfo(&app, access).await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], id.to_string());
    assert_eq!(info["email"], "alice@example.com");
    // The client's token is not a key to Portcullis' own routes, nor an ID token one.
    let own = app
        .get_with(
            "/api/test/user",
            ("Authorization", &format!("Bearer {access}")),
        )
        .await;
    assert_eq!(own.status(), 401);
    assert_eq!(
        userinfo(&app, tokens["id_token"].as_str().unwrap()).await.0,
        401
    );
    assert_eq!(
        userinfo(&app, alice.access.as_deref().unwrap()).await.0,
        401
    );
    app.stop().await;
}

async fn a_remembered_consent_skips_the_page_and_prompt_consent_asks_again(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    code_for(&app, &rp, &alice, &[]).await;
    // The same scopes again: straight back with a code.
    let (_, to) = location(
        &app,
        &authorize_url(&rp, &[("scope", "openid email")]),
        Some(&alice),
    )
    .await;
    assert!(
        to.starts_with(CB) && query_of(&to).contains_key("code"),
        "{to}"
    );
    let (_, to) = location(
        &app,
        &authorize_url(&rp, &[("prompt", "consent")]),
        Some(&alice),
    )
    .await;
    assert!(to.starts_with("/oauth/consent"), "{to}");
    // prompt=none never shows a page: without a session it says so to the client.
    let (_, to) = location(&app, &authorize_url(&rp, &[("prompt", "none")]), None).await;
    assert_eq!(query_of(&to)["error"], "login_required", "{to}");
    // Denying sends access_denied back.
    let (_, to) = location(
        &app,
        &authorize_url(&rp, &[("prompt", "consent")]),
        Some(&alice),
    )
    .await;
    let request = query_of(&to)["request"].clone();
    let answer: Value = post_as(
        &app,
        &format!("/api/oauth/requests/{request}"),
        &alice,
        json!({"approve": false}),
    )
    .await
    .json()
    .await
    .unwrap();
    let q = query_of(answer["redirectTo"].as_str().unwrap());
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str()),
        ("access_denied", "the-state")
    );
    // A request is answered once.
    let again = post_as(
        &app,
        &format!("/api/oauth/requests/{request}"),
        &alice,
        json!({"approve": true}),
    )
    .await;
    assert_error(
        again,
        404,
        "This sign-in request has expired or was already used.",
        "oauth_request_unknown",
    )
    .await;
    app.stop().await;
}

async fn refresh_tokens_rotate_and_a_reused_one_ends_the_grant(db: DbKind) {
    let app =
        TestApp::spawn_with(db, |s| s.refresh_reuse_interval = std::time::Duration::ZERO).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_string();

    // Only this client, and only at the token endpoint.
    let first_party = app
        .post("/api/auth/refreshtoken", json!({"refreshToken": first}))
        .await;
    assert_eq!(first_party.status(), 403);
    let other = register(&app, false, None).await;
    let (status, body) = token(
        &app,
        &other,
        &[("grant_type", "refresh_token"), ("refresh_token", &first)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let (status, rotated) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", &first)],
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(second, first);
    let access = rotated["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, 200);
    // A wider scope is refused.
    let (status, _) = token(
        &app,
        &rp,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", second),
            ("scope", "openid admin"),
        ],
    )
    .await;
    assert_eq!(status, 400);

    // The first one again: reuse, and the whole grant ends.
    let (status, body) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", &first)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&app, access).await.0, 401);
    let (status, _) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", second)],
    )
    .await;
    assert_eq!(status, 400);
    // The user's own session is not the grant: it goes on.
    assert_eq!(get_as(&app, "/api/test/user", &alice).await.status(), 200);
    app.stop().await;
}

async fn a_code_used_twice_revokes_what_it_gave(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (status, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, 200);
    let (status, body) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        userinfo(&app, access).await.0,
        401,
        "the first exchange's tokens are revoked"
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 400);

    // A code is for the client it was issued to, and expires.
    let code = code_for(&app, &rp, &alice, &[]).await;
    let other = register(&app, false, None).await;
    let (status, _) = exchange(&app, &other, &code, Some(VERIFIER)).await;
    assert_eq!(status, 400);
    let code = code_for(&app, &rp, &alice, &[]).await;
    app.clock.advance(std::time::Duration::from_secs(61));
    let (status, body) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    app.stop().await;
}

async fn pkce_is_required_where_promised_and_cannot_be_downgraded(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let public = register(&app, true, None).await;
    let confidential = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;

    // A public client without a challenge, or with "plain": refused at the client.
    for extra in [
        vec![("code_challenge", ""), ("code_challenge_method", "")],
        vec![("code_challenge_method", "plain")],
        vec![("code_challenge", "too-short")],
    ] {
        let (_, to) = location(&app, &authorize_url(&public, &extra), Some(&alice)).await;
        assert_eq!(query_of(&to)["error"], "invalid_request", "{extra:?}: {to}");
    }
    // A public client with PKCE and no secret gets its tokens.
    let code = code_for(&app, &public, &alice, &[]).await;
    assert_eq!(exchange(&app, &public, &code, Some(VERIFIER)).await.0, 200);

    // The verifier must match; leaving it out is no way around it.
    for verifier in [
        None,
        Some("another-verifier-of-enough-length-0123456789abcdefghij"),
    ] {
        let code = code_for(&app, &confidential, &alice, &[]).await;
        let (status, body) = exchange(&app, &confidential, &code, verifier).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{verifier:?}"
        );
    }
    // Downgrade: a request made without a challenge, redeemed with a verifier.
    let code = code_for(
        &app,
        &confidential,
        &alice,
        &[("code_challenge", ""), ("code_challenge_method", "")],
    )
    .await;
    let (status, _) = exchange(&app, &confidential, &code, Some(VERIFIER)).await;
    assert_eq!(status, 400);
    let code = code_for(
        &app,
        &confidential,
        &alice,
        &[("code_challenge", ""), ("code_challenge_method", "")],
    )
    .await;
    assert_eq!(exchange(&app, &confidential, &code, None).await.0, 200);
    app.stop().await;
}

async fn redirect_uri_tricks_are_never_redirected_to(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    for uri in [
        "https://rp.example/cb/other",
        "https://rp.example/cbx",
        "https://rp.example/c",
        "https://rp.example/cb?next=https://evil.example",
        "https://rp.example@evil.example/cb",
        "https://evil.example/cb",
        "https://rp.example.evil.example/cb",
        "http://rp.example/cb",
        "HTTPS://RP.EXAMPLE/cb",
        "https://rp.example/cb#",
        "",
    ] {
        let (status, to) = location(
            &app,
            &authorize_url(&rp, &[("redirect_uri", uri)]),
            Some(&alice),
        )
        .await;
        assert_eq!(status, 400, "{uri:?} redirected to {to}");
        assert!(to.is_empty(), "{uri:?}: no Location");
    }
    let (status, _) = location(
        &app,
        &authorize_url(
            &Rp {
                client_id: "nobody".into(),
                secret: None,
            },
            &[],
        ),
        Some(&alice),
    )
    .await;
    assert_eq!(status, 400);
    // At the token endpoint, the redirect URI must be the request's.
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (status, _) = token(
        &app,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://rp.example/cb/other"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 400);
    app.stop().await;
}

async fn request_errors_go_back_to_the_client_with_state_and_iss(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, Some(&["openid", "profile"])).await;
    let alice = app.user_session("alice", &[]).await;
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "profile")], "invalid_scope"),
        (vec![("scope", "openid email")], "invalid_scope"),
        (vec![("scope", "openid admin")], "invalid_scope"),
        (vec![("request", "eyJ")], "request_not_supported"),
        (
            vec![("prompt", "none login"), ("scope", "openid profile")],
            "invalid_request",
        ),
    ] {
        let (status, to) = location(&app, &authorize_url(&rp, &extra), Some(&alice)).await;
        assert_eq!(status, 302);
        assert!(to.starts_with(CB), "{to}");
        let q = query_of(&to);
        assert_eq!(q["error"], error, "{extra:?}");
        assert_eq!(q["state"], "the-state");
        // RFC 9207: the issuer says who answered, against mix-up attacks.
        assert_eq!(q["iss"], app.settings.public_base());
        assert!(!q.contains_key("code"));
    }
    app.stop().await;
}

async fn client_authentication_is_enforced(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let wrong = app
        .client
        .post(app.url("/api/oauth/token"))
        .basic_auth(&rp.client_id, Some("wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    // A confidential client without its secret is no public client.
    let mut without = form.to_vec();
    without.push(("client_id", &rp.client_id));
    let response = app
        .client
        .post(app.url("/api/oauth/token"))
        .form(&without)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // client_secret_post works as well as Basic.
    let mut post = without.clone();
    let secret = rp.secret.clone().unwrap();
    post.push(("client_secret", &secret));
    let response = app
        .client
        .post(app.url("/api/oauth/token"))
        .form(&post)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Not a form: OAuth's error, not ours.
    let response = app
        .client
        .post(app.url("/api/oauth/token"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let (status, body) = token(&app, &rp, &[("grant_type", "password")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    app.stop().await;
}

async fn client_credentials_revocation_and_introspection(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let public = register(&app, true, None).await;
    let (status, service) = token(
        &app,
        &rp,
        &[("grant_type", "client_credentials"), ("scope", "roles")],
    )
    .await;
    assert_eq!(status, 200, "{service}");
    assert!(service.get("refresh_token").is_none() && service.get("id_token").is_none());
    let (status, body) = token(
        &app,
        &rp,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = token(&app, &public, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );

    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let access = tokens["access_token"].as_str().unwrap();
    let introspect = |token: String| {
        let request = app
            .client
            .post(app.url("/api/oauth/introspect"))
            .basic_auth(&rp.client_id, rp.secret.as_deref())
            .form(&[("token", token)]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let answer = introspect(access.to_string()).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["username"], "alice");
    assert_eq!(answer["client_id"], rp.client_id.as_str());
    assert_eq!(
        introspect(service["access_token"].as_str().unwrap().to_string()).await["active"],
        true
    );
    assert_eq!(introspect("garbage".into()).await, json!({"active": false}));

    // Revoking the refresh token ends the grant: the access token goes with it.
    let revoke = app
        .client
        .post(app.url("/api/oauth/revoke"))
        .basic_auth(&rp.client_id, rp.secret.as_deref())
        .form(&[("token", tokens["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(introspect(access.to_string()).await["active"], false);
    assert_eq!(userinfo(&app, access).await.0, 401);
    // Unknown tokens are no error (RFC 7009 §2.2).
    let revoke = app
        .client
        .post(app.url("/api/oauth/revoke"))
        .basic_auth(&rp.client_id, rp.secret.as_deref())
        .form(&[("token", "nothing")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    app.stop().await;
}

async fn rp_initiated_logout_ends_the_session_it_names(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let id_token = tokens["id_token"].as_str().unwrap();

    let bad = format!(
        "/api/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri=https://evil.example/"
    );
    assert_eq!(location(&app, &bad, None).await.0, 400);
    let forged = {
        let mut parts: Vec<&str> = id_token.split('.').collect();
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        parts[0] = &none;
        format!("{}.{}.", parts[0], parts[1])
    };
    assert_eq!(
        location(
            &app,
            &format!("/api/oauth/logout?id_token_hint={forged}"),
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(location(&app, "/api/oauth/logout", None).await.0, 400);
    assert_eq!(
        get_as(&app, "/api/test/user", &alice).await.status(),
        200,
        "nothing ended yet"
    );

    let good = format!("/api/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri=https://rp.example/bye&state=s2");
    // With this browser's own cookies: the session ends at once.
    let response = app
        .client
        .get(app.url(&good))
        .header("Cookie", alice.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "https://rp.example/bye?state=s2"
    );
    let cleared = set_cookies(response.headers());
    assert!(
        cleared.values().all(|c| c.value.is_empty()),
        "the cookies are cleared: {:?}",
        cleared.keys()
    );
    assert_session_ended(&app, &alice).await;
    app.stop().await;
}

/// Issue 22, item 4 (RP-Initiated Logout 1.0 §2): anyone holding an ID token, without the
/// session's cookies (any request from another site, or a bearer token), only reaches a
/// page that asks the user; the session ends on their click, by the page's own request.
async fn a_logout_without_the_sessions_cookies_is_confirmed_by_the_user(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let id_token = tokens["id_token"].as_str().unwrap().to_string();
    let bob = app.user_session("bob", &[]).await;

    let query = format!(
        "id_token_hint={id_token}&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=s3"
    );
    let get = format!("/api/oauth/logout?{query}");
    // No cookies, a bearer token of the user, another user's cookies: the page, nothing ended.
    let by_bearer = location(&app, &get, Some(&alice)).await;
    let by_bob = app
        .client
        .get(app.url(&get))
        .header("Cookie", bob.cookie_header())
        .send()
        .await
        .unwrap();
    let by_bob = (
        by_bob.status().as_u16(),
        by_bob.headers()["location"].to_str().unwrap().to_string(),
    );
    let form = app
        .client
        .post(app.url("/api/oauth/logout"))
        .form(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://rp.example/bye"),
            ("state", "s3"),
        ])
        .send()
        .await
        .unwrap();
    let by_form = (
        form.status().as_u16(),
        form.headers()["location"].to_str().unwrap().to_string(),
    );
    // Alice's own cookies, but from another origin's page (a sibling site shares them): a
    // form POST is not refused as cross-site, and asks too; so does a GET from it.
    let sibling_form = app
        .client
        .post(app.url("/api/oauth/logout"))
        .header("Cookie", alice.cookie_header())
        .header("Origin", "https://rp.example")
        .form(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://rp.example/bye"),
            ("state", "s3"),
        ])
        .send()
        .await
        .unwrap();
    let sibling_form = (
        sibling_form.status().as_u16(),
        sibling_form.headers()["location"]
            .to_str()
            .unwrap()
            .to_string(),
    );
    let sibling_get = app
        .client
        .get(app.url(&get))
        .header("Cookie", alice.cookie_header())
        .header("Sec-Fetch-Site", "same-site")
        .send()
        .await
        .unwrap();
    let sibling_get = (
        sibling_get.status().as_u16(),
        sibling_get.headers()["location"]
            .to_str()
            .unwrap()
            .to_string(),
    );
    for (status, to) in [
        location(&app, &get, None).await,
        by_bearer,
        by_bob,
        by_form,
        sibling_form,
        sibling_get,
    ] {
        assert_eq!(status, 303, "{to}");
        assert!(to.starts_with("/oauth/logout?"), "{to}");
        let q = query_of(&to);
        assert_eq!(q["id_token_hint"], id_token);
        assert_eq!(q["post_logout_redirect_uri"], "https://rp.example/bye");
        assert_eq!(q["state"], "s3");
    }
    assert_eq!(
        get_as(&app, "/api/test/user", &alice).await.status(),
        200,
        "nothing ended"
    );
    assert_eq!(get_as(&app, "/api/test/user", &bob).await.status(), 200);

    // What the page shows; a bad hint or URI is refused there too.
    let view: Value = app
        .get(&format!("/api/oauth/logout/request?{query}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["clientName"], "Sample app", "{view}");
    assert_eq!(view["redirectTo"], "https://rp.example/bye?state=s3");
    let evil = format!("/api/oauth/logout/request?id_token_hint={id_token}&post_logout_redirect_uri=https://evil.example/");
    assert_eq!(app.get(&evil).await.status(), 400);
    assert_eq!(
        app.get("/api/oauth/logout/request?id_token_hint=x.y.z")
            .await
            .status(),
        400
    );

    // The click: the page's request, with this browser's cookies.
    let body = json!({
        "idTokenHint": id_token,
        "postLogoutRedirectUri": "https://rp.example/bye",
        "state": "s3",
    });
    // Not from our origin: the CSRF guard refuses it.
    let cross = app
        .client
        .post(app.url("/api/oauth/logout/confirm"))
        .header("Cookie", alice.cookie_header())
        .header("Origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert_eq!(get_as(&app, "/api/test/user", &alice).await.status(), 200);
    let confirmed = app
        .client
        .post(app.url("/api/oauth/logout/confirm"))
        .header("Cookie", alice.cookie_header())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    let done: Value = confirmed.json().await.unwrap();
    assert_eq!(done["redirectTo"], "https://rp.example/bye?state=s3");
    assert_session_ended(&app, &alice).await;
    assert_eq!(get_as(&app, "/api/test/user", &bob).await.status(), 200);
    // Not signed in: nothing to end, the same answer for the page to go on.
    let anonymous = app.post("/api/oauth/logout/confirm", body).await;
    assert_eq!(anonymous.status(), 200);
    app.stop().await;
}

/// Issue 22, item 12: the authorization endpoint takes POST (form-encoded), with the GET's
/// rules (OIDC Core §3.1.2.1).
async fn the_authorization_endpoint_takes_a_form_post(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let url = authorize_url(&rp, &[]);
    let pairs: Vec<(String, String)> = query_of(&url).into_iter().collect();
    let response = app
        .client
        .post(app.url("/api/oauth/authorize"))
        .header("Authorization", alice.bearer())
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let to = response.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/oauth/consent?request="), "{to}");
    // Posted by a relying party's page on a sibling site, with the browser's cookies: the
    // GET's answer, not a CSRF refusal (mod_auth_openidc's OIDCProviderAuthRequestMethod POST).
    let response = app
        .client
        .post(app.url("/api/oauth/authorize"))
        .header("Cookie", alice.cookie_header())
        .header("Origin", "http://127.0.0.1:1")
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let to = response.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/oauth/consent?request="), "{to}");
    // The same rules: a wrong redirect URI is a 400 here, a missing challenge an error there.
    let mut bad = pairs.clone();
    bad.retain(|(k, _)| k != "redirect_uri");
    bad.push(("redirect_uri".into(), "https://evil.example/cb".into()));
    let response = app
        .client
        .post(app.url("/api/oauth/authorize"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = app
        .client
        .post(app.url("/api/oauth/authorize"))
        .header("Content-Type", "text/plain")
        .body("client_id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    app.stop().await;
}

/// Issue 22, item 10: at the default settings every relying party can check an ID token
/// (OIDC Core §15.1: RS256 is mandatory to implement; Discovery 1.0 §3:
/// `id_token_signing_alg_values_supported` MUST include it), discovery lists every algorithm, and a client may choose
/// another (`id_token_signed_response_alg`); access tokens keep the configured algorithm.
async fn id_tokens_are_rs256_unless_the_client_chose_another(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let meta: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256", "EdDSA"]),
        "{meta}"
    );
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let mut algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "EdDSA", "RS256"], "{jwks}");

    let alice = app.user_session("alice", &[]).await;
    let rp = register(&app, false, None).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
    check_id_token(&app, &rp, id_token).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(access).unwrap().alg,
        jsonwebtoken::Algorithm::EdDSA,
        "access tokens keep PORTCULLIS_ACCESS_TOKEN_ALG"
    );

    // An admin registers a client that wants EdDSA ID tokens; a made-up algorithm is refused.
    app.create_user("root", &[Role::Admin]).await;
    let admin = app.signin("root", PASSWORD).await;
    let client = |alg: &str| {
        json!({
            "name": "Edwards",
            "redirectUris": [CB],
            "idTokenSignedResponseAlg": alg,
        })
    };
    let refused = post_as(&app, "/api/admin/clients", &admin, client("HS256")).await;
    assert_eq!(refused.status(), 400);
    let created = post_as(&app, "/api/admin/clients", &admin, client("EdDSA")).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["idTokenSignedResponseAlg"], "EdDSA");
    let edwards = Rp {
        client_id: created["clientId"].as_str().unwrap().into(),
        secret: created["clientSecret"].as_str().map(String::from),
    };
    let code = code_for(&app, &edwards, &alice, &[]).await;
    let (_, tokens) = exchange(&app, &edwards, &code, Some(VERIFIER)).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        jsonwebtoken::Algorithm::EdDSA
    );
    let claims = check_id_token(&app, &edwards, id_token).await;
    assert_eq!(claims["sub"], alice_id(&app).await.to_string());
    let listed: Value = get_as(&app, "/api/admin/clients", &admin)
        .await
        .json()
        .await
        .unwrap();
    let algs: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["idTokenSignedResponseAlg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["RS256", "EdDSA"], "{listed}");
    app.stop().await;
}

/// Issue 22, item 6 (RFC 6749 §5.2, §6): a refresh refused for its scope changes nothing,
/// so the client's retry works; a narrower scope is what the new access token carries (at
/// userinfo too), while the grant keeps its whole scope for the next refresh.
async fn a_refresh_error_leaves_the_grant_and_a_narrower_scope_is_honoured(db: DbKind) {
    let app =
        TestApp::spawn_with(db, |s| s.refresh_reuse_interval = std::time::Duration::ZERO).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(
        &app,
        &rp,
        &alice,
        &[("scope", "openid profile offline_access")],
    )
    .await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let grant = |refresh: &str, scope: Option<&str>| {
        let mut form = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", refresh.to_string()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope.to_string()));
        }
        form
    };
    let ask = |form: Vec<(&'static str, String)>| {
        let (app, rp) = (&app, &rp);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(app, rp, &form).await
        }
    };
    for wider in ["openid profile email", "openid made-up"] {
        let (status, body) = ask(grant(&refresh, Some(wider))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope")),
            "{wider}: {body}"
        );
    }
    // The same token still works: nothing was spent.
    let (status, narrowed) = ask(grant(&refresh, Some("openid"))).await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "openid");
    let access = narrowed["access_token"].as_str().unwrap();
    let (status, info) = userinfo(&app, access).await;
    assert_eq!(status, 200);
    assert!(
        info.get("preferred_username").is_none(),
        "profile was not asked for: {info}"
    );
    let introspected = introspect(&app, &rp, access).await;
    assert_eq!(introspected["scope"], "openid", "{introspected}");
    // The grant keeps its scope: the next refresh without one gets all of it again.
    let next = narrowed["refresh_token"].as_str().unwrap();
    let (status, whole) = ask(grant(next, None)).await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["scope"], "openid profile offline_access");
    let (_, info) = userinfo(&app, whole["access_token"].as_str().unwrap()).await;
    assert_eq!(info["preferred_username"], "alice", "{info}");
    app.stop().await;
}

/// Issue 22, item 7: a `client_credentials` token has no session to end; revoking it must
/// still make introspection refuse it, on every node, at once. Another client's revocation
/// of it changes nothing, and a deleted client's tokens are inactive too.
async fn a_revoked_service_token_is_inactive_on_every_node(db: DbKind) {
    let db = TestDb::create(&db).await;
    let second = db.shared();
    let app = TestApp::spawn_on(db, |_| {}).await;
    let other_node = TestApp::spawn_on(second, |_| {}).await;
    let rp = register(&app, false, None).await;
    let other = register(&app, false, None).await;
    let service_token = |app: &TestApp, rp: &Rp| {
        let request = app
            .client
            .post(app.url("/api/oauth/token"))
            .basic_auth(&rp.client_id, rp.secret.as_deref())
            .form(&[("grant_type", "client_credentials"), ("scope", "roles")]);
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            body["access_token"].as_str().unwrap().to_string()
        }
    };
    let first = service_token(&app, &rp).await;
    let kept = service_token(&app, &rp).await;
    for node in [&app, &other_node] {
        assert!(active(node, &rp, &first).await);
    }
    // Another client cannot revoke it.
    assert_eq!(revoke(&app, &other, &first).await, 200);
    assert!(active(&app, &rp, &first).await);
    assert_eq!(revoke(&app, &rp, &first).await, 200);
    for node in [&app, &other_node] {
        assert!(!active(node, &rp, &first).await, "revoked, on every node");
        assert!(active(node, &rp, &kept).await, "only that token");
    }
    // Revoking twice is no error.
    assert_eq!(revoke(&other_node, &rp, &first).await, 200);

    // A removed client's service tokens go with it.
    let doomed = register(&app, false, None).await;
    let orphan = service_token(&app, &doomed).await;
    assert!(active(&app, &rp, &orphan).await);
    portcullis::service::clients::delete(
        &app.state().notifier(),
        portcullis::service::admin::Actor::CommandLine { force: false },
        &doomed.client_id,
    )
    .await
    .unwrap();
    assert!(!active(&app, &rp, &orphan).await);
    other_node.stop().await;
    app.stop().await;
}

/// Issue 22, item 5: anyone may leave an authorization request waiting for consent, or
/// begin a passkey sign-in, and each is a row until it expires; one address gets its burst
/// (`PORTCULLIS_ANONYMOUS_STARTS_PER_MINUTE`) and then 429 with Retry-After, whatever it
/// sends, while other addresses go on.
async fn one_address_cannot_make_the_server_store_without_bound(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| {
        s.anonymous_starts_per_minute = 5;
        s.trusted_proxies = vec![Some("127.0.0.1/32".parse().unwrap())];
    })
    .await;
    let rp = register(&app, false, None).await;
    let rows = |table: &'static str| {
        let pool = app.state().db.pool.clone();
        async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let from = |ip: &'static str| ("X-Forwarded-For", ip);
    let mut refused = 0;
    for _ in 0..40 {
        let authorize = app
            .get_with(&authorize_url(&rp, &[]), from("203.0.113.7"))
            .await;
        let passkey = app
            .client
            .post(app.url("/api/auth/passkeys/signin/start"))
            .header("X-Forwarded-For", "203.0.113.7")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        for response in [authorize, passkey] {
            match response.status().as_u16() {
                302 | 200 => {}
                429 => {
                    refused += 1;
                    let wait: u64 = response.headers()["retry-after"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!((1..=60).contains(&wait), "{wait}");
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(body["code"], "too_many_attempts", "{body}");
                }
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert!(refused >= 2 * 30, "the flood was refused: {refused}");
    // The burst (and what a second's refill may add), not the flood, is what is stored.
    assert!(
        rows("oauth_pending").await <= 7,
        "{}",
        rows("oauth_pending").await
    );
    assert!(rows("webauthn_ceremonies").await <= 7);
    // Another address is not held up by it.
    let (status, to) = {
        let response = app
            .get_with(&authorize_url(&rp, &[]), from("198.51.100.9"))
            .await;
        let to = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), to.unwrap_or_default())
    };
    assert_eq!(status, 302);
    assert!(to.starts_with("/oauth/consent?request="), "{to}");
    app.stop().await;
}

async fn alice_id(app: &TestApp) -> i64 {
    portcullis::store::users::find_by_login(&app.state().db, "alice")
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Issue 22, item 11: a sign-in older than `max_age` is made again (OIDC Core §3.1.2.1);
/// `max_age=0` always; `auth_time` stays in the ID token.
async fn max_age_asks_an_older_signin_to_be_made_again(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    // Consent first, so that only the sign-in's age can stop a code.
    code_for(&app, &rp, &alice, &[]).await;
    let (status, to) = location(
        &app,
        &authorize_url(&rp, &[("max_age", "600")]),
        Some(&alice),
    )
    .await;
    assert_eq!(status, 302);
    assert!(to.starts_with(CB), "recent enough: a code at once: {to}");

    app.clock.advance(std::time::Duration::from_secs(120));
    for max_age in ["60", "0"] {
        let (status, to) = location(
            &app,
            &authorize_url(&rp, &[("max_age", max_age)]),
            Some(&alice),
        )
        .await;
        assert_eq!(status, 302);
        assert!(
            to.starts_with("/oauth/consent?request="),
            "max_age={max_age}: {to}"
        );
        let request = query_of(&to)["request"].clone();
        let view: Value = get_as(&app, &format!("/api/oauth/requests/{request}"), &alice)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view["signInRequired"], true, "max_age={max_age}: {view}");
        let answer = post_as(
            &app,
            &format!("/api/oauth/requests/{request}"),
            &alice,
            json!({"approve": true}),
        )
        .await;
        assert_eq!(answer.status(), 403, "the old sign-in cannot approve");
    }
    let (_, to) = location(
        &app,
        &authorize_url(&rp, &[("max_age", "60"), ("prompt", "none")]),
        Some(&alice),
    )
    .await;
    assert_eq!(query_of(&to)["error"], "login_required", "{to}");
    let (_, to) = location(
        &app,
        &authorize_url(&rp, &[("max_age", "soon")]),
        Some(&alice),
    )
    .await;
    assert_eq!(query_of(&to)["error"], "invalid_request", "{to}");

    // A fresh sign-in gets its code, and the ID token says when it signed in: within the
    // seconds the sign-in took (a second may turn meanwhile), never the old sign-in's.
    let before = app.clock.now_secs();
    let fresh = app.signin("alice", PASSWORD).await;
    let after = app.clock.now_secs();
    let code = code_for(&app, &rp, &fresh, &[("max_age", "60")]).await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let claims = check_id_token(&app, &rp, tokens["id_token"].as_str().unwrap()).await;
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!(
        (before..=after).contains(&auth_time),
        "auth_time {auth_time} is not the fresh sign-in's ({before} to {after}): {claims}"
    );
    app.stop().await;
}

async fn a_revoked_consent_ends_the_clients_grants(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let code = code_for(&app, &rp, &alice, &[]).await;
    let (_, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    let list: Value = get_as(&app, "/api/oauth/consents", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["clientId"], rp.client_id.as_str());
    assert_eq!(list[0]["name"], "Sample app");
    assert!(is_rfc3339_millis(list[0]["grantedAt"].as_str().unwrap()));
    let gone = delete_as(
        &app,
        &format!("/api/oauth/consents/{}", rp.client_id),
        &alice,
    )
    .await;
    assert_eq!(gone.status(), 204);
    assert_eq!(
        userinfo(&app, tokens["access_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    let (status, _) = token(
        &app,
        &rp,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 400);
    let (_, to) = location(&app, &authorize_url(&rp, &[]), Some(&alice)).await;
    assert!(to.starts_with("/oauth/consent"), "asks again: {to}");
    let again = delete_as(
        &app,
        &format!("/api/oauth/consents/{}", rp.client_id),
        &alice,
    )
    .await;
    assert_eq!(again.status(), 404);
    app.stop().await;
}

async fn admins_register_and_remove_clients(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let bob = app.user_session("bob", &[]).await;
    let body =
        json!({"name": "Wiki", "redirectUris": ["https://wiki.example/cb"], "public": false});
    assert_eq!(
        post_as(&app, "/api/admin/clients", &bob, body.clone())
            .await
            .status(),
        403
    );
    let created = post_as(&app, "/api/admin/clients", &admin, body).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let secret = created["clientSecret"].as_str().unwrap();
    assert_eq!(secret.len(), 43);
    assert_eq!(
        created["scopes"],
        json!([
            "openid",
            "profile",
            "email",
            "roles",
            "groups",
            "offline_access"
        ])
    );
    let client_id = created["clientId"].as_str().unwrap();
    let list: Value = get_as(&app, "/api/admin/clients", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(
        list[0].get("clientSecret").is_none(),
        "the secret is shown once"
    );

    for bad in [
        json!({"name": "x", "redirectUris": ["http://wiki.example/cb"]}),
        json!({"name": "x", "redirectUris": []}),
        json!({"name": "x", "redirectUris": ["https://wiki.example/cb#f"]}),
        json!({"name": "", "redirectUris": ["https://wiki.example/cb"]}),
        json!({"name": "x", "redirectUris": ["https://wiki.example/cb"], "scopes": ["email"]}),
    ] {
        let response = post_as(&app, "/api/admin/clients", &admin, bad.clone()).await;
        assert_eq!(response.status(), 400, "{bad}");
    }
    let public: Value = post_as(
        &app,
        "/api/admin/clients",
        &admin,
        json!({"name": "SPA", "redirectUris": ["http://localhost:4200/cb"], "public": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(public.get("clientSecret").is_none());

    let path = format!("/api/admin/clients/{client_id}");
    assert_eq!(delete_as(&app, &path, &admin).await.status(), 204);
    assert_eq!(delete_as(&app, &path, &admin).await.status(), 404);
    // A removed client is unknown to the token endpoint.
    let (status, _) = token(
        &app,
        &Rp {
            client_id: client_id.into(),
            secret: Some(secret.into()),
        },
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 401);
    app.stop().await;
}

async fn rotated_keys_are_published_before_they_sign(db: DbKind) {
    use portcullis::auth::key_store;
    let app = TestApp::spawn(db).await;
    let state = app.state();
    let alice = app.user_session("alice", &[]).await;
    let old_kid = jsonwebtoken::decode_header(alice.access.as_deref().unwrap())
        .unwrap()
        .kid
        .unwrap();
    // What the reload task does every few seconds: nothing new, nothing to open.
    let reload = || async {
        key_store::reload(
            &state.db,
            &state.sealer,
            app.clock.now_ms(),
            &state.tokens.ring(),
        )
        .await
        .unwrap()
    };
    assert!(reload().await.is_none(), "no key changed");
    let (new_kid, _) = key_store::rotate(
        &state.db,
        &state.sealer,
        state.settings.access_token_alg.ring_alg(),
        app.clock.now_ms(),
        state.settings.access_ttl,
    )
    .await
    .unwrap();
    state
        .tokens
        .replace_ring(reload().await.expect("the new key is found"));
    assert!(reload().await.is_none(), "and loaded");
    let set: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(set.find(&old_kid).is_some() && set.find(&new_kid).is_some());
    // Published, not yet signing; then signing, and the old key's tokens still pass.
    let kid_now = |s: &Session| {
        jsonwebtoken::decode_header(s.access.as_deref().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    assert_eq!(kid_now(&app.signin("alice", PASSWORD).await), old_kid);
    app.clock.advance(key_store::PUBLISH_LEAD);
    assert_eq!(kid_now(&app.signin("alice", PASSWORD).await), new_kid);
    assert_eq!(get_as(&app, "/api/test/user", &alice).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn signing_keys_are_sealed_with_the_key_encryption_key() {
    use sqlx::Row;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/portcullis.db", dir.path().display());
    let kek = "a key-encryption key for the tests, 0123456789";
    let mut settings = test_settings(&url);
    settings.key_encryption_key = Some(kek.into());
    let server =
        portcullis::server::Server::start(settings.clone(), portcullis::clock::Clock::default())
            .await
            .unwrap();
    let db = &server.state.db;
    let rows = sqlx::query("SELECT kid, private_key FROM signing_keys ORDER BY kid")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "one key of each algorithm");
    let mut kids = Vec::new();
    for row in rows {
        let (kid, stored): (String, String) = (row.get(0), row.get(1));
        assert!(stored.starts_with("aes256gcm:"), "{kid}: {stored}");
        kids.push(kid);
    }
    server.stop().await.unwrap();

    // Without the key, or with another, the server refuses to start and says why.
    for other in [None, Some("another key-encryption key, 0123456789 abcdef")] {
        let mut settings = test_settings(&url);
        settings.key_encryption_key = other.map(Into::into);
        let error =
            match portcullis::server::Server::start(settings, portcullis::clock::Clock::default())
                .await
            {
                Ok(server) => {
                    server.stop().await.unwrap();
                    panic!("started on sealed keys with {other:?}");
                }
                Err(e) => format!("{e:#}"),
            };
        assert!(
            error.contains("PORTCULLIS_KEY_ENCRYPTION_KEY")
                && kids.iter().any(|k| error.contains(k)),
            "{error}"
        );
    }
    // With it, the same keys sign again.
    let server = portcullis::server::Server::start(settings, portcullis::clock::Clock::default())
        .await
        .unwrap();
    let mut loaded: Vec<String> = server
        .state
        .tokens
        .ring()
        .keys()
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    loaded.sort();
    assert_eq!(loaded, kids);
    server.stop().await.unwrap();
}

/// A browser signed in with a password and a TOTP code: the ID token says both.
async fn an_id_token_says_a_second_factor_signed_in(db: DbKind) {
    use crate::mfa::{code, enrol, first_step, verify};
    let app = TestApp::spawn(db).await;
    let rp = register(&app, false, None).await;
    let alice = app.user_session("alice", &[]).await;
    let (secret, _) = enrol(&app, &alice).await;
    let step = first_step(&app, "alice").await;
    app.clock.advance(std::time::Duration::from_secs(30));
    let response = verify(&app, &step["mfaToken"], &code(&app, &secret, 0)).await;
    assert_eq!(response.status(), 200);
    let two_factors = Session::from_response(response).await;
    let sessions: Value = get_as(&app, "/api/auth/sessions", &two_factors)
        .await
        .json()
        .await
        .unwrap();
    let current: Vec<&Value> = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current[0]["secondFactor"], "totp", "{sessions}");

    let code = code_for(&app, &rp, &two_factors, &[]).await;
    let (status, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = check_id_token(&app, &rp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], "2");
    app.stop().await;
}

/// The audit trail names the client of every provider event: registered and removed by an
/// admin, consented to, signed in to, a code replayed, a consent taken back.
async fn clients_consents_and_client_signins_are_audited(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;
    let created: Value = post_as(
        &app,
        "/api/admin/clients",
        &admin,
        json!({"name": "Wiki", "redirectUris": [CB], "public": false}),
    )
    .await
    .json()
    .await
    .unwrap();
    let rp = Rp {
        client_id: created["clientId"].as_str().unwrap().to_string(),
        secret: created["clientSecret"].as_str().map(String::from),
    };
    let code = code_for(&app, &rp, &alice, &[]).await;
    assert_eq!(exchange(&app, &rp, &code, Some(VERIFIER)).await.0, 200);
    assert_eq!(exchange(&app, &rp, &code, Some(VERIFIER)).await.0, 400);
    let revoked = delete_as(
        &app,
        &format!("/api/oauth/consents/{}", rp.client_id),
        &alice,
    )
    .await;
    assert_eq!(revoked.status(), 204);
    let removed = delete_as(
        &app,
        &format!("/api/admin/clients/{}", rp.client_id),
        &admin,
    )
    .await;
    assert_eq!(removed.status(), 204);

    let trail: Value = get_as(&app, "/api/admin/audit?limit=100", &admin)
        .await
        .json()
        .await
        .unwrap();
    let of_client: Vec<(String, String, Option<i64>, Option<i64>)> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["clientId"] == rp.client_id.as_str())
        .map(|i| {
            (
                i["event"].as_str().unwrap().to_string(),
                i["outcome"].as_str().unwrap().to_string(),
                i["actorId"].as_i64(),
                i["subjectId"].as_i64(),
            )
        })
        .collect();
    let (root, alice) = (admin.body["id"].as_i64(), alice.body["id"].as_i64());
    let expected = [
        ("client_deleted", "ok", root, None),
        ("consent_revoked", "ok", alice, alice),
        ("code_reuse", "failed", None, alice),
        ("signin_client", "ok", alice, alice),
        ("consent_granted", "ok", alice, alice),
        ("client_created", "ok", root, None),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(e, o, a, s)| (e.to_string(), o.to_string(), *a, *s))
        .collect();
    assert_eq!(of_client, expected, "newest first");
    app.stop().await;
}
