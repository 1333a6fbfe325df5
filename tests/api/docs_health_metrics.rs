//! The OpenAPI document and its viewer, health, metrics and graceful shutdown (issue 3,
//! API.md §2): the document describes every route of the contract, and no route exists
//! that it does not describe.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use portcullis::auth::password::Argon2Cost;
use portcullis::clock::Clock;
use portcullis::config::Settings;
use portcullis::server::Server;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    health_live_and_ready_answer_ok,
    ready_is_503_when_the_database_is_unreachable_while_live_stays_200,
    metrics_listener_counts_requests_signins_reuse_and_sessions,
);

// ---------------------------------------------------------------------------------------
// The contract's routes
// ---------------------------------------------------------------------------------------

/// Every route of API.md §1 and §2 served on the main listener, so the test runs without
/// the spec. (`GET /metrics` is on its own listener and is not part of this document.)
const CONTRACT_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/signin"),
    ("POST", "/api/auth/refreshtoken"),
    ("POST", "/api/auth/signout"),
    ("GET", "/api/test/all"),
    ("GET", "/api/test/user"),
    ("GET", "/api/test/mod"),
    ("GET", "/api/test/admin"),
    ("GET", "/api/auth/me"),
    ("GET", "/api/auth/policy"),
    ("POST", "/api/auth/password"),
    ("GET", "/api/auth/sessions"),
    ("DELETE", "/api/auth/sessions/{id}"),
    ("POST", "/api/auth/signout-all"),
    ("GET", "/api/admin/users"),
    ("PATCH", "/api/admin/users/{id}"),
    ("DELETE", "/api/admin/users/{id}"),
    ("GET", "/api/admin/audit"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
];

/// Routes the shared contract does not have, defined by the project's issues and
/// documented in docs/API.md: issue 13, recovery and proof of address by mail.
const ISSUE_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/auth/password-reset"),
    ("POST", "/api/auth/password-reset/confirm"),
    ("POST", "/api/auth/verify-email"),
    ("POST", "/api/auth/verify-email/resend"),
    ("POST", "/api/auth/email"),
    ("POST", "/api/auth/magic-link"),
    ("POST", "/api/auth/magic-link/confirm"),
    ("POST", "/api/auth/passkeys/register/start"),
    ("POST", "/api/auth/passkeys/register/finish"),
    ("GET", "/api/auth/passkeys"),
    ("PATCH", "/api/auth/passkeys/{id}"),
    ("DELETE", "/api/auth/passkeys/{id}"),
    ("POST", "/api/auth/passkeys/signin/start"),
    ("POST", "/api/auth/passkeys/signin/finish"),
    ("GET", "/api/auth/mfa"),
    ("POST", "/api/auth/mfa/totp/setup"),
    ("POST", "/api/auth/mfa/totp/confirm"),
    ("DELETE", "/api/auth/mfa/totp"),
    ("POST", "/api/auth/mfa/recovery-codes"),
    ("POST", "/api/auth/mfa/passkey/start"),
    ("POST", "/api/auth/mfa/verify"),
    ("DELETE", "/api/admin/users/{id}/mfa"),
    ("GET", "/api/auth/forward"),
    // Issue 15, the OpenID Connect provider.
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/api/oauth/authorize"),
    ("GET", "/api/oauth/requests/{request}"),
    ("POST", "/api/oauth/requests/{request}"),
    ("POST", "/api/oauth/token"),
    ("GET", "/api/oauth/userinfo"),
    ("POST", "/api/oauth/userinfo"),
    ("POST", "/api/oauth/revoke"),
    ("POST", "/api/oauth/introspect"),
    ("GET", "/api/oauth/logout"),
    ("GET", "/api/oauth/consents"),
    ("DELETE", "/api/oauth/consents/{client_id}"),
    ("GET", "/api/admin/clients"),
    ("POST", "/api/admin/clients"),
    ("DELETE", "/api/admin/clients/{client_id}"),
    // Issue 22: POST where OpenID Connect says MUST, and the logout confirmation page's API.
    ("POST", "/api/oauth/authorize"),
    ("POST", "/api/oauth/logout"),
    ("GET", "/api/oauth/logout/request"),
    ("POST", "/api/oauth/logout/confirm"),
    ("GET", "/api/auth/resume"),
    // Issue 24: per-client settings, pushed authorization requests, the device grant.
    ("PATCH", "/api/admin/clients/{client_id}"),
    ("POST", "/api/oauth/par"),
    ("POST", "/api/oauth/device_authorization"),
    ("POST", "/api/oauth/device"),
    // Issue 25: roles, permissions and groups; API keys and service accounts; decisions.
    ("GET", "/api/admin/roles"),
    ("POST", "/api/admin/roles"),
    ("PATCH", "/api/admin/roles/{name}"),
    ("DELETE", "/api/admin/roles/{name}"),
    ("GET", "/api/admin/permissions"),
    ("POST", "/api/admin/permissions"),
    ("DELETE", "/api/admin/permissions/{name}"),
    ("GET", "/api/admin/groups"),
    ("POST", "/api/admin/groups"),
    ("PATCH", "/api/admin/groups/{name}"),
    ("DELETE", "/api/admin/groups/{name}"),
    ("GET", "/api/admin/groups/{name}/members"),
    ("PUT", "/api/admin/groups/{name}/members/{id}"),
    ("DELETE", "/api/admin/groups/{name}/members/{id}"),
    ("GET", "/api/admin/users/{id}/rights"),
    ("GET", "/api/auth/api-keys"),
    ("POST", "/api/auth/api-keys"),
    ("DELETE", "/api/auth/api-keys/{id}"),
    ("POST", "/api/admin/service-accounts"),
    ("GET", "/api/admin/users/{id}/api-keys"),
    ("POST", "/api/admin/users/{id}/api-keys"),
    ("DELETE", "/api/admin/users/{id}/api-keys/{key_id}"),
    ("POST", "/api/authz/check"),
    // Issue 26: upstream identity providers.
    ("GET", "/api/admin/providers"),
    ("POST", "/api/admin/providers"),
    ("GET", "/api/admin/providers/{id}"),
    ("PATCH", "/api/admin/providers/{id}"),
    ("DELETE", "/api/admin/providers/{id}"),
    ("GET", "/api/auth/providers"),
    ("GET", "/api/auth/providers/{id}/start"),
    ("GET", "/api/auth/providers/{id}/callback"),
    ("POST", "/api/auth/providers/{id}/callback"),
    ("POST", "/api/auth/providers/{id}/link"),
    ("GET", "/api/auth/identities"),
    ("DELETE", "/api/auth/identities/{id}"),
    ("GET", "/api/admin/users/{id}/identities"),
    ("DELETE", "/api/admin/users/{id}/identities/{identity_id}"),
    // Issue 27: branding and languages.
    ("GET", "/api/auth/locale"),
    ("PUT", "/api/auth/locale"),
    ("POST", "/api/auth/passkeys/signup/start"),
    ("POST", "/api/auth/passkeys/signup/finish"),
    ("GET", "/api/branding"),
    ("GET", "/api/branding/logo"),
    ("GET", "/api/branding/clients/{client_id}/logo"),
    ("PUT", "/api/admin/clients/{client_id}/logo"),
    ("DELETE", "/api/admin/clients/{client_id}/logo"),
    ("PUT", "/api/admin/branding"),
    ("PUT", "/api/admin/branding/logo"),
    ("DELETE", "/api/admin/branding/logo"),
];

