//! A provider's metadata (OIDC Discovery 1.0) and its signing keys (its JWK Set). A
//! provider without discovery (GitHub) is described by a `ProviderMetadata` the caller
//! builds by hand.
use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Deserialize;
use url::Url;

use super::{get_json, require_secure, UpstreamError};

/// What a sign-in needs to know of a provider. Every URL in it is https, or http on a
/// loopback host.
#[derive(Debug, Clone)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Url,
    /// RFC 9207 `authorization_response_iss_parameter_supported`: the callback then
    /// carries `iss`, and its absence is refused (`token::check_callback_issuer`).
    pub iss_parameter_supported: bool,
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Discovery §3's default when the provider says nothing: `client_secret_basic`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// The document as published; checked into `ProviderMetadata`.
#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    userinfo_endpoint: Option<Url>,
    jwks_uri: Url,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// Where `issuer`'s metadata is (Discovery §4.1): a terminating `/` is removed before the
/// well-known path is appended, so an issuer with a path keeps it.
pub fn discovery_url(issuer: &str) -> Result<Url, UpstreamError> {
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    let url = Url::parse(&format!("{base}/.well-known/openid-configuration"))
        .map_err(|_| UpstreamError::Garbage("the issuer is not a URL".into()))?;
    require_secure(&url, "issuer")?;
    Ok(url)
}

/// Reads `issuer`'s metadata. The `issuer` it states must be the configured one exactly
/// (Discovery §4.3: this is what stops one provider posing as another), and every endpoint
/// must be https, or http only when its host is loopback.
pub async fn discover(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<ProviderMetadata, UpstreamError> {
    let document: Document = get_json(http, &discovery_url(issuer)?, "discovery").await?;
    if document.issuer != issuer {
        return Err(UpstreamError::IssuerMismatch);
    }
    require_secure(&document.authorization_endpoint, "authorization_endpoint")?;
    require_secure(&document.token_endpoint, "token_endpoint")?;
    require_secure(&document.jwks_uri, "jwks_uri")?;
    if let Some(userinfo) = &document.userinfo_endpoint {
        require_secure(userinfo, "userinfo_endpoint")?;
    }
    Ok(ProviderMetadata {
        issuer: document.issuer,
        authorization_endpoint: document.authorization_endpoint,
        token_endpoint: document.token_endpoint,
        userinfo_endpoint: document.userinfo_endpoint,
        jwks_uri: document.jwks_uri,
        iss_parameter_supported: document.authorization_response_iss_parameter_supported,
        id_token_signing_alg_values_supported: document.id_token_signing_alg_values_supported,
        token_endpoint_auth_methods_supported: document
            .token_endpoint_auth_methods_supported
            .unwrap_or_else(|| vec!["client_secret_basic".into()]),
    })
}

/// The provider's signing keys. A key this library cannot read (an unknown `kty` or `alg`,
/// an encryption key of a kind it does not know) is left out rather than failing the set:
/// providers publish such keys beside the ones that sign ID tokens.
pub async fn fetch_jwks(http: &reqwest::Client, jwks_uri: &Url) -> Result<JwkSet, UpstreamError> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let raw: RawSet = get_json(http, jwks_uri, "jwks").await?;
    let keys = raw
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
        .collect();
    Ok(JwkSet { keys })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Router;
    use serde_json::json;

    use super::super::{http_client, testing::json, testing::serve};
    use super::*;

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
                        let chunks =
                            (0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024]));
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
}
