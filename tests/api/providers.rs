//! Upstream identity providers as admins configure them (issue 26, docs/API.md §2
//! "Identity providers"), on every database: the settings each kind needs, the secret
//! that goes in sealed and never comes out, the refusals, deletion with linked identities,
//! and the audit trail. Signing in through a provider is tested where that flow is.
use portcullis::domain::Role;
use reqwest::Method as M;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    an_admin_configures_a_provider_and_never_reads_its_secret_back,
    bad_provider_settings_are_refused_clearly,
    only_admins_manage_providers,
    a_provider_with_linked_identities_is_deleted_only_with_cascade,
);

const PROVIDERS: &str = "/api/admin/providers";
const KEK: &str = "a key-encryption key for the tests, 0123456789";

async fn expect(
    app: &TestApp,
    method: M,
    path: &str,
    as_: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .header("Authorization", as_);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let got = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn acme() -> Value {
    json!({
        "id": "acme", "kind": "oidc", "displayName": "Acme SSO",
        "issuer": "https://sso.acme.example", "clientId": "portcullis",
        "clientSecret": "the upstream's secret for us",
    })
}

async fn newest_audit(app: &TestApp, admin: &str) -> Value {
    let page = expect(app, M::GET, "/api/admin/audit?limit=1", admin, None, 200).await;
    page["items"][0].clone()
}

async fn an_admin_configures_a_provider_and_never_reads_its_secret_back(db: DbKind) {
    let app = TestApp::spawn_with(db, |s| s.key_encryption_key = Some(KEK.into())).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();

    let created = expect(&app, M::POST, PROVIDERS, &admin, Some(acme()), 201).await;
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "allowedDomains",
        "authorizationEndpoint",
        "baseUrl",
        "claims",
        "clientId",
        "createdAt",
        "displayName",
        "enabled",
        "hasSecret",
        "icon",
        "id",
        "identities",
        "issuer",
        "keyId",
        "kind",
        "roleMapping",
        "scopes",
        "signup",
        "teamId",
        "tenant",
        "tokenEndpoint",
        "trustedForMfa",
        "updatedAt",
        "userinfoEndpoint",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected, "{created}");
    assert_eq!(created["hasSecret"], true);
    assert_eq!(created["enabled"], true);
    assert_eq!(created["signup"], "existing", "no new accounts by default");
    assert_eq!(created["scopes"], json!(["openid", "email", "profile"]));
    assert_eq!(created["identities"], 0);
    assert!(!created.to_string().contains("the upstream's secret"));
    let audited = newest_audit(&app, &admin).await;
    assert_eq!(audited["event"], "provider_created");
    assert_eq!(audited["detail"], "provider acme (oidc)");

    // Sealed with the key-encryption key, bound to the provider.
    let row = sqlx::query("SELECT client_secret FROM identity_providers")
        .fetch_one(&app.state().db.pool)
        .await
        .unwrap();
    // MySQL's TEXT reaches the Any driver as bytes.
    let stored: String = row
        .try_get(0)
        .or_else(|_| {
            row.try_get::<Vec<u8>, _>(0)
                .map(|b| String::from_utf8(b).unwrap())
        })
        .unwrap();
    assert!(stored.starts_with("aes256gcm:"), "{stored}");
    assert!(!stored.contains("the upstream's secret"));

    let list = expect(&app, M::GET, PROVIDERS, &admin, None, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], "acme");

    let changed = expect(
        &app,
        M::PATCH,
        &format!("{PROVIDERS}/acme"),
        &admin,
        Some(
            json!({"displayName": "Acme", "enabled": false, "signup": "domains",
                    "allowedDomains": ["Acme.Example"], "clientSecret": null}),
        ),
        200,
    )
    .await;
    assert_eq!(changed["displayName"], "Acme");
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["allowedDomains"], json!(["acme.example"]));
    assert_eq!(changed["hasSecret"], false);
    assert_eq!(changed["issuer"], "https://sso.acme.example", "kept");
    let audited = newest_audit(&app, &admin).await;
    assert_eq!(audited["event"], "provider_updated");
    let detail = audited["detail"].as_str().unwrap();
    for field in [
        "displayName",
        "signup",
        "allowedDomains",
        "clientSecret",
        "enabled",
    ] {
        assert!(detail.contains(field), "{detail}");
    }

    // A preset: GitHub's endpoints are its own, so it takes only a client.
    let github = expect(
        &app,
        M::POST,
        PROVIDERS,
        &admin,
        Some(
            json!({"id": "github", "kind": "github", "displayName": "GitHub",
                    "clientId": "Iv1.abc", "clientSecret": "s"}),
        ),
        201,
    )
    .await;
    assert_eq!(github["scopes"], json!(["read:user", "user:email"]));
    assert_eq!(github["issuer"], Value::Null);

    expect(
        &app,
        M::DELETE,
        &format!("{PROVIDERS}/acme"),
        &admin,
        None,
        204,
    )
    .await;
    expect(
        &app,
        M::GET,
        &format!("{PROVIDERS}/acme"),
        &admin,
        None,
        404,
    )
    .await;
    let audited = newest_audit(&app, &admin).await;
    assert_eq!(audited["event"], "provider_deleted");
    app.stop().await;
}