/// Routes that need a signed-in account (API.md: "signed in", "admin", and the protected
/// `/api/test/*` routes).
const PROTECTED: &[(&str, &str)] = &[
    ("GET", "/api/test/user"),
    ("GET", "/api/test/mod"),
    ("GET", "/api/test/admin"),
    ("GET", "/api/auth/me"),
    ("POST", "/api/auth/password"),
    ("GET", "/api/auth/sessions"),
    ("DELETE", "/api/auth/sessions/{id}"),
    ("POST", "/api/auth/signout-all"),
    ("GET", "/api/admin/users"),
    ("PATCH", "/api/admin/users/{id}"),
    ("DELETE", "/api/admin/users/{id}"),
    ("GET", "/api/admin/audit"),
    ("POST", "/api/auth/verify-email/resend"),
    ("POST", "/api/auth/email"),
    ("POST", "/api/auth/passkeys/register/start"),
    ("POST", "/api/auth/passkeys/register/finish"),
    ("GET", "/api/auth/passkeys"),
    ("PATCH", "/api/auth/passkeys/{id}"),
    ("DELETE", "/api/auth/passkeys/{id}"),
    ("GET", "/api/auth/mfa"),
    ("DELETE", "/api/auth/mfa/totp"),
    ("POST", "/api/auth/mfa/recovery-codes"),
    ("DELETE", "/api/admin/users/{id}/mfa"),
    ("GET", "/api/auth/forward"),
    ("POST", "/api/oauth/requests/{request}"),
    ("GET", "/api/oauth/userinfo"),
    ("POST", "/api/oauth/userinfo"),
    ("GET", "/api/oauth/consents"),
    ("DELETE", "/api/oauth/consents/{client_id}"),
    ("GET", "/api/admin/clients"),
    ("POST", "/api/admin/clients"),
    ("PATCH", "/api/admin/clients/{client_id}"),
    ("DELETE", "/api/admin/clients/{client_id}"),
    ("POST", "/api/oauth/device"),
    ("GET", "/api/admin/roles"),
    ("POST", "/api/admin/roles"),
    ("PATCH", "/api/admin/roles/{name}"),
    ("DELETE", "/api/admin/roles/{name}"),
    ("GET", "/api/admin/permissions"),
    ("POST", "/api/admin/permissions"),
    ("DELETE", "/api/admin/permissions/{name}"),
    ("GET", "/api/admin/groups"),
    ("POST", "/api/admin/groups"),
    ("PATCH", "/api/admin/groups/{name}"),
    ("DELETE", "/api/admin/groups/{name}"),
    ("GET", "/api/admin/groups/{name}/members"),
    ("PUT", "/api/admin/groups/{name}/members/{id}"),
    ("DELETE", "/api/admin/groups/{name}/members/{id}"),
    ("GET", "/api/admin/users/{id}/rights"),
    ("GET", "/api/auth/api-keys"),
    ("POST", "/api/auth/api-keys"),
    ("DELETE", "/api/auth/api-keys/{id}"),
    ("POST", "/api/admin/service-accounts"),
    ("GET", "/api/admin/users/{id}/api-keys"),
    ("POST", "/api/admin/users/{id}/api-keys"),
    ("DELETE", "/api/admin/users/{id}/api-keys/{key_id}"),
    ("POST", "/api/authz/check"),
    ("GET", "/api/admin/providers"),
    ("POST", "/api/admin/providers"),
    ("GET", "/api/admin/providers/{id}"),
    ("PATCH", "/api/admin/providers/{id}"),
    ("DELETE", "/api/admin/providers/{id}"),
    ("POST", "/api/auth/providers/{id}/link"),
    ("GET", "/api/auth/identities"),
    ("DELETE", "/api/auth/identities/{id}"),
    ("GET", "/api/admin/users/{id}/identities"),
    ("DELETE", "/api/admin/users/{id}/identities/{identity_id}"),
    ("PUT", "/api/admin/branding"),
    ("PUT", "/api/admin/branding/logo"),
    ("DELETE", "/api/admin/branding/logo"),
    ("GET", "/api/auth/locale"),
    ("PUT", "/api/auth/locale"),
    ("PUT", "/api/admin/clients/{client_id}/logo"),
    ("DELETE", "/api/admin/clients/{client_id}/logo"),
];

