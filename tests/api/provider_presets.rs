//! The provider presets (issue 26, docs/API.md §2 "Identity providers"): GitHub, Google,
//! Microsoft, GitLab and Apple, each against a local stand-in. GitHub, Google, Microsoft,
//! GitLab and Apple cannot be reached from this machine, so one HTTP server on 127.0.0.1
//! serves each provider's documented endpoints and payloads, with its quirks: GitHub's
//! OAuth app endpoints, its REST `/user` and `/user/emails` (the primary address, verified or
//! not) and its `200 {"error": …}` token refusals; Google's ID token issuer without
//! `https://`; Microsoft's `{tenantid}` issuer template filled by each token's `tid` and its
//! `xms_edov`; GitLab by discovery; Apple's form-post answer with the person's name beside
//! the token and a client secret that is an ES256 JWT the stand-in verifies with the public
//! half of the `.p8` key. Each preset's base is moved to the stand-in by the settings that
//! exist for that (`baseUrl`: GitHub Enterprise, Microsoft's national clouds; `issuer`).
//! What differs from the real service: the stand-in signs in whoever the test names (no
//! login page), and Apple's auto-submitting form is answered as JSON for the test to post.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use portcullis::auth::keys::{generate, load, KeyAlg, KeyPair};
use portcullis::domain::Role;
use serde_json::{json, Value};
use sha2::Digest;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    github_signs_in_by_its_numeric_id_with_the_primary_verified_email_only,
    google_and_gitlab_sign_in_by_discovery_with_googles_issuer_without_https,
    microsoft_holds_each_token_to_its_tenant_and_trusts_only_verified_domains,
    apple_answers_by_form_post_to_a_client_secret_signed_with_the_p8_key,
    a_claim_maps_to_roles_and_groups_at_each_sign_in_and_leaves_the_rest,
);

const KEK: &str = "a key-encryption key for the tests, 0123456789";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TEAM: &str = "TEAM123456";
const APPLE_KEY_ID: &str = "KEY1234567";

/// Someone the stand-in signs in.
#[derive(Clone)]
struct Person {
    sub: &'static str,
    login: &'static str,
    email: &'static str,
    verified: bool,
}

const ADA: Person = Person {
    sub: "4242",
    login: "ada-gh",
    email: "ada@example.com",
    verified: true,
};
const GRACE: Person = Person {
    sub: "77",
    login: "grace",
    email: "grace@example.com",
    verified: true,
};
const EVE: Person = Person {
    sub: "666",
    login: "eve",
    email: "eve@example.com",
    verified: false,
};

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    person: Person,
}

struct StandInState {
    base: String,
    signing: KeyPair,
    /// The public half of Apple's `.p8` key, which verifies the client secret.
    apple_public: jsonwebtoken::DecodingKey,
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Person>>,
    /// A Microsoft token's `tid` (another tenant's, to test the template).
    ms_tid: Mutex<String>,
    /// The groups (GitLab's `groups_direct`) and organisations (GitHub's `/user/orgs`) of
    /// everyone the stand-in signs in.
    groups: Mutex<Vec<String>>,
}

type Shared = Arc<StandInState>;

fn json_answer(status: StatusCode, value: Value) -> Response {
    let content_type = (axum::http::header::CONTENT_TYPE, "application/json");
    (status, [content_type], value.to_string()).into_response()
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Each preset's discovery document, under `/{preset}` (Microsoft: `/ms/{tenant}/v2.0`).
fn metadata(s: &StandInState, preset: &str, issuer: String) -> Value {
    let base = format!("{}/{preset}", s.base);
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code"],
    });
    if preset == "apple" {
        doc["token_endpoint_auth_methods_supported"] = json!(["client_secret_post"]);
        doc["response_modes_supported"] = json!(["query", "fragment", "form_post"]);
    }
    doc
}

async fn discovery(State(s): State<Shared>, Path(preset): Path<String>) -> Response {
    let issuer = format!("{}/{preset}", s.base);
    json_answer(StatusCode::OK, metadata(&s, &preset, issuer))
}

