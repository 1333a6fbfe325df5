//! The code flow's two legs on the wire: the authorization request the browser is sent
//! with (RFC 6749 §4.1.1 with PKCE), and, once it is back, the callback's issuer check
//! (RFC 9207), the code exchange (§4.1.3) and the userinfo request (OIDC Core §5.3).
use std::fmt;

use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::form_urlencoded::byte_serialize;
use url::Url;

use super::{json_answer, parse_json, read_body, require_secure, send, UpstreamError};

/// Parameters this module sets; an `extra` of the same name is left out, so that what
/// binds the request (state, nonce, PKCE) cannot be overridden by configuration.
const PROTOCOL_PARAMS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

pub struct AuthorizationRequest<'a> {
    pub authorization_endpoint: &'a Url,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [&'a str],
    pub state: &'a str,
    /// `None` for a plain OAuth 2 provider, which issues no ID token.
    pub nonce: Option<&'a str>,
    /// `pkce::code_challenge` of the pending sign-in's verifier.
    pub code_challenge: &'a str,
    /// A provider's own parameters: `response_mode=form_post` (Apple), `prompt`, …
    pub extra: &'a [(&'a str, &'a str)],
}

/// Where to send the browser: the endpoint with its own query kept (some providers put a
/// tenant or policy there), then ours, `response_type=code` and S256 PKCE.
pub fn authorization_url(request: &AuthorizationRequest<'_>) -> Url {
    let mut url = request.authorization_endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", request.client_id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("scope", &request.scopes.join(" "))
            .append_pair("state", request.state);
        if let Some(nonce) = request.nonce {
            query.append_pair("nonce", nonce);
        }
        query
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("code_challenge_method", "S256");
        for (name, value) in request.extra {
            if !PROTOCOL_PARAMS.contains(name) {
                query.append_pair(name, value);
            }
        }
    }
    url
}

/// RFC 9207 §2.4: the callback's `iss` must be the provider's issuer; a provider that
/// says it sends `iss` and did not is refused too, since a mix-up attacker would drop it.
pub fn check_callback_issuer(
    iss: Option<&str>,
    metadata_issuer: &str,
    iss_parameter_supported: bool,
) -> Result<(), UpstreamError> {
    match iss {
        Some(iss) if iss == metadata_issuer => Ok(()),
        Some(_) => Err(UpstreamError::IssuerMismatch),
        None if iss_parameter_supported => Err(UpstreamError::IssuerMismatch),
        None => Ok(()),
    }
}

/// How the client proves itself to the token endpoint (its registered
/// `token_endpoint_auth_method`). The secret is in the variant that needs it, so a
/// confidential method without one cannot be asked for.
#[derive(Clone, Copy)]
pub enum ClientAuth<'a> {
    /// `client_secret_basic`
    Basic(&'a SecretString),
    /// `client_secret_post`
    Post(&'a SecretString),
    /// `none`: a public client, which PKCE alone protects.
    None,
}

pub struct Client<'a> {
    pub id: &'a str,
    pub auth: ClientAuth<'a>,
}

/// The token endpoint's answer. `Debug` prints no token.
pub struct TokenAnswer {
    pub access_token: String,
    pub token_type: String,
    /// Present for OpenID Connect; check it with `id_token::verify_id_token`.
    pub id_token: Option<String>,
    /// The scopes granted, when the provider says (RFC 6749 §5.1).
    pub scope: Option<String>,
}

impl fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"..")
            .field("token_type", &self.token_type)
            .field("id_token", &self.id_token.as_ref().map(|_| ".."))
            .field("scope", &self.scope)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawTokenAnswer {
    access_token: String,
    token_type: String,
    id_token: Option<String>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
}

const TOKEN: &str = "token endpoint";

/// Exchanges `code` (RFC 6749 §4.1.3, with RFC 7636 §4.5's verifier). Asks for JSON,
/// since GitHub answers form-encoded otherwise.
pub async fn exchange_code(
    http: &reqwest::Client,
    token_endpoint: &Url,
    client: &Client<'_>,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
) -> Result<TokenAnswer, UpstreamError> {
    require_secure(token_endpoint, TOKEN)?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", code_verifier),
    ];
    let mut request = http.post(token_endpoint.clone());
    match client.auth {
        // RFC 6749 §2.3.1: each is form-urlencoded before they are joined and encoded,
        // so a `:` in the id cannot end it early. reqwest marks the header sensitive.
        ClientAuth::Basic(secret) => {
            request = request.basic_auth(
                form_encode(client.id),
                Some(form_encode(secret.expose_secret())),
            );
        }
        ClientAuth::Post(secret) => {
            form.push(("client_id", client.id));
            form.push(("client_secret", secret.expose_secret()));
        }
        ClientAuth::None => form.push(("client_id", client.id)),
    }
    let response = send(request.form(&form), TOKEN).await?;
    let status = response.status();
    let body = read_body(response, TOKEN).await?;
    // RFC 6749 §5.2 says 400; GitHub says 200. The body decides, whatever the status.
    if let Ok(refused) = serde_json::from_slice::<OAuthError>(&body) {
        return Err(UpstreamError::TokenRefused(printable_error(refused.error)));
    }
    if !status.is_success() {
        return Err(UpstreamError::Unreachable(format!(
            "{TOKEN} answered {status}"
        )));
    }
    let answer: RawTokenAnswer = parse_json(&body, TOKEN)?;
    Ok(TokenAnswer {
        access_token: answer.access_token,
        token_type: answer.token_type,
        id_token: answer.id_token,
        scope: answer.scope,
    })
}

fn form_encode(value: &str) -> String {
    byte_serialize(value.as_bytes()).collect()
}

/// The `error` code as RFC 6749 §5.2 allows it (printable ASCII but `"` and `\`, short):
/// anything else is the provider's text, which goes into no log.
fn printable_error(error: String) -> String {
    let allowed = |c: char| matches!(c, ' '..='!' | '#'..='[' | ']'..='~');
    if !error.is_empty() && error.len() <= 64 && error.chars().all(allowed) {
        error
    } else {
        "an error code that is not RFC 6749's".into()
    }
}

/// The claims OIDC Core §5.3 returns for `access_token`. Only a JSON object is taken; a
/// signed or encrypted answer (`application/jwt`) is `Garbage`. Its `sub` must be the ID
/// token's before any of it is believed (§5.3.2): that is the caller's, who holds both.
pub async fn userinfo(
    http: &reqwest::Client,
    endpoint: &Url,
    access_token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, UpstreamError> {
    const WHAT: &str = "userinfo";
    require_secure(endpoint, WHAT)?;
    let response = send(http.get(endpoint.clone()).bearer_auth(access_token), WHAT).await?;
    let is_jwt = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/jwt"));
    if is_jwt && response.status().is_success() {
        return Err(UpstreamError::Garbage(format!(
            "{WHAT} answered a JWT; only JSON is taken"
        )));
    }
    json_answer(response, WHAT).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_code_outside_rfc_6749s_characters_is_not_carried() {
        assert_eq!(printable_error("invalid_grant".into()), "invalid_grant");
        assert_eq!(
            printable_error("bad\nlog line".into()),
            "an error code that is not RFC 6749's"
        );
    }
}