/// The OAuth protocol's own endpoints: form bodies (RFC 6749 §3.2), and errors in OAuth's
/// shape (`{"error", "error_description"}`, RFC 6749 §5.2) rather than ours.
const OAUTH_PROTOCOL: &[(&str, &str)] = &[
    ("POST", "/api/oauth/token"),
    ("GET", "/api/oauth/userinfo"),
    ("POST", "/api/oauth/userinfo"),
    ("POST", "/api/oauth/revoke"),
    ("POST", "/api/oauth/introspect"),
    ("POST", "/api/oauth/par"),
    ("POST", "/api/oauth/device_authorization"),
];

/// Operations that take a JSON body.
const JSON_BODY: &[(&str, &str)] = &[
    ("POST", "/api/oauth/logout/confirm"),
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/signin"),
    ("POST", "/api/auth/refreshtoken"),
    ("POST", "/api/auth/signout"),
    ("POST", "/api/auth/password"),
    ("PATCH", "/api/admin/users/{id}"),
    ("POST", "/api/auth/password-reset"),
    ("POST", "/api/auth/password-reset/confirm"),
    ("POST", "/api/auth/verify-email"),
    ("POST", "/api/auth/email"),
    ("POST", "/api/auth/magic-link"),
    ("POST", "/api/auth/magic-link/confirm"),
    ("POST", "/api/auth/passkeys/register/finish"),
    ("PATCH", "/api/auth/passkeys/{id}"),
    ("POST", "/api/auth/passkeys/signin/finish"),
    ("POST", "/api/auth/mfa/totp/setup"),
    ("POST", "/api/auth/mfa/totp/confirm"),
    ("POST", "/api/auth/mfa/recovery-codes"),
    ("POST", "/api/auth/mfa/passkey/start"),
    ("POST", "/api/auth/mfa/verify"),
    ("POST", "/api/oauth/requests/{request}"),
    ("POST", "/api/admin/clients"),
    ("PATCH", "/api/admin/clients/{client_id}"),
    ("POST", "/api/oauth/device"),
    ("POST", "/api/admin/roles"),
    ("PATCH", "/api/admin/roles/{name}"),
    ("POST", "/api/admin/permissions"),
    ("POST", "/api/admin/groups"),
    ("PATCH", "/api/admin/groups/{name}"),
    ("POST", "/api/admin/providers"),
    ("PATCH", "/api/admin/providers/{id}"),
    ("POST", "/api/auth/providers/{id}/link"),
    ("POST", "/api/auth/api-keys"),
    ("POST", "/api/admin/service-accounts"),
    ("POST", "/api/admin/users/{id}/api-keys"),
    ("POST", "/api/authz/check"),
    ("PUT", "/api/admin/branding"),
    ("PUT", "/api/auth/locale"),
    ("POST", "/api/auth/passkeys/signup/start"),
    ("POST", "/api/auth/passkeys/signup/finish"),
];

/// The failures API.md names for each operation, beyond the general rules (401 on every
/// protected route; 400, 413 and 415 on every JSON body).
const CONTRACT_ERRORS: &[(&str, &str, &[u16])] = &[
    ("POST", "/api/auth/signup", &[403, 409]),
    ("POST", "/api/auth/signin", &[401, 429]),
    ("POST", "/api/auth/refreshtoken", &[403]),
    ("GET", "/api/test/mod", &[403]),
    ("GET", "/api/test/admin", &[403]),
    ("POST", "/api/auth/password", &[403]),
    ("DELETE", "/api/auth/sessions/{id}", &[404]),
    ("GET", "/api/admin/users", &[400, 403]),
    ("PATCH", "/api/admin/users/{id}", &[403, 404, 409]),
    ("DELETE", "/api/admin/users/{id}", &[403, 404, 409]),
    ("GET", "/api/admin/audit", &[400, 403]),
    ("GET", "/health/ready", &[503]),
    ("POST", "/api/auth/password-reset", &[202, 429, 503]),
    ("POST", "/api/auth/password-reset/confirm", &[200]),
    ("POST", "/api/auth/verify-email", &[200]),
    (
        "POST",
        "/api/auth/verify-email/resend",
        &[202, 409, 429, 503],
    ),
];

type Route = (String, String);

fn route(method: &str, path: &str) -> Route {
    (method.to_string(), path.to_string())
}

fn contract_routes() -> BTreeSet<Route> {
    CONTRACT_ROUTES.iter().map(|(m, p)| route(m, p)).collect()
}

/// The agreed contract beside the repository, as CI lays it out (`../shared/spec/API.md`);
/// the project's own reference, docs/API.md, is checked by tests/api/api_reference.rs.
fn api_md() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/API.md");
    std::fs::read_to_string(path).ok()
}