async fn ms_discovery(State(s): State<Shared>, Path(tenant): Path<String>) -> Response {
    // As Microsoft publishes it: `common` a template, a tenant its own id.
    let issuer = match tenant.as_str() {
        "common" | "organizations" => format!("{}/ms/{{tenantid}}/v2.0", s.base),
        _ => format!("{}/ms/{TENANT}/v2.0", s.base),
    };
    json_answer(StatusCode::OK, metadata(&s, "ms", issuer))
}

async fn jwks(State(s): State<Shared>) -> Response {
    json_answer(StatusCode::OK, json!({"keys": [s.signing.jwk]}))
}

/// The authorization endpoint: signs in `person` (the test's stand-in for a login page)
/// and answers the client as the provider does.
async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let person = match q.get("person").map(String::as_str) {
        Some("eve") => EVE,
        Some("grace") => GRACE,
        _ => ADA,
    };
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    let code = random();
    s.codes.lock().unwrap().insert(
        code.clone(),
        Grant {
            redirect_uri: q["redirect_uri"].clone(),
            challenge: q["code_challenge"].clone(),
            nonce: q.get("nonce").cloned(),
            person,
        },
    );
    let state = q["state"].clone();
    if q.get("response_mode").map(String::as_str) == Some("form_post") {
        let user = json!({"name": {"firstName": "Ada", "lastName": "Lovelace"}, "email": "ada@example.com"});
        return json_answer(
            StatusCode::OK,
            json!({"action": q["redirect_uri"], "fields": {"code": code, "state": state, "user": user.to_string()}}),
        );
    }
    let mut to = url::Url::parse(&q["redirect_uri"]).unwrap();
    to.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &state);
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, to.to_string())],
    )
        .into_response()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?)
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The token endpoint of `preset`: the client as that provider authenticates it, the code
/// once, its redirect URI and PKCE verifier.
async fn token(
    State(s): State<Shared>,
    Path(preset): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refuse = |error: &str| match preset.as_str() {
        // GitHub refuses with 200.
        "gh" => json_answer(StatusCode::OK, json!({"error": error})),
        _ => json_answer(StatusCode::BAD_REQUEST, json!({"error": error})),
    };
    let client_ok = match preset.as_str() {
        "gh" => {
            form.get("client_id").map(String::as_str) == Some("gh-client")
                && form.get("client_secret").map(String::as_str) == Some("gh-secret")
        }
        "apple" => {
            let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
            validation.set_audience(&[format!("{}/apple", s.base)]);
            validation.set_issuer(&[TEAM]);
            let secret = form.get("client_secret").cloned().unwrap_or_default();
            let header = jsonwebtoken::decode_header(&secret).ok();
            let claims = jsonwebtoken::decode::<Value>(&secret, &s.apple_public, &validation).ok();
            header.and_then(|h| h.kid).as_deref() == Some(APPLE_KEY_ID)
                && claims.is_some_and(|c| c.claims["sub"] == "com.example.web")
                && form.get("client_id").map(String::as_str) == Some("com.example.web")
        }
        _ => {
            basic_credentials(&headers)
                == Some((format!("{preset}-client"), format!("{preset}-secret")))
        }
    };
    if !client_ok {
        return refuse("invalid_client");
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = s.codes.lock().unwrap().remove(&code) else {
        return refuse(if preset == "gh" {
            "bad_verification_code"
        } else {
            "invalid_grant"
        });
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge || form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return refuse("invalid_grant");
    }
    let access = random();
    s.tokens
        .lock()
        .unwrap()
        .insert(access.clone(), grant.person.clone());
    if preset == "gh" {
        return json_answer(
            StatusCode::OK,
            json!({"access_token": access, "token_type": "bearer", "scope": "read:user,user:email"}),
        );
    }
    let p = &grant.person;
    let now = chrono_now();
    let mut claims = json!({
        "sub": p.sub, "exp": now + 300, "iat": now, "nonce": grant.nonce,
        "email": p.email,
    });
    match preset.as_str() {
        "google" => {
            // As Google does: `accounts.google.com`, the issuer without its scheme.
            claims["iss"] = json!(format!("{}/google", s.base.trim_start_matches("http://")));
            claims["aud"] = json!("google-client");
            claims["email_verified"] = json!(p.verified);
            claims["name"] = json!(p.login);
        }
        "gitlab" => {
            claims["iss"] = json!(format!("{}/gitlab", s.base));
            claims["aud"] = json!("gitlab-client");
            claims["email_verified"] = json!(p.verified);
            claims["nickname"] = json!(p.login);
            claims["groups_direct"] = json!(*s.groups.lock().unwrap());
        }
        "ms" => {
            let tid = s.ms_tid.lock().unwrap().clone();
            claims["iss"] = json!(format!("{}/ms/{TENANT}/v2.0", s.base));
            claims["tid"] = json!(tid);
            claims["aud"] = json!("ms-client");
            claims["preferred_username"] = json!(p.email);
            // Microsoft's own word for a verified email: a verified domain.
            claims["xms_edov"] = json!(p.verified);
            claims["email_verified"] = json!(true);
        }
        "apple" => {
            claims["iss"] = json!(format!("{}/apple", s.base));
            claims["aud"] = json!("com.example.web");
            // Apple's are strings.
            claims["email_verified"] = json!(p.verified.to_string());
            claims["is_private_email"] = json!("false");
        }
        other => panic!("no preset {other}"),
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(s.signing.kid.clone());
    let id_token = jsonwebtoken::encode(&header, &claims, &s.signing.encoding).unwrap();
    json_answer(
        StatusCode::OK,
        json!({"access_token": access, "token_type": "Bearer", "id_token": id_token}),
    )
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn bearer_person(s: &StandInState, headers: &HeaderMap) -> Option<Person> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    s.tokens.lock().unwrap().get(token).cloned()
}

/// GitHub's `GET /user`: the public profile, whose `email` is the public one (none here).
async fn github_user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let Some(p) = bearer_person(&s, &headers) else {
        return json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Bad credentials"}),
        );
    };
    let id: u64 = p.sub.parse().unwrap();
    json_answer(
        StatusCode::OK,
        json!({"id": id, "login": p.login, "name": null, "email": null}),
    )
}

