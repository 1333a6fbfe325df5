use std::time::{Duration, Instant};

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::testing::{json, serve};
use portcullis::auth::upstream::discovery::*;
use portcullis::auth::upstream::http_client;
use portcullis::auth::upstream::UpstreamError;
use url::Url;

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

fn document(issuer: &str, base: &str) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize?tenant=a"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "authorization_response_iss_parameter_supported": true,
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"]
    })
}

/// A provider whose discovery document is `doc(base)`.
async fn provider(doc: fn(&str) -> serde_json::Value) -> String {
    serve(|base| {
        let body = doc(base);
        Router::new().route(WELL_KNOWN, get(move || async move { json(body) }))
    })
    .await
}

#[tokio::test]
async fn discovery_reads_the_metadata_of_the_configured_issuer() {
    let issuer = provider(|base| document(base, base)).await;
    let metadata = discover(&http_client().unwrap(), &issuer).await.unwrap();
    assert_eq!(metadata.issuer, issuer);
    assert_eq!(
        metadata.authorization_endpoint.as_str(),
        format!("{issuer}/authorize?tenant=a")
    );
    assert_eq!(metadata.token_endpoint.as_str(), format!("{issuer}/token"));
    assert_eq!(metadata.jwks_uri.as_str(), format!("{issuer}/jwks"));
    assert!(metadata.iss_parameter_supported);
    assert_eq!(
        metadata.id_token_signing_alg_values_supported,
        ["RS256", "ES256"]
    );
    // Discovery §3: unstated, the token endpoint takes client_secret_basic.
    assert_eq!(
        metadata.token_endpoint_auth_methods_supported,
        ["client_secret_basic"]
    );
}

#[test]
fn an_issuer_with_a_path_keeps_it_and_loses_its_trailing_slash() {
    // OIDC Discovery 4.1
    assert_eq!(
        discovery_url("https://login.example.com/tenant/v2.0/")
            .unwrap()
            .as_str(),
        "https://login.example.com/tenant/v2.0/.well-known/openid-configuration"
    );
    assert_eq!(
        discovery_url("https://accounts.example.com")
            .unwrap()
            .as_str(),
        "https://accounts.example.com/.well-known/openid-configuration"
    );
}

#[tokio::test]
async fn another_issuer_in_the_document_is_refused() {
    // OIDC Discovery 4.3: the issuer must be identical to the one configured.
    let issuer = provider(|base| document("https://evil.example.com", base)).await;
    let answer = discover(&http_client().unwrap(), &issuer).await;
    assert!(matches!(answer, Err(UpstreamError::IssuerMismatch)));
    // Not even a trailing slash of difference.
    let issuer = provider(|base| document(&format!("{base}/"), base)).await;
    let answer = discover(&http_client().unwrap(), &issuer).await;
    assert!(matches!(answer, Err(UpstreamError::IssuerMismatch)));
}

#[tokio::test]
async fn a_plain_http_endpoint_off_loopback_is_refused() {
    let issuer = provider(|base| {
        let mut doc = document(base, base);
        doc["token_endpoint"] = "http://login.example.com/token".into();
        doc
    })
    .await;
    let answer = discover(&http_client().unwrap(), &issuer).await;
    assert!(
        matches!(&answer, Err(UpstreamError::Garbage(m)) if m.contains("token_endpoint")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_configured_plain_http_issuer_off_loopback_is_refused_unasked() {
    let answer = discover(&http_client().unwrap(), "http://login.example.com").await;
    assert!(matches!(answer, Err(UpstreamError::Garbage(m)) if m.contains("issuer")));
}

#[tokio::test]
async fn a_document_that_is_not_json_is_garbage() {
    let issuer = serve(|_| {
        Router::new().route(
            WELL_KNOWN,
            get(|| async { ([(CONTENT_TYPE, "text/html")], "<html>sign in</html>") }),
        )
    })
    .await;
    let answer = discover(&http_client().unwrap(), &issuer).await;
    assert!(
        matches!(answer, Err(UpstreamError::Garbage(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_missing_document_is_unreachable() {
    let issuer = serve(|_| Router::new()).await;
    let answer = discover(&http_client().unwrap(), &issuer).await;
    assert!(
        matches!(&answer, Err(UpstreamError::Unreachable(m)) if m.contains("404")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let issuer = serve(|_| {
        Router::new().route(
            WELL_KNOWN,
            get(|| async { axum::response::Redirect::temporary("https://example.com/") }),
        )
    })
    .await;
    let answer = discover(&http_client().unwrap(), &issuer).await;
    assert!(
        matches!(&answer, Err(UpstreamError::Unreachable(m)) if m.contains("307")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn an_answer_over_one_mebibyte_is_garbage_with_or_without_its_length() {
    // Starts as valid JSON, so only the size can be what refuses it.
    let padded = || format!("{{\"issuer\": \"{}\"}}", "a".repeat(1024 * 1024));
    let issuer = serve(move |_| {
        Router::new()
            .route(WELL_KNOWN, get(move || async move { padded() }))
            .route(
                "/chunked/.well-known/openid-configuration",
                get(move || async move {
                    // A stream has no Content-Length: only counting can stop it.
                    let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024]));
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
                        .into_response()
                }),
            )
    })
    .await;
    let http = http_client().unwrap();
    for issuer in [issuer.clone(), format!("{issuer}/chunked")] {
        let answer = discover(&http, &issuer).await;
        assert!(
            matches!(&answer, Err(UpstreamError::Garbage(m)) if m.contains("1 MiB")),
            "{issuer}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn a_provider_that_never_answers_is_unreachable_within_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and holds every connection, and never writes a byte.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let answer = discover(&http_client().unwrap(), &issuer).await;
    let waited = started.elapsed();
    assert!(
        matches!(&answer, Err(UpstreamError::Unreachable(m)) if m.contains("timed out")),
        "{answer:?}"
    );
    assert!(waited <= Duration::from_secs(6), "waited {waited:?}");
}

#[tokio::test]
async fn the_key_set_keeps_the_keys_it_can_read() {
    let jwks_uri = serve(|_| {
        Router::new().route(
            "/jwks",
            get(|| async {
                json(json!({"keys": [
                    {"kty": "RSA", "kid": "r1", "alg": "RS256", "use": "sig",
                     "n": "sXch", "e": "AQAB"},
                    {"kty": "EC", "kid": "e1", "crv": "P-256", "x": "f83O", "y": "x_FE"},
                    // Not a key type this library has: skipped, not fatal.
                    {"kty": "ML-DSA", "kid": "pq1", "pub": "abcd"}
                ]}))
            }),
        )
    })
    .await;
    let url = Url::parse(&format!("{jwks_uri}/jwks")).unwrap();
    let set = fetch_jwks(&http_client().unwrap(), &url).await.unwrap();
    let kids: Vec<_> = set
        .keys
        .iter()
        .map(|k| k.common.key_id.as_deref().unwrap())
        .collect();
    assert_eq!(kids, ["r1", "e1"]);
}

#[tokio::test]
async fn a_key_set_without_keys_is_garbage() {
    let base =
        serve(|_| Router::new().route("/jwks", get(|| async { json(json!({"issuer": "x"})) })))
            .await;
    let url = Url::parse(&format!("{base}/jwks")).unwrap();
    let answer = fetch_jwks(&http_client().unwrap(), &url).await;
    assert!(
        matches!(&answer, Err(UpstreamError::Garbage(m)) if m.contains("jwks")),
        "{answer:?}"
    );
}