/// `METHOD /path` spans of API.md §1 and §2: section headings and route tables.
/// `{all,user}` expands to one route each; a query string is dropped.
fn routes_in_api_md(spec: &str) -> BTreeSet<Route> {
    let sections = spec.split("\n## 3.").next().unwrap_or(spec);
    let mut routes = BTreeSet::new();
    for (i, span) in sections.split('`').enumerate() {
        if i % 2 == 0 {
            continue; // outside backticks
        }
        let Some((method, path)) = span.split_once(' ') else {
            continue;
        };
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method) || !path.starts_with('/') {
            continue;
        }
        let path = path.split('?').next().unwrap_or(path);
        for path in expand_alternatives(path) {
            routes.insert(route(method, &path));
        }
    }
    routes
}

/// `/api/test/{all,user}` → `/api/test/all`, `/api/test/user`; `{id}` stays a parameter.
fn expand_alternatives(path: &str) -> Vec<String> {
    if let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
        let inner = &path[open + 1..close];
        if inner.contains(',') {
            return inner
                .split(',')
                .flat_map(|alt| {
                    expand_alternatives(&format!("{}{}{}", &path[..open], alt, &path[close + 1..]))
                })
                .collect();
        }
    }
    vec![path.to_string()]
}

/// Method and path of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if [
                "get", "post", "put", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                routes.insert(route(&method.to_uppercase(), path));
            }
        }
    }
    routes
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method.to_lowercase()];
    assert!(op.is_object(), "{method} {path} is not in the document");
    op
}

/// The document as served.
async fn served_document(app: &TestApp) -> Value {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    response.json().await.expect("the document is JSON")
}

// ---------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn document_is_openapi_3_1_and_is_what_the_code_generates() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let doc = served_document(&app).await;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "OpenAPI {version}");
    assert_eq!(doc["info"]["title"], "Portcullis");
    let generated = serde_json::to_value(portcullis::http::router::openapi()).unwrap();
    assert_eq!(doc, generated, "the served document is the generated one");
}

#[tokio::test]
async fn document_describes_every_route_of_the_contract() {
    let doc = serde_json::to_value(portcullis::http::router::openapi()).unwrap();
    let in_doc = documented(&doc);
    let missing: Vec<_> = contract_routes().difference(&in_doc).cloned().collect();
    assert!(missing.is_empty(), "not in the document: {missing:?}");
    let issue_routes: BTreeSet<Route> = ISSUE_ROUTES.iter().map(|(m, p)| route(m, p)).collect();
    let missing: Vec<_> = issue_routes.difference(&in_doc).cloned().collect();
    assert!(
        missing.is_empty(),
        "issue routes not in the document: {missing:?}"
    );

    if let Some(spec) = api_md() {
        let in_spec = routes_in_api_md(&spec);
        // The parser must keep finding the contract's routes, or this check proves nothing.
        let unparsed: Vec<_> = contract_routes().difference(&in_spec).cloned().collect();
        assert!(unparsed.is_empty(), "API.md parse missed {unparsed:?}");
        assert!(
            in_spec.contains(&route("GET", "/metrics")),
            "API.md names /metrics"
        );
        let missing: Vec<_> = in_spec
            .iter()
            .filter(|(_, path)| path != "/metrics")
            .filter(|r| !in_doc.contains(*r))
            .collect();
        assert!(
            missing.is_empty(),
            "API.md routes missing from the document: {missing:?}"
        );
    } else {
        eprintln!("../shared/spec/API.md not found: checked the built-in route list only");
    }
}