/// GitHub's `GET /user/emails`: a verified secondary address, and the primary one,
/// verified or not as the person's.
async fn github_emails(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let Some(p) = bearer_person(&s, &headers) else {
        return json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Bad credentials"}),
        );
    };
    json_answer(
        StatusCode::OK,
        json!([
            {"email": format!("{}@old.example.com", p.login), "primary": false, "verified": true, "visibility": null},
            {"email": p.email, "primary": true, "verified": p.verified, "visibility": "private"},
        ]),
    )
}

/// GitHub's `GET /user/orgs` (with `read:org`): the organisations, by `login`.
async fn github_orgs(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if bearer_person(&s, &headers).is_none() {
        return json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Bad credentials"}),
        );
    }
    let orgs: Vec<Value> = s
        .groups
        .lock()
        .unwrap()
        .iter()
        .map(|login| json!({"login": login, "id": 1}))
        .collect();
    json_answer(StatusCode::OK, Value::Array(orgs))
}

/// The stand-in, and the PEM of Apple's `.p8` key (the Apple provider's client secret).
struct StandIn {
    base: String,
    state: Shared,
    apple_p8: String,
}

async fn stand_in() -> StandIn {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (kid, der) = generate(KeyAlg::RS256).unwrap();
    let signing = load(&kid, KeyAlg::RS256, &der, 0, None).unwrap();
    let (apple_kid, apple_der) = generate(KeyAlg::ES256).unwrap();
    let apple = load(&apple_kid, KeyAlg::ES256, &apple_der, 0, None).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&apple_der);
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let apple_p8 = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let state = Arc::new(StandInState {
        base: base.clone(),
        signing,
        apple_public: apple.decoding,
        codes: Mutex::new(HashMap::new()),
        tokens: Mutex::new(HashMap::new()),
        ms_tid: Mutex::new(TENANT.into()),
        groups: Mutex::new(Vec::new()),
    });
    let router = axum::Router::new()
        .route("/{preset}/.well-known/openid-configuration", get(discovery))
        .route(
            "/ms/{tenant}/v2.0/.well-known/openid-configuration",
            get(ms_discovery),
        )
        .route("/{preset}/authorize", get(authorize))
        .route("/{preset}/token", post(token))
        .route("/{preset}/jwks", get(jwks))
        .route("/gh/login/oauth/authorize", get(authorize))
        .route(
            "/gh/login/oauth/access_token",
            post(
                |s: State<Shared>, h: HeaderMap, f: Form<HashMap<String, String>>| {
                    token(s, Path("gh".to_string()), h, f)
                },
            ),
        )
        .route("/gh/api/v3/user", get(github_user))
        .route("/gh/api/v3/user/emails", get(github_emails))
        .route("/gh/api/v3/user/orgs", get(github_orgs))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    StandIn {
        base,
        state,
        apple_p8,
    }
}

