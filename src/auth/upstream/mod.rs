//! Signing people in with an upstream OpenID Connect or OAuth 2 provider: Portcullis as a
//! relying party. `discovery` reads the provider's metadata and keys, `pkce` makes the
//! values a pending sign-in keeps (state, nonce, code verifier), `token` builds the
//! authorization request and exchanges the code, `id_token` checks what comes back.
//!
//! Pure protocol over plain structs: which providers are configured, where a pending
//! sign-in is kept and which account an upstream subject becomes are the caller's.
//!
//! Every call goes through [`http_client`] and the rules here: https only (http is allowed
//! on a loopback host alone, where tests and local providers run), no redirects, bounded
//! time and bounded answers, since a provider is a third party we must not hang on.
pub mod apple;
pub mod cache;
pub mod discovery;
pub mod github;
pub mod id_token;
pub mod microsoft;
pub mod pkce;
pub mod token;

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT};
use serde::de::DeserializeOwned;
use url::Url;

/// A provider that does not accept a connection in this long is down for this sign-in.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The whole request, body included: a person is waiting on the callback page.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// No metadata, key set, token or userinfo answer is near this; larger is an attack or a
/// misconfigured URL, and is refused before it is held in memory.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The provider could not be asked: connect error, timeout, non-2xx answer. Says which
    /// call (discovery, jwks, token, userinfo).
    #[error("the provider's {0}")]
    Unreachable(String),
    /// An answer that is not what the protocol says it is: not the JSON expected, too
    /// large, an endpoint that is not https.
    #[error("the provider's answer is unusable: {0}")]
    Garbage(String),
    /// The provider is not the one configured: discovery's `issuer`, the callback's `iss`
    /// (RFC 9207) or the ID token's `iss` differs.
    #[error("the provider's issuer is not the configured one")]
    IssuerMismatch,
    /// The token endpoint answered an OAuth error (RFC 6749 §5.2); carries its `error` code.
    #[error("the provider refused the code: {0}")]
    TokenRefused(String),
    /// The ID token fails one of OIDC Core §3.1.3.7's checks; says which.
    #[error("the provider's ID token is invalid: {0}")]
    IdTokenInvalid(String),
}

/// The client every upstream call uses: connect timeout 3 s, whole request 5 s, no
/// redirects followed (a redirect is an answer we refuse, not one we chase), user agent
/// `Portcullis`. Build it once and share it: it pools connections.
pub fn http_client() -> Result<reqwest::Client, UpstreamError> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Portcullis")
        .build()
        .map_err(|e| UpstreamError::Unreachable(format!("HTTP client cannot be built: {e}")))
}

/// https, or http on a loopback host (127.0.0.0/8, ::1, `localhost`), where nothing can
/// be read or changed on the wire.
fn require_secure(url: &Url, what: &str) -> Result<(), UpstreamError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::domain::is_loopback_host(url) => Ok(()),
        _ => Err(UpstreamError::Garbage(format!(
            "{what} is not an https URL"
        ))),
    }
}

/// Sends `request` (to a URL already through `require_secure`). Only the kind of failure
/// is kept: reqwest's text carries the URL, which may hold what a log should not.
async fn send(
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<reqwest::Response, UpstreamError> {
    request
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .send()
        .await
        .map_err(|e| as_unreachable(&e, what))
}

fn as_unreachable(e: &reqwest::Error, what: &str) -> UpstreamError {
    let how = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "refused the connection"
    } else {
        "failed mid-request"
    };
    UpstreamError::Unreachable(format!("{what} {how}"))
}

/// The body, at most `MAX_ANSWER_BYTES`. Content-Length is a claim, not a limit: the body
/// is counted as it arrives, so a chunked or lying answer stops at the same size.
async fn read_body(mut response: reqwest::Response, what: &str) -> Result<Vec<u8>, UpstreamError> {
    let too_large = || UpstreamError::Garbage(format!("{what} answered more than 1 MiB"));
    if response
        .content_length()
        .is_some_and(|len| len > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| as_unreachable(&e, what))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, UpstreamError> {
    // serde's message names the position and expectation, never the body's text.
    serde_json::from_slice(body)
        .map_err(|e| UpstreamError::Garbage(format!("{what} is not the JSON expected: {e}")))
}

/// GET `url` for a JSON document (see `json_answer`).
async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
    what: &str,
) -> Result<T, UpstreamError> {
    require_secure(url, what)?;
    json_answer(send(http.get(url.clone()), what).await?, what).await
}

/// GET `url` with the access token (RFC 6750 §2.1) for a JSON document of type `T`.
async fn get_bearer_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
    access_token: &str,
    what: &str,
) -> Result<T, UpstreamError> {
    require_secure(url, what)?;
    let request = http.get(url.clone()).bearer_auth(access_token);
    json_answer(send(request, what).await?, what).await
}

/// A non-2xx answer is `Unreachable` (a redirect included: none is followed), a body that
/// is not `T` is `Garbage`.
async fn json_answer<T: DeserializeOwned>(
    response: reqwest::Response,
    what: &str,
) -> Result<T, UpstreamError> {
    let status = response.status();
    if !status.is_success() {
        return Err(UpstreamError::Unreachable(format!(
            "{what} answered {status}"
        )));
    }
    parse_json(&read_body(response, what).await?, what)
}

/// A local provider for the tests: a real server on 127.0.0.1, port 0.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_http_on_loopback_is_allowed() {
        let allowed = [
            "https://login.example.com/token",
            "http://127.0.0.1:8080/token",
            "http://127.0.0.2/token",
            "http://[::1]:9000/token",
            "http://localhost/token",
        ];
        for url in allowed {
            assert!(
                require_secure(&Url::parse(url).unwrap(), "x").is_ok(),
                "{url}"
            );
        }
        let refused = [
            "http://login.example.com/token",
            "http://10.0.0.1/token",
            "http://localhost.example.com/token",
            "ftp://127.0.0.1/token",
        ];
        for url in refused {
            assert!(
                matches!(
                    require_secure(&Url::parse(url).unwrap(), "x"),
                    Err(UpstreamError::Garbage(_))
                ),
                "{url}"
            );
        }
    }
}