/// Each operation has its own `operationId`: clients generated from the document (the web
/// app's types among them) name their functions and types after it, and two alike do not
/// compile there.
#[test]
fn every_operation_id_is_unique() {
    let doc = serde_json::to_value(portcullis::http::router::openapi()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (method, path) in documented(&doc) {
        let id = operation(&doc, &method, &path)["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
            panic!("{method} {path} and {other} share the operationId {id}");
        }
    }
}

#[tokio::test]
async fn document_describes_no_route_the_contract_lacks() {
    let doc = serde_json::to_value(portcullis::http::router::openapi()).unwrap();
    let mut contract = contract_routes();
    contract.extend(ISSUE_ROUTES.iter().map(|(m, p)| route(m, p)));
    if let Some(spec) = api_md() {
        contract.extend(routes_in_api_md(&spec));
    }
    let extra: Vec<_> = documented(&doc).difference(&contract).cloned().collect();
    assert!(
        extra.is_empty(),
        "documented but neither in API.md §1/§2 nor an issue's: {extra:?}"
    );
    // Metrics live on their own listener, never on the public one.
    assert!(doc["paths"].get("/metrics").is_none());
}

#[tokio::test]
async fn every_operation_documents_success_errors_bodies_and_security() {
    let doc = serde_json::to_value(portcullis::http::router::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let error_body = &schemas["ErrorBody"];
    assert_eq!(
        error_body["required"],
        json!(["message", "code"]),
        "{error_body}"
    );
    assert_eq!(error_body["properties"]["message"]["type"], "string");
    // `code` is one of the ErrorCode schema's values, which lists every code there is.
    assert_eq!(
        error_body["properties"]["code"]["$ref"], "#/components/schemas/ErrorCode",
        "{error_body}"
    );
    let codes = &schemas["ErrorCode"];
    assert_eq!(codes["type"], "string", "{codes}");
    let listed: BTreeSet<&str> = codes["enum"]
        .as_array()
        .expect("ErrorCode lists its values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for code in [
        "invalid_request",
        "unauthenticated",
        "token_expired",
        "invalid_token",
        "invalid_credentials",
        "too_many_attempts",
        "username_taken",
        "email_taken",
        "unknown_role",
        "forbidden",
        "password_too_common",
        "wrong_password",
        "refresh_token_required",
        "refresh_token_invalid",
        "refresh_token_expired",
        "refresh_token_reused",
        "csrf",
        "last_admin",
        "payload_too_large",
        "unsupported_media_type",
        "overloaded",
        "unavailable",
    ] {
        assert!(
            listed.contains(code),
            "{code} is not in ErrorCode: {listed:?}"
        );
    }
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert!(schemes.contains_key("bearer"), "{schemes:?}");

    for (method, path) in documented(&doc) {
        let op = operation(&doc, &method, &path);
        let label = format!("{method} {path}");
        let responses = op["responses"].as_object().expect("responses");

        // The authorization endpoint's success is a redirect, back to the client; a sign-in
        // with an upstream provider is browser navigations whose every ending is a 303.
        let redirects = path == "/api/oauth/authorize" || path == "/api/auth/resume";
        let provider_navigation =
            path == "/api/auth/providers/{id}/start" || path == "/api/auth/providers/{id}/callback";
        assert!(
            responses.keys().any(|s| s.starts_with('2')
                || (redirects && s == "302")
                || (provider_navigation && s == "303")),
            "{label} documents no 2xx"
        );
        // Every error it documents has our error shape, or OAuth's on its endpoints (a
        // body too large is refused before them, in ours).
        let oauth = OAUTH_PROTOCOL.contains(&(method.as_str(), path.as_str()));
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let shape = if oauth && status != "413" {
                    "#/components/schemas/OAuthErrorBody"
                } else {
                    "#/components/schemas/ErrorBody"
                };
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"], shape,
                    "{label} {status} is not documented as {shape}"
                );
            }
        }

        // The failures it can have are documented.
        let key = (method.as_str(), path.as_str());
        let protected = PROTECTED.contains(&key);
        let json_body = JSON_BODY.contains(&key);
        let mut expected: BTreeSet<u16> = BTreeSet::new();
        if protected {
            expected.insert(401);
        }
        if json_body {
            expected.extend([400, 413, 415]);
        }
        if let Some((_, _, statuses)) = CONTRACT_ERRORS.iter().find(|(m, p, _)| (*m, *p) == key) {
            expected.extend(statuses.iter());
        }
        for status in expected {
            assert!(
                responses.contains_key(&status.to_string()),
                "{label} does not document {status}: {:?}",
                responses.keys().collect::<Vec<_>>()
            );
        }

        // POST and PATCH: a JSON request body schema (signout-all takes none).
        if method == "POST" || method == "PATCH" {
            if json_body {
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                let name = find_ref(schema)
                    .unwrap_or_else(|| panic!("{label} request body has no schema: {schema}"));
                let target = &schemas[name.trim_start_matches("#/components/schemas/")];
                assert!(
                    target["properties"].is_object(),
                    "{label} request body schema {name} has no properties"
                );
            } else {
                assert!(
                    [
                        ("POST", "/api/auth/signout-all"),
                        ("POST", "/api/auth/verify-email/resend"),
                        ("POST", "/api/auth/passkeys/register/start"),
                        ("POST", "/api/auth/passkeys/signin/start"),
                        // Form-encoded, as OpenID Connect has them.
                        ("POST", "/api/oauth/authorize"),
                        ("POST", "/api/oauth/logout"),
                        // Apple's form post, the GET callback's fields.
                        ("POST", "/api/auth/providers/{id}/callback"),
                    ]
                    .contains(&key)
                        || OAUTH_PROTOCOL.contains(&key),
                    "{label}: a body?"
                );
            }
        }

        // Protected operations say how to authenticate; public ones do not ask.
        let security = op["security"].as_array();
        if protected {
            let security = security.unwrap_or_else(|| panic!("{label} declares no security"));
            assert!(!security.is_empty(), "{label} declares no security");
            for requirement in security {
                let requirement = requirement.as_object().expect("requirement");
                assert!(
                    !requirement.is_empty(),
                    "{label}: an empty requirement makes credentials optional"
                );
                for scheme in requirement.keys() {
                    assert!(
                        schemes.contains_key(scheme),
                        "{label}: unknown scheme {scheme}"
                    );
                }
            }
        } else {
            assert!(
                security.is_none_or(|s| s.is_empty()),
                "{label} is public but declares security"
            );
        }
    }
}