/// The downstream Portcullis, its admin, and the stand-in.
struct Setup {
    app: TestApp,
    admin: String,
    up: StandIn,
}

async fn setup(db: DbKind) -> Setup {
    let app = TestApp::spawn_with(db, |s| s.key_encryption_key = Some(KEK.into())).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let up = stand_in().await;
    Setup { app, admin, up }
}

/// Configures a provider through the admin API.
async fn configure(s: &Setup, provider: Value) {
    let response = s
        .app
        .client
        .post(s.app.url("/api/admin/providers"))
        .header("Authorization", &s.admin)
        .json(&provider)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(status, 201, "{}", response.text().await.unwrap());
}

/// The start: the state cookie (its attributes), and the provider's authorization URL.
async fn start(s: &Setup, id: &str) -> (SetCookie, url::Url) {
    let response = s
        .app
        .client
        .get(s.app.url(&format!("/api/auth/providers/{id}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let to = location_header(&response);
    assert!(to.starts_with(&s.up.base), "{id}: sent to {to}");
    let cookie = set_cookies(response.headers())["portcullis_upstream"].clone();
    (cookie, url::Url::parse(&to).unwrap())
}

/// Where the provider sends the browser back for `person` (a redirect's Location).
async fn authorize_as(s: &Setup, authorize: &url::Url, person: &str) -> String {
    let url = format!("{authorize}&person={person}");
    let response = s.app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    location_header(&response)
}

/// The callback (GET) as the browser with the state cookie makes it: the Location and the
/// cookies set.
async fn callback(s: &Setup, back: &str, state: &str) -> (String, HashMap<String, SetCookie>) {
    let path = back
        .strip_prefix(&s.app.settings.public_base())
        .unwrap_or(back);
    let response = s
        .app
        .client
        .get(s.app.url(path))
        .header("Cookie", format!("portcullis_upstream={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    (location_header(&response), set_cookies(response.headers()))
}

/// A whole sign-in with `id` as `person`: where the browser lands, and its cookies.
async fn sign_in(s: &Setup, id: &str, person: &str) -> (String, HashMap<String, SetCookie>) {
    let (cookie, authorize) = start(s, id).await;
    let back = authorize_as(s, &authorize, person).await;
    callback(s, &back, &cookie.value).await
}

async fn me(s: &Setup, cookies: &HashMap<String, SetCookie>) -> Value {
    let access = &cookies["portcullis_access"].value;
    let response = s
        .app
        .client
        .get(s.app.url("/api/auth/me"))
        .header("Cookie", format!("portcullis_access={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn users(s: &Setup) -> i64 {
    use sqlx::Row;
    let db = &s.app.state().db;
    sqlx::query("SELECT COUNT(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn github_signs_in_by_its_numeric_id_with_the_primary_verified_email_only(db: DbKind) {
    let s = setup(db).await;
    configure(
        &s,
        json!({"id": "github", "kind": "github", "displayName": "GitHub",
               "baseUrl": format!("{}/gh", s.up.base), "clientId": "gh-client",
               "clientSecret": "gh-secret", "signup": "open"}),
    )
    .await;
    let (cookie, authorize) = start(&s, "github").await;
    // GitHub's OAuth app flow: no nonce, no openid, PKCE.
    let query: HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(authorize.path(), "/gh/login/oauth/authorize");
    assert_eq!(query["scope"], "read:user user:email");
    assert!(!query.contains_key("nonce"));
    assert_eq!(
        cookie.attributes.get("samesite").map(String::as_str),
        Some("Lax")
    );
    let back = authorize_as(&s, &authorize, "ada").await;
    let (landed, cookies) = callback(&s, &back, &cookie.value).await;
    assert_eq!(landed, "/");
    let ada = me(&s, &cookies).await;
    // The login names the account; the primary address, verified, is its email.
    assert_eq!(ada["username"], "ada-gh");
    assert_eq!(ada["email"], "ada@example.com");
    assert_eq!(ada["emailVerified"], true);
    let linked: (String,) = sqlx::query_as(
        &s.app
            .state()
            .db
            .sql("SELECT subject FROM user_identities WHERE provider_id = ?"),
    )
    .bind("github")
    .fetch_one(&s.app.state().db.pool)
    .await
    .unwrap();
    assert_eq!(linked.0, "4242", "the numeric id, not the renamable login");

    // A primary address GitHub has not verified is no email: no account from it.
    let before = users(&s).await;
    let (landed, _) = sign_in(&s, "github", "eve").await;
    assert_eq!(landed, "/login?error=provider_email_missing");
    assert_eq!(users(&s).await, before);

    // A code GitHub refuses (with 200 and an error, as it does) is a refusal.
    let (cookie, _) = start(&s, "github").await;
    let forged = format!(
        "/api/auth/providers/github/callback?code=not-a-code&state={}",
        cookie.value
    );
    let (landed, _) = callback(&s, &forged, &cookie.value).await;
    assert_eq!(landed, "/login?error=provider_refused");
    s.app.stop().await;
}

async fn google_and_gitlab_sign_in_by_discovery_with_googles_issuer_without_https(db: DbKind) {
    let s = setup(db).await;
    for (id, kind) in [("google", "google"), ("gitlab", "gitlab")] {
        configure(
            &s,
            json!({"id": id, "kind": kind, "displayName": id,
                   "issuer": format!("{}/{id}", s.up.base), "clientId": format!("{id}-client"),
                   "clientSecret": format!("{id}-secret"), "signup": "open"}),
        )
        .await;
    }
    // Google: its token's `iss` has no scheme, and is taken.
    let (landed, cookies) = sign_in(&s, "google", "ada").await;
    assert_eq!(landed, "/");
    let ada = me(&s, &cookies).await;
    assert_eq!(ada["email"], "ada@example.com");
    assert_eq!(ada["emailVerified"], true);
    // GitLab: the same person's email has an account now: never linked silently.
    let (landed, _) = sign_in(&s, "gitlab", "ada").await;
    assert_eq!(landed, "/login?error=provider_link_required");
    // An unverified email makes no account.
    let before = users(&s).await;
    let (landed, _) = sign_in(&s, "gitlab", "eve").await;
    assert_eq!(landed, "/login?error=provider_email_missing");
    assert_eq!(users(&s).await, before);
    s.app.stop().await;
}

async fn microsoft_holds_each_token_to_its_tenant_and_trusts_only_verified_domains(db: DbKind) {
    let s = setup(db).await;
    configure(
        &s,
        json!({"id": "entra", "kind": "microsoft", "displayName": "Microsoft",
               "baseUrl": format!("{}/ms", s.up.base), "tenant": "common",
               "clientId": "ms-client", "clientSecret": "ms-secret", "signup": "open"}),
    )
    .await;
    // `common`: the template, filled by the token's tid.
    let (landed, cookies) = sign_in(&s, "entra", "ada").await;
    assert_eq!(landed, "/");
    assert_eq!(me(&s, &cookies).await["emailVerified"], true);
    // A token whose `iss` names another tenant than its `tid`: refused.
    *s.up.state.ms_tid.lock().unwrap() = "00000000-0000-0000-0000-000000000001".into();
    let before = users(&s).await;
    let (landed, _) = sign_in(&s, "entra", "eve").await;
    assert_eq!(landed, "/login?error=provider_issuer_mismatch");
    *s.up.state.ms_tid.lock().unwrap() = TENANT.into();
    // email_verified says true, but the domain is not verified (xms_edov false): the email
    // is not Microsoft's word, so no account is made from it ("nOAuth").
    let (landed, _) = sign_in(&s, "entra", "eve").await;
    assert_eq!(landed, "/login?error=provider_email_missing");
    assert_eq!(users(&s).await, before);

    // A single tenant: its own issuer, discovered under its id.
    configure(
        &s,
        json!({"id": "corp", "kind": "microsoft", "displayName": "Corp",
               "baseUrl": format!("{}/ms", s.up.base), "tenant": TENANT,
               "clientId": "ms-client", "clientSecret": "ms-secret"}),
    )
    .await;
    let (cookie, authorize) = start(&s, "corp").await;
    assert_eq!(authorize.path(), "/ms/authorize");
    let back = authorize_as(&s, &authorize, "ada").await;
    let (landed, _) = callback(&s, &back, &cookie.value).await;
    // Ada's email has an account (made above through `entra`): she links, not signs up.
    assert_eq!(landed, "/login?error=provider_link_required");
    s.app.stop().await;
}

async fn apple_answers_by_form_post_to_a_client_secret_signed_with_the_p8_key(db: DbKind) {
    let s = setup(db).await;
    let apple = |secret: &str| {
        json!({"id": "apple", "kind": "apple", "displayName": "Apple",
               "issuer": format!("{}/apple", s.up.base), "clientId": "com.example.web",
               "teamId": TEAM, "keyId": APPLE_KEY_ID, "clientSecret": secret,
               "signup": "open"})
    };
    // Its secret is the .p8 key: anything else is refused when stored.
    let response = s
        .app
        .client
        .post(s.app.url("/api/admin/providers"))
        .header("Authorization", &s.admin)
        .json(&apple("a plain secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    configure(&s, apple(&s.up.apple_p8)).await;

    let (cookie, authorize) = start(&s, "apple").await;
    let query: HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["response_mode"], "form_post");
    // The answer is a cross-site POST: the state cookie must go with it.
    assert_eq!(
        cookie.attributes.get("samesite").map(String::as_str),
        Some("None")
    );
    assert!(cookie.attributes.contains_key("secure"));
    let answer: Value = s
        .app
        .client
        .get(format!("{authorize}&person=ada"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let action = answer["action"].as_str().unwrap();
    let path = action.strip_prefix(&s.app.settings.public_base()).unwrap();
    let fields = answer["fields"].as_object().unwrap();
    let form: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    // The CSRF guard lets a cross-site POST through, so the state is what stops another
    // site's: its own code and state, posted with the victim's cookie (SameSite=None sends
    // it), finish nothing, and the victim's own sign-in still finishes below.
    let users_before = users(&s).await;
    let (attacker_cookie, attacker_authorize) = start(&s, "apple").await;
    let attacker: Value = s
        .app
        .client
        .get(format!("{attacker_authorize}&person=eve"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let forged: Vec<(String, String)> = attacker["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let response = s
        .app
        .client
        .post(s.app.url(path))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Cookie", format!("portcullis_upstream={}", cookie.value))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location_header(&response),
        "/login?error=provider_state_invalid"
    );
    assert!(!set_cookies(response.headers()).contains_key("portcullis_access"));
    assert_eq!(users(&s).await, users_before);
    assert_ne!(attacker_cookie.value, cookie.value);
    // From appleid.apple.com, cross-site: the CSRF guard lets this POST through to the
    // callback's own rules.
    let response = s
        .app
        .client
        .post(s.app.url(path))
        .header("Origin", "https://appleid.apple.com")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Cookie", format!("portcullis_upstream={}", cookie.value))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location_header(&response), "/");
    let cookies = set_cookies(response.headers());
    let ada = me(&s, &cookies).await;
    // The name Apple sent beside the token names the account; the email is the token's.
    assert_eq!(ada["username"], "Ada.Lovelace");
    assert_eq!(ada["email"], "ada@example.com");
    assert_eq!(ada["emailVerified"], true);

    // The same post again: the state is spent.
    let replay = s
        .app
        .client
        .post(s.app.url(path))
        .header("Cookie", format!("portcullis_upstream={}", cookie.value))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location_header(&replay),
        "/login?error=provider_state_invalid"
    );
    s.app.stop().await;
}

async fn admin_call(s: &Setup, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = s
        .app
        .client
        .request(method, s.app.url(path))
        .header("Authorization", &s.admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn a_claim_maps_to_roles_and_groups_at_each_sign_in_and_leaves_the_rest(db: DbKind) {
    let s = setup(db).await;
    admin_call(
        &s,
        reqwest::Method::POST,
        "/api/admin/roles",
        json!({"name": "editor"}),
    )
    .await;
    admin_call(
        &s,
        reqwest::Method::POST,
        "/api/admin/groups",
        json!({"name": "ops", "roles": ["editor"]}),
    )
    .await;
    let mapping = json!({"claim": "groups_direct", "rules": [
        {"value": "acme/ops", "roles": ["moderator"], "groups": ["ops"]},
        {"value": "acme/staff", "roles": ["editor"]},
    ]});
    // A name that does not exist is refused when stored.
    let response = s
        .app
        .client
        .post(s.app.url("/api/admin/providers"))
        .header("Authorization", &s.admin)
        .json(&json!({"id": "gitlab", "kind": "gitlab", "displayName": "GitLab",
            "issuer": format!("{}/gitlab", s.up.base), "clientId": "gitlab-client",
            "clientSecret": "gitlab-secret", "signup": "open",
            "roleMapping": {"claim": "groups_direct", "rules": [{"value": "x", "roles": ["nobody"]}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    configure(
        &s,
        json!({"id": "gitlab", "kind": "gitlab", "displayName": "GitLab",
               "issuer": format!("{}/gitlab", s.up.base), "clientId": "gitlab-client",
               "clientSecret": "gitlab-secret", "signup": "open", "roleMapping": mapping}),
    )
    .await;

    *s.up.state.groups.lock().unwrap() = vec!["acme/ops".into(), "acme/other".into()];
    let (_, cookies) = sign_in(&s, "gitlab", "ada").await;
    let ada = me(&s, &cookies).await;
    assert_eq!(
        ada["roles"],
        json!(["ROLE_USER", "ROLE_MODERATOR", "ROLE_EDITOR"]),
        "{ada}"
    );
    assert_eq!(ada["groups"], json!(["ops"]));
    let id = ada["id"].as_i64().unwrap();
    let audit = admin_call(
        &s,
        reqwest::Method::GET,
        "/api/admin/audit?limit=5",
        json!(null),
    )
    .await;
    let events: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(
        events.contains(&"roles_changed") && events.contains(&"group_member_added"),
        "{events:?}"
    );

    // An admin gives a role no rule names: the mapping leaves it.
    admin_call(
        &s,
        reqwest::Method::PATCH,
        &format!("/api/admin/users/{id}"),
        json!({"roles": ["moderator", "admin"]}),
    )
    .await;
    // Upstream, ada moves from ops to staff: at her next sign-in, moderator and ops go,
    // editor comes, admin stays.
    *s.up.state.groups.lock().unwrap() = vec!["acme/staff".into()];
    let (_, cookies) = sign_in(&s, "gitlab", "ada").await;
    let ada = me(&s, &cookies).await;
    assert_eq!(
        ada["roles"],
        json!(["ROLE_USER", "ROLE_ADMIN", "ROLE_EDITOR"]),
        "{ada}"
    );
    assert_eq!(ada["groups"], json!([]));

    // GitHub's organisations, with read:org asked for.
    configure(
        &s,
        json!({"id": "github", "kind": "github", "displayName": "GitHub",
               "baseUrl": format!("{}/gh", s.up.base), "clientId": "gh-client",
               "clientSecret": "gh-secret", "signup": "open",
               "roleMapping": {"claim": "orgs", "rules": [{"value": "acme", "roles": ["moderator"]}]}}),
    )
    .await;
    *s.up.state.groups.lock().unwrap() = vec!["acme".into()];
    let (_, authorize) = start(&s, "github").await;
    let query: HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["scope"], "read:user user:email read:org");
    let (_, cookies) = sign_in(&s, "github", "grace").await;
    let grace = me(&s, &cookies).await;
    assert_eq!(
        grace["roles"],
        json!(["ROLE_USER", "ROLE_MODERATOR"]),
        "{grace}"
    );
    s.app.stop().await;
}
