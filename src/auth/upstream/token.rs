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

    use super::super::{http_client, testing::json, testing::serve};
    use super::*;

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
    fn an_error_code_outside_rfc_6749s_characters_is_not_carried() {
        assert_eq!(printable_error("invalid_grant".into()), "invalid_grant");
        assert_eq!(
            printable_error("bad\nlog line".into()),
            "an error code that is not RFC 6749's"
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
}