fn find_ref(schema: &Value) -> Option<&str> {
    match schema {
        Value::Object(map) => map
            .get("$ref")
            .and_then(Value::as_str)
            .or_else(|| map.values().find_map(find_ref)),
        Value::Array(items) => items.iter().find_map(find_ref),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// No route the document does not describe
// ---------------------------------------------------------------------------------------

/// axum cannot list its routes, so every documented path is asked with every method the
/// document does not give it: a hidden handler would answer something other than our
/// JSON 405 (or 404).
#[tokio::test]
async fn undocumented_methods_on_documented_paths_answer_405_json() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let doc = served_document(&app).await;
    let in_doc = documented(&doc);
    let paths: BTreeSet<&String> = in_doc.iter().map(|(_, p)| p).collect();
    let mut probed = 0;
    for path in paths {
        let methods: BTreeSet<&str> = in_doc
            .iter()
            .filter(|(_, p)| p == path)
            .map(|(m, _)| m.as_str())
            .collect();
        let concrete = path.replace("{id}", "1");
        // HEAD is GET without a body (RFC 9110), so it is only undocumented without GET.
        let mut candidates = vec!["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];
        if !methods.contains("GET") {
            candidates.push("HEAD");
        }
        for method in candidates.into_iter().filter(|m| !methods.contains(m)) {
            let response = app
                .client
                .request(method.parse().unwrap(), app.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            assert!(
                status == 405 || status == 404,
                "{method} {concrete} answered {status}: a route the document does not describe?"
            );
            if method != "HEAD" {
                let body: Value = response
                    .json()
                    .await
                    .unwrap_or_else(|_| panic!("{method} {concrete}: {status} without JSON"));
                assert!(
                    body["message"].is_string() && body["code"].is_string(),
                    "{method} {concrete}: {body}"
                );
            }
            probed += 1;
        }
    }
    assert!(probed > 50, "only {probed} probes");
}

/// Routes are added only through utoipa-axum's `routes!`, which documents them: a plain
/// axum `.route(` anywhere in src/ (but the separate metrics listener) fails here.
#[test]
fn routes_are_registered_only_through_utoipa() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = src.join("http").join("metrics.rs");
    let mut offenders = Vec::new();
    let mut scanned = 0;
    let mut dirs = vec![src];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path == allowed {
                continue;
            }
            scanned += 1;
            let text = std::fs::read_to_string(&path).expect("source");
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if !code.starts_with("//") && code.contains(".route(") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, code));
                }
            }
        }
    }
    assert!(scanned > 10, "scanned only {scanned} files");
    assert!(
        offenders.is_empty(),
        "routes must be added with utoipa-axum's routes!, so the OpenAPI document has them:\n{}",
        offenders.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// The viewer
// ---------------------------------------------------------------------------------------

/// Values of `attr=` (quoted or not) in an HTML page, case-insensitive.
fn attribute_values(html: &str, attr: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let needle = format!("{attr}=");
    let mut values = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(&needle) {
        let start = from + at + needle.len();
        // `data-src=` or `xsrc=` are other attributes.
        let before = lower[..from + at].chars().last();
        from = start;
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        let rest = &html[start..];
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        values.push(value.to_string());
    }
    values
}

/// The first argument of each `name(` call when it is a string literal.
fn call_arguments(text: &str, name: &str) -> Vec<String> {
    text.match_indices(&format!("{name}("))
        .filter_map(|(at, call)| {
            let rest = text[at + call.len()..].trim_start();
            let q = rest
                .chars()
                .next()
                .filter(|c| matches!(c, '\'' | '"' | '`'))?;
            rest[1..].split(q).next().map(str::to_string)
        })
        .collect()
}

fn is_other_host(url: &str) -> bool {
    let url = url.trim().to_ascii_lowercase();
    url.starts_with("//") || url.contains("://") || url.starts_with("data:text/javascript")
}

#[tokio::test]
async fn docs_viewer_is_html_served_offline_and_loads_the_document() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let response = app.get("/api/docs").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    // The browser itself refuses anything from another host.
    let csp = response
        .headers()
        .get("content-security-policy")
        .expect("a Content-Security-Policy")
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!csp.contains("http"), "CSP allows another host: {csp}");
    let html = response.text().await.unwrap();

    let mut referenced = Vec::new();
    for attr in ["src", "href", "action", "srcset"] {
        referenced.extend(attribute_values(&html, attr));
    }
    for call in ["fetch", "import", "url", "importScripts"] {
        referenced.extend(call_arguments(&html, call));
    }
    for url in &referenced {
        assert!(
            !is_other_host(url),
            "the viewer loads {url} from another host"
        );
    }
    for cdn in ["cdn.", "unpkg", "jsdelivr", "cdnjs", "googleapis"] {
        assert!(!html.contains(cdn), "the viewer mentions {cdn}");
    }
    // Whatever it references on this host is served, and is itself offline.
    for url in referenced.iter().filter(|u| u.starts_with('/')) {
        let asset = app.get(url).await;
        assert_eq!(asset.status(), 200, "{url}");
        let text = asset.text().await.unwrap();
        if !url.ends_with(".json") {
            assert!(!text.contains("://"), "{url} references another host");
        }
    }
    // The page's script reads the document from this server.
    assert!(
        call_arguments(&html, "fetch").contains(&"/api/openapi.json".to_string()),
        "the viewer does not fetch /api/openapi.json"
    );
    assert!(html.contains("<script"), "the viewer has a script");
}

// ---------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------

async fn health_live_and_ready_answer_ok(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"status": "ready"})
    );
}

/// The last path segment of a database URL: the test's own database.
fn database_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    base.rsplit('/').next().unwrap_or_default().to_string()
}

/// Takes the test's database away from under the running server.
async fn make_database_unreachable(app: &TestApp, kind: &DbKind) {
    use sqlx::Connection;
    match kind {
        DbKind::Sqlite => app.state().db.pool.close().await,
        DbKind::Postgres(server) => {
            let name = database_name(&app.db.url);
            let mut conn = sqlx::AnyConnection::connect(server).await.unwrap();
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("drop database");
            conn.close().await.ok();
        }
        DbKind::MySql(server) => {
            // MySQL drops a database under open connections, which then still answer
            // `SELECT 1`: drop it, then end those connections so the pool must reconnect.
            let name = database_name(&app.db.url);
            let mut conn = sqlx::AnyConnection::connect(server).await.unwrap();
            let ids: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = '{name}'"
            ))
            .fetch_all(&mut conn)
            .await
            .expect("connections of the test database");
            assert!(!ids.is_empty(), "the server holds connections to {name}");
            sqlx::query(&format!("DROP DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("drop database");
            for id in ids {
                let _ = sqlx::query(&format!("KILL {id}")).execute(&mut conn).await;
            }
            conn.close().await.ok();
        }
    }
}

async fn ready_is_503_when_the_database_is_unreachable_while_live_stays_200(db: DbKind) {
    let app = TestApp::spawn(db.clone()).await;
    assert_eq!(app.get("/health/ready").await.status(), 200);

    make_database_unreachable(&app, &db).await;

    let started = std::time::Instant::now();
    let ready = app.get("/health/ready").await;
    assert_error(ready, 503, "Database unavailable.", "not_ready").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "readiness answered after {:?}",
        started.elapsed()
    );
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.json::<Value>().await.unwrap(), json!({"status": "ok"}));
}