async fn bad_provider_settings_are_refused_clearly(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let with = |patch: Value| {
        let mut body = acme();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (with(json!({"id": "Acme"})), "id is 1 to 32"),
        (with(json!({"id": null})), "id is required"),
        (with(json!({"kind": "saml"})), "kind is one of"),
        (with(json!({"issuer": null})), "issuer is required"),
        (
            with(json!({"issuer": "http://sso.acme.example"})),
            "https URL",
        ),
        (with(json!({"scopes": ["email"]})), "include openid"),
        (with(json!({"tenant": "common"})), "not a setting of a oidc"),
        (with(json!({"colour": "red"})), "unknown field"),
        (with(json!({"displayName": ""})), "displayName"),
        (with(json!({"signup": "everyone"})), "settings"),
        (with(json!({"signup": "domains"})), "needs allowedDomains"),
        (
            with(json!({"icon": "https://cdn.example/logo.png"})),
            "data:image",
        ),
        (
            with(json!({"enabled": "yes"})),
            "enabled has the wrong type",
        ),
        (
            json!({"id": "gh", "kind": "github", "displayName": "GitHub", "clientId": "x"}),
            "needs clientSecret",
        ),
        (
            json!({"id": "o2", "kind": "oauth2", "displayName": "O", "clientId": "x",
                   "authorizationEndpoint": "https://p.example/a",
                   "tokenEndpoint": "https://p.example/t",
                   "userinfoEndpoint": "https://p.example/u",
                   "claims": {"id": "id"}}),
            "JSON pointers",
        ),
    ];
    for (body, message) in cases {
        let answer = expect(&app, M::POST, PROVIDERS, &admin, Some(body.clone()), 400).await;
        assert_eq!(answer["code"], "invalid_request", "{body}: {answer}");
        let text = answer["message"].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
    }
    expect(&app, M::POST, PROVIDERS, &admin, Some(acme()), 201).await;
    let taken = expect(&app, M::POST, PROVIDERS, &admin, Some(acme()), 409).await;
    assert_eq!(taken["code"], "name_taken");
    let path = format!("{PROVIDERS}/acme");
    let answer = expect(
        &app,
        M::PATCH,
        &path,
        &admin,
        Some(json!({"kind": "github"})),
        400,
    )
    .await;
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("do not change"));
    expect(
        &app,
        M::PATCH,
        &path,
        &admin,
        Some(json!({"issuer": null})),
        400,
    )
    .await;
    expect(&app, M::PATCH, &path, &admin, Some(json!([1])), 400).await;
    let unknown = format!("{PROVIDERS}/nobody");
    expect(&app, M::PATCH, &unknown, &admin, Some(json!({})), 404).await;
    expect(&app, M::DELETE, &unknown, &admin, None, 404).await;
    // Nothing was half-applied: the provider is as it was made.
    let kept = expect(&app, M::GET, &path, &admin, None, 200).await;
    assert_eq!(kept["issuer"], "https://sso.acme.example");
    assert_eq!(kept["hasSecret"], true);
    app.stop().await;
}

async fn only_admins_manage_providers(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let moderator = app.user_session("mod", &[Role::Moderator]).await.bearer();
    let answer = expect(&app, M::GET, PROVIDERS, &moderator, None, 403).await;
    assert_eq!(answer["code"], "forbidden");
    expect(&app, M::POST, PROVIDERS, &moderator, Some(acme()), 403).await;
    let status = app
        .client
        .get(app.url(PROVIDERS))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    app.stop().await;
}

async fn a_provider_with_linked_identities_is_deleted_only_with_cascade(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let alice = app.create_user("alice", &[]).await;
    expect(&app, M::POST, PROVIDERS, &admin, Some(acme()), 201).await;
    // The sign-in flow that links identities is tested with it; here one is stored as it
    // would leave it.
    let db = &app.state().db;
    sqlx::query(&db.sql(
        "INSERT INTO user_identities (user_id, provider_id, subject, email, created_at) \
         VALUES (?, 'acme', 'upstream-sub-1', 'alice@example.com', 0)",
    ))
    .bind(alice)
    .execute(&db.pool)
    .await
    .unwrap();
    let path = format!("{PROVIDERS}/acme");
    let provider = expect(&app, M::GET, &path, &admin, None, 200).await;
    assert_eq!(provider["identities"], 1);
    let refused = expect(&app, M::DELETE, &path, &admin, None, 409).await;
    assert_eq!(refused["code"], "in_use");
    assert!(refused["message"].as_str().unwrap().contains("1 account"));
    expect(&app, M::GET, &path, &admin, None, 200).await;
    expect(
        &app,
        M::DELETE,
        &format!("{path}?cascade=true"),
        &admin,
        None,
        204,
    )
    .await;
    let left: i64 = sqlx::query("SELECT COUNT(*) FROM user_identities")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(left, 0);
    let audited = newest_audit(&app, &admin).await;
    assert_eq!(
        audited["detail"],
        "provider acme, unlinked from 1 account(s)"
    );
    // Alice herself is untouched.
    app.signin("alice", PASSWORD).await;
    app.stop().await;
}
