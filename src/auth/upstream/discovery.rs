//! A provider's metadata (OIDC Discovery 1.0) and its signing keys (its JWK Set). A
//! provider without discovery (GitHub) is described by a `ProviderMetadata` the caller
//! builds by hand. Every call here asks the provider; `cache` keeps the answers a while.
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
    discover_at(http, issuer, |stated| stated == issuer).await
}

/// Reads the metadata published under `base`, whose stated issuer `accepts` must allow:
/// for a provider whose issuer is not its discovery URL (Microsoft's `common` publishes
/// `…/{tenantid}/v2.0`, a tenant named by domain publishes its id).
pub async fn discover_at(
    http: &reqwest::Client,
    base: &str,
    accepts: impl Fn(&str) -> bool,
) -> Result<ProviderMetadata, UpstreamError> {
    let metadata = read_metadata(http, &discovery_url(base)?).await?;
    check_issuer(&metadata, accepts)?;
    Ok(metadata)
}

/// The stated issuer is one `accepts` allows. Apart from reading, so that metadata kept
/// by `cache` is held to each provider's rule on every use.
pub fn check_issuer(
    metadata: &ProviderMetadata,
    accepts: impl Fn(&str) -> bool,
) -> Result<(), UpstreamError> {
    if accepts(&metadata.issuer) {
        Ok(())
    } else {
        Err(UpstreamError::IssuerMismatch)
    }
}

/// The metadata at `url` (a `discovery_url`), every endpoint in it checked; its issuer is
/// not yet held to anything (`check_issuer`).
pub async fn read_metadata(
    http: &reqwest::Client,
    url: &Url,
) -> Result<ProviderMetadata, UpstreamError> {
    let document: Document = get_json(http, url, "discovery").await?;
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