// ---------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------

/// A server started directly, for what `TestApp` does not expose (the metrics address,
/// the result of `stop`).
struct Direct {
    server: Server,
    clock: Clock,
    base: String,
    client: reqwest::Client,
    _db: TestDb,
}

impl Direct {
    async fn start(kind: &DbKind, configure: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::create(kind).await;
        let mut settings = test_settings(&db.url);
        configure(&mut settings);
        let clock = Clock::default();
        let server = Server::start(settings, clock.clone())
            .await
            .expect("server starts");
        Direct {
            base: format!("http://{}", server.addr),
            server,
            clock,
            client: reqwest::Client::new(),
            _db: db,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    async fn signup(&self, username: &str) {
        let created = self
            .post(
                "/api/auth/signup",
                json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(created.status(), 201);
    }

    async fn signin(&self, username: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/auth/signin",
            json!({"username": username, "password": password}),
        )
        .await
    }
}

/// One series of a Prometheus text exposition.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("series and value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        let mut rest = labels;
        while let Some((key, after)) = rest.split_once("=\"") {
            let mut value = String::new();
            let mut chars = after.char_indices();
            let mut end = after.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(if escaped == 'n' { '\n' } else { escaped });
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            map.insert(key.trim_start_matches(',').trim().to_string(), value);
            rest = &after[end..];
        }
        samples.push(Sample {
            name: name.to_string(),
            labels: map,
            value: value.parse().unwrap_or_else(|_| panic!("value in {line}")),
        });
    }
    samples
}

/// The sum over the series of `name` carrying all of `labels` (0 when there is none).
fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    matching(samples, name, labels).map(|s| s.value).sum()
}

