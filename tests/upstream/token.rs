use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use crate::testing::{json, serve};
use axum::http::header::CONTENT_TYPE;
use portcullis::auth::upstream::http_client;
use portcullis::auth::upstream::token::*;
use portcullis::auth::upstream::UpstreamError;
use secrecy::SecretString;
use url::Url;

#[test]
fn the_authorization_url_carries_the_request_and_keeps_the_endpoints_query() {
    let endpoint = Url::parse("https://login.example.com/authorize?tenant=a").unwrap();
    let url = authorization_url(&AuthorizationRequest {
        authorization_endpoint: &endpoint,
        client_id: "portcullis",
        redirect_uri: "https://auth.example.org/upstream/callback",
        scopes: &["openid", "email"],
        state: "st",
        nonce: Some("nn"),
        code_challenge: "cc",
        extra: &[("response_mode", "form_post"), ("state", "forged")],
    });
    assert_eq!(url.host_str(), Some("login.example.com"));
    assert_eq!(url.path(), "/authorize");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let expected = [
        ("tenant", "a"),
        ("response_type", "code"),
        ("client_id", "portcullis"),
        ("redirect_uri", "https://auth.example.org/upstream/callback"),
        ("scope", "openid email"),
        ("state", "st"),
        ("nonce", "nn"),
        ("code_challenge", "cc"),
        ("code_challenge_method", "S256"),
        // The extra `state` is dropped: the request's own cannot be replaced.
        ("response_mode", "form_post"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(pairs, expected);
}

#[test]
fn a_request_without_nonce_sends_none() {
    let endpoint = Url::parse("https://github.com/login/oauth/authorize").unwrap();
    let url = authorization_url(&AuthorizationRequest {
        authorization_endpoint: &endpoint,
        client_id: "c",
        redirect_uri: "https://auth.example.org/cb",
        scopes: &["read:user"],
        state: "st",
        nonce: None,
        code_challenge: "cc",
        extra: &[],
    });
    assert!(url.query_pairs().all(|(k, _)| k != "nonce"));
    assert!(url.query_pairs().any(|(k, v)| k == "state" && v == "st"));
}

#[test]
fn the_callbacks_issuer_is_checked_as_rfc_9207_says() {
    // RFC 9207 2.4
    let issuer = "https://login.example.com";
    assert!(check_callback_issuer(Some(issuer), issuer, true).is_ok());
    assert!(matches!(
        check_callback_issuer(Some("https://evil.example.com"), issuer, false),
        Err(UpstreamError::IssuerMismatch)
    ));
    assert!(matches!(
        check_callback_issuer(None, issuer, true),
        Err(UpstreamError::IssuerMismatch)
    ));
    assert!(check_callback_issuer(None, issuer, false).is_ok());
}

/// What the token endpoint received.
#[derive(Debug)]
struct Seen {
    authorization: Option<String>,
    accept: Option<String>,
    form: HashMap<String, String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A token endpoint that logs each request and answers by the code it is given.
async fn token_endpoint() -> (Url, Log) {
    async fn token(
        State(log): State<Log>,
        headers: HeaderMap,
        Form(form): Form<HashMap<String, String>>,
    ) -> axum::response::Response {
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_string());
        let code = form.get("code").cloned().unwrap_or_default();
        log.lock().unwrap().push(Seen {
            authorization: header("authorization"),
            accept: header("accept"),
            form,
        });
        match code.as_str() {
            "used" => (
                StatusCode::BAD_REQUEST,
                json(json!({"error": "invalid_grant", "error_description": "used"})),
            )
                .into_response(),
            // GitHub's way: 200 and an error.
            "github-used" => json(json!({"error": "bad_verification_code"})).into_response(),
            "broken" => (StatusCode::BAD_GATEWAY, "<html>oops</html>").into_response(),
            _ => json(json!({
                "access_token": "at-1", "token_type": "Bearer",
                "id_token": "a.b.c", "scope": "openid email", "expires_in": 3600
            }))
            .into_response(),
        }
    }
    let log = Log::default();
    let state = log.clone();
    let base = serve(|_| Router::new().route("/token", post(token)).with_state(state)).await;
    (Url::parse(&format!("{base}/token")).unwrap(), log)
}

async fn exchange(
    endpoint: &Url,
    auth: ClientAuth<'_>,
    code: &str,
) -> Result<TokenAnswer, UpstreamError> {
    let client = Client {
        id: "portal client:1",
        auth,
    };
    exchange_code(
        &http_client().unwrap(),
        endpoint,
        &client,
        code,
        "https://auth.example.org/cb",
        "verifier-1",
    )
    .await
}

fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const GRANT: [(&str, &str); 4] = [
    ("grant_type", "authorization_code"),
    ("code", "c-1"),
    ("redirect_uri", "https://auth.example.org/cb"),
    ("code_verifier", "verifier-1"),
];

#[tokio::test]
async fn client_secret_basic_form_encodes_id_and_secret_in_the_header() {
    let (endpoint, log) = token_endpoint().await;
    let secret = SecretString::from("s3cr:t/+ é");
    let answer = exchange(&endpoint, ClientAuth::Basic(&secret), "c-1")
        .await
        .unwrap();
    assert_eq!(answer.access_token, "at-1");
    assert_eq!(answer.token_type, "Bearer");
    assert_eq!(answer.id_token.as_deref(), Some("a.b.c"));
    assert_eq!(answer.scope.as_deref(), Some("openid email"));
    let seen = log.lock().unwrap();
    // RFC 6749 2.3.1: form-urlencoded, then joined by `:`, then base64.
    let credentials = STANDARD.encode("portal+client%3A1:s3cr%3At%2F%2B+%C3%A9");
    assert_eq!(seen[0].authorization, Some(format!("Basic {credentials}")));
    assert_eq!(seen[0].accept.as_deref(), Some("application/json"));
    // The secret is in the header only, the id too.
    assert_eq!(seen[0].form, form(&GRANT));
}

#[tokio::test]
async fn client_secret_post_sends_id_and_secret_in_the_form() {
    let (endpoint, log) = token_endpoint().await;
    let secret = SecretString::from("s3cret");
    exchange(&endpoint, ClientAuth::Post(&secret), "c-1")
        .await
        .unwrap();
    let seen = log.lock().unwrap();
    assert_eq!(seen[0].authorization, None);
    let mut expected = GRANT.to_vec();
    expected.extend([
        ("client_id", "portal client:1"),
        ("client_secret", "s3cret"),
    ]);
    assert_eq!(seen[0].form, form(&expected));
}

#[tokio::test]
async fn a_public_client_sends_its_id_and_no_secret() {
    let (endpoint, log) = token_endpoint().await;
    exchange(&endpoint, ClientAuth::None, "c-1").await.unwrap();
    let seen = log.lock().unwrap();
    assert_eq!(seen[0].authorization, None);
    let mut expected = GRANT.to_vec();
    expected.push(("client_id", "portal client:1"));
    assert_eq!(seen[0].form, form(&expected));
}

#[tokio::test]
async fn an_oauth_error_is_token_refused_with_its_code_whatever_the_status() {
    // RFC 6749 5.2
    let (endpoint, _) = token_endpoint().await;
    let answer = exchange(&endpoint, ClientAuth::None, "used").await;
    assert!(
        matches!(&answer, Err(UpstreamError::TokenRefused(e)) if e == "invalid_grant"),
        "{answer:?}"
    );
    let answer = exchange(&endpoint, ClientAuth::None, "github-used").await;
    assert!(
        matches!(&answer, Err(UpstreamError::TokenRefused(e)) if e == "bad_verification_code"),
        "{answer:?}"
    );
    let answer = exchange(&endpoint, ClientAuth::None, "broken").await;
    assert!(
        matches!(&answer, Err(UpstreamError::Unreachable(m)) if m.contains("502")),
        "{answer:?}"
    );
}

#[test]
fn a_token_answer_prints_no_token() {
    let answer = TokenAnswer {
        access_token: "at-secret".into(),
        token_type: "Bearer".into(),
        id_token: Some("id-secret".into()),
        scope: None,
    };
    let printed = format!("{answer:?}");
    assert!(!printed.contains("at-secret") && !printed.contains("id-secret"));
    assert!(printed.contains("Bearer"));
}

/// A userinfo endpoint that knows one access token, and a JWT-answering one.
async fn userinfo_endpoint() -> String {
    async fn claims(headers: HeaderMap) -> axum::response::Response {
        match headers.get("authorization").map(|v| v.to_str().unwrap()) {
            Some("Bearer at-1") => {
                json(json!({"sub": "u-42", "email": "ada@example.com"})).into_response()
            }
            _ => StatusCode::UNAUTHORIZED.into_response(),
        }
    }
    serve(|_| {
        Router::new()
            .route("/userinfo", get(claims))
            .route(
                "/signed",
                get(|| async { ([(CONTENT_TYPE, "application/jwt")], "a.b.c") }),
            )
            .route("/list", get(|| async { json(json!(["sub", "u-42"])) }))
    })
    .await
}

#[tokio::test]
async fn userinfo_returns_the_claims_for_the_access_token() {
    let base = userinfo_endpoint().await;
    let url = Url::parse(&format!("{base}/userinfo")).unwrap();
    let claims = userinfo(&http_client().unwrap(), &url, "at-1")
        .await
        .unwrap();
    assert_eq!(claims["sub"], "u-42");
    assert_eq!(claims["email"], "ada@example.com");
    let answer = userinfo(&http_client().unwrap(), &url, "at-other").await;
    assert!(
        matches!(&answer, Err(UpstreamError::Unreachable(m)) if m.contains("401")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn userinfo_takes_a_json_object_only() {
    let base = userinfo_endpoint().await;
    for path in ["signed", "list"] {
        let url = Url::parse(&format!("{base}/{path}")).unwrap();
        let answer = userinfo(&http_client().unwrap(), &url, "at-1").await;
        assert!(
            matches!(answer, Err(UpstreamError::Garbage(_))),
            "{path}: {answer:?}"
        );
    }
}