fn matching<'a>(
    samples: &'a [Sample],
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
) -> impl Iterator<Item = &'a Sample> + 'a {
    samples.iter().filter(move |s| {
        s.name == name
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

/// Gauges are set when /metrics is rendered from the rendering server's own state, and the
/// recorder is shared by every server of this test binary: one render at a time.
static METRICS_RENDER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scrape(client: &reqwest::Client, addr: std::net::SocketAddr) -> (String, Vec<Sample>) {
    let response = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    let samples = parse_prometheus(&text);
    (text, samples)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_unless_a_metrics_address_is_set() {
    assert!(
        std::env::var_os("PORTCULLIS_METRICS_BIND").is_none(),
        "unset PORTCULLIS_METRICS_BIND to run this test"
    );
    let app = Direct::start(&DbKind::Sqlite, |_| {}).await;
    assert!(
        app.server.metrics_addr.is_none(),
        "a metrics listener is up"
    );
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_error(response, 404, "Not found.", "not_found").await;
    app.server.stop().await.expect("clean stop");
}

async fn metrics_listener_counts_requests_signins_reuse_and_sessions(db: DbKind) {
    let _one_render_at_a_time = METRICS_RENDER.lock().await;
    let app = Direct::start(&db, |s| {
        s.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let metrics = app.server.metrics_addr.expect("a metrics listener");
    assert_ne!(metrics.port(), app.server.addr.port());
    // Only on its own listener.
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);

    let (_, before) = scrape(&app.client, metrics).await;
    let all_200 = [
        ("method", "GET"),
        ("route", "/api/test/all"),
        ("status", "200"),
    ];
    let user_401 = [
        ("method", "GET"),
        ("route", "/api/test/user"),
        ("status", "401"),
    ];
    let by_id = [
        ("method", "DELETE"),
        ("route", "/api/auth/sessions/{id}"),
        ("status", "401"),
    ];
    let ok = [("outcome", "ok")];
    let failed = [("outcome", "failed")];

    for _ in 0..3 {
        assert_eq!(
            app.client
                .get(app.url("/api/test/all"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(
            app.client
                .get(app.url("/api/test/user"))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
    // Labelled by the matched route, not the raw path.
    let raw = app
        .client
        .delete(app.url("/api/auth/sessions/some-session"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);

    app.signup("metered").await;
    assert_eq!(
        app.signin("metered", "wrong password here").await.status(),
        401
    );
    let first = app.signin("metered", PASSWORD).await;
    assert_eq!(first.status(), 200);
    let second = app.signin("metered", PASSWORD).await;
    assert_eq!(second.status(), 200);
    // Reuse: spend a refresh token, wait past the reuse interval, present it again.
    let spent = first.json::<Value>().await.unwrap()["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let rotated = app
        .post("/api/auth/refreshtoken", json!({"refreshToken": spent}))
        .await;
    assert_eq!(rotated.status(), 200);
    app.clock.advance(Duration::from_secs(11));
    let reused = app
        .post("/api/auth/refreshtoken", json!({"refreshToken": spent}))
        .await;
    assert_error(
        reused,
        403,
        "Refresh token was already used. Please make a new signin request",
        "refresh_token_reused",
    )
    .await;

    let (text, after) = scrape(&app.client, metrics).await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        total(&after, name, labels) - total(&before, name, labels)
    };
    let requests = "portcullis_http_requests_total";
    assert!(grew(requests, &all_200) >= 3.0, "{text}");
    assert!(grew(requests, &user_401) >= 2.0, "{text}");
    assert!(grew(requests, &by_id) >= 1.0, "{text}");
    assert_eq!(
        total(
            &after,
            requests,
            &[("route", "/api/auth/sessions/some-session")]
        ),
        0.0,
        "a raw path became a label"
    );
    assert!(
        grew(
            requests,
            &[("route", "/api/auth/signin"), ("status", "200")]
        ) >= 2.0,
        "{text}"
    );

    let histogram = "portcullis_http_request_duration_seconds";
    let bucket = format!("{histogram}_bucket");
    let buckets: Vec<_> = matching(&after, &bucket, &all_200).collect();
    assert!(
        buckets.len() > 5,
        "histogram buckets for /api/test/all:\n{text}"
    );
    assert!(buckets
        .iter()
        .any(|b| b.labels.get("le").map(String::as_str) == Some("+Inf")));
    assert!(
        grew(
            &bucket,
            &[
                ("route", "/api/test/all"),
                ("status", "200"),
                ("le", "+Inf")
            ]
        ) >= 3.0
    );
    assert!(
        grew(&format!("{histogram}_count"), &all_200) >= 3.0,
        "{text}"
    );

    let signins = "portcullis_signins_total";
    assert!(grew(signins, &ok) >= 2.0, "{text}");
    assert!(grew(signins, &failed) >= 1.0, "{text}");
    assert!(grew("portcullis_refresh_reuse_total", &[]) >= 1.0, "{text}");

    // Gauges, from this server's state at render time: the hasher is idle, and the reuse
    // revoked the first session, so one of the two is live.
    assert_eq!(
        total(&after, "portcullis_hash_queue_depth", &[]),
        0.0,
        "{text}"
    );
    assert!(text.contains("\nportcullis_hash_queue_depth "), "{text}");
    assert!(text.contains("\nportcullis_active_sessions "), "{text}");
    assert_eq!(
        total(&after, "portcullis_active_sessions", &[]),
        1.0,
        "{text}"
    );

    app.server.stop().await.expect("clean stop");
    assert!(
        app.client
            .get(format!("http://{metrics}/metrics"))
            .send()
            .await
            .is_err(),
        "the metrics listener stops with the server"
    );
}

// ---------------------------------------------------------------------------------------
// Graceful shutdown
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_lets_an_in_flight_request_finish_then_refuses_new_ones() {
    let app = Direct::start(&DbKind::Sqlite, |s| {
        // The production cost: a sign-in that takes a while.
        s.argon2 = Argon2Cost::parse("m=19456,t=2,p=1").unwrap();
    })
    .await;
    app.signup("patient").await;
    let state = app.server.state.clone();
    let verified_before = state.hasher.verifications();

    let request = {
        let client = app.client.clone();
        let url = app.url("/api/auth/signin");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"username": "patient", "password": PASSWORD}))
                .send()
                .await
        })
    };
    // Stop once the server is verifying this sign-in's password.
    let waited = std::time::Instant::now();
    while state.hasher.verifications() == verified_before {
        assert!(
            waited.elapsed() < Duration::from_secs(2),
            "the sign-in never arrived"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        !request.is_finished(),
        "the request finished before stop was called"
    );
    let addr = app.server.addr;
    app.server.stop().await.expect("stop returns Ok");

    let response = request
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "patient");
    // Stopped: no longer accepting.
    let after = reqwest::Client::new()
        .get(format!("http://{addr}/health/live"))
        .send()
        .await;
    assert!(after.is_err(), "still accepting after stop: {after:?}");
}

/// Issue 22, item 13: every parameter is where the route reads it. A path parameter names
/// a `{segment}` of its path and every segment has one (`role` of `/api/auth/forward` was
/// once documented as a path parameter); and every documented query parameter is one the
/// route reads: the routes refuse unknown query fields with "unknown field", so a documented
/// one must never get that answer.
#[tokio::test]
async fn every_documented_parameter_is_one_the_route_reads() {
    let doc = serde_json::to_value(portcullis::http::router::openapi()).unwrap();
    let mut problems = Vec::new();
    let mut queries = Vec::new();
    for (method, path) in documented(&doc) {
        let op = operation(&doc, &method, &path);
        let segments: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let in_path: BTreeSet<String> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        for name in &in_path {
            if !segments.contains(name.as_str()) {
                problems.push(format!(
                    "{method} {path}: path parameter {name} is not in the path"
                ));
            }
        }
        for segment in &segments {
            if !in_path.contains(*segment) {
                problems.push(format!(
                    "{method} {path}: {{{segment}}} has no path parameter"
                ));
            }
        }
        for p in params.iter().filter(|p| p["in"] == "query") {
            queries.push((
                method.clone(),
                path.clone(),
                p["name"].as_str().unwrap().to_string(),
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        queries
            .iter()
            .any(|(_, path, name)| path == "/api/auth/forward" && name == "role"),
        "forward's role is a query parameter: {queries:?}"
    );

    let app = TestApp::spawn(DbKind::Sqlite).await;
    app.create_user("root", &[portcullis::domain::Role::Admin])
        .await;
    let admin = app.signin("root", PASSWORD).await;
    for (method, path, name) in &queries {
        let concrete = path.replace(['{', '}'], "");
        let url = format!("{concrete}?{name}=1");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), app.url(&url))
            .header("Authorization", admin.bearer())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            !body.contains("unknown field"),
            "{method} {url}: the route does not read {name}: {status} {body}"
        );
        // A made-up parameter is refused where unknown ones are, which proves the check
        // above can see it.
        if path == "/api/auth/forward" {
            let made_up = app
                .get_with(
                    &format!("{concrete}?nonsense=1"),
                    ("Authorization", &admin.bearer()),
                )
                .await;
            assert!(made_up.text().await.unwrap().contains("unknown field"));
        }
    }
    app.stop().await;
}
