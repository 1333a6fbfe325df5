//! The authorization endpoint (RFC 6749 §4.1.1 with PKCE, OpenID Connect Core §3.1.2): a
//! request checked, then a code at once when the browser may have one, an error back to
//! the client, or the request parked for the consent page.
use serde::{Deserialize, Serialize};

use crate::auth::starts::Start;
use crate::clock::Millis;
use crate::domain::oauth::{self, join_scopes, parse_scopes};
use crate::store;
use crate::store::oauth_clients::ClientRecord;
use crate::store::oauth_grants::{self, Kind, NewPending};

use super::error::{OAuthCode, OidcError};
use super::par;
use super::pending::{CodeForExchange, WaitingForConsent};
use super::{hash, random_token, Provider};

/// How long a code may wait for its exchange (RFC 6749 §4.1.2 says at most 10 minutes).
const CODE_TTL_MS: Millis = 60_000;
/// How long the user has to sign in and consent.
const REQUEST_TTL_MS: Millis = 10 * 60_000;
/// The web app's page that signs the user in and asks for consent.
pub const CONSENT_PAGE: &str = "/oauth/consent";

/// The query of `/authorize`, as given (or as pushed: `par`).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    /// The languages the end user prefers, best first (OIDC Core §3.1.2.1); handed to the
    /// web app's pages, which speak the first they know.
    pub ui_locales: Option<String>,
    /// Seconds: a sign-in older than this must be made again (OIDC Core §3.1.2.1).
    pub max_age: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// The browser's session, when it has one.
#[derive(Clone, Debug)]
pub struct Browser {
    pub user_id: i64,
    pub session_id: String,
}

/// Where `/authorize` sends the browser next.
#[derive(Debug)]
pub enum Next {
    /// Back to the client, with a code or an error.
    ToClient(String),
    /// To the web app's consent page, with this request token and the languages asked for.
    ToConsent {
        token: String,
        ui_locales: Option<String>,
    },
}

/// The language tags of `ui_locales` that look like tags (BCP 47's letters, digits and
/// hyphens), at most eight: what passes on to the web app's URL.
fn language_tags(ui_locales: Option<&str>) -> Option<String> {
    let tags: Vec<&str> = ui_locales?
        .split(' ')
        .filter(|t| {
            (1..=35).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .take(8)
        .collect();
    (!tags.is_empty()).then(|| tags.join(" "))
}

/// `GET /authorize`: checks the request and answers with a code at once when the browser is
/// signed in and the user consented before; otherwise parks it for the consent page.
pub async fn authorize(
    p: &Provider<'_>,
    params: AuthorizeParams,
    browser: Option<Browser>,
    ip: std::net::IpAddr,
) -> Result<Next, OidcError> {
    let client_id = params
        .client_id
        .clone()
        .ok_or_else(|| OidcError::NoRedirect("client_id is missing".into()))?;
    let client = p
        .client(&client_id)
        .await?
        .ok_or_else(|| OidcError::NoRedirect("unknown client_id".into()))?;
    // A pushed request is the whole request: what else the query says is not looked at
    // (RFC 9126 §4).
    let pushed = params.request_uri.is_some();
    let params = match params.request_uri.as_deref() {
        Some(uri) => par::take(p, &client_id, uri).await?.ok_or_else(|| {
            OidcError::NoRedirect(
                "request_uri is unknown, expired, already used, or another client's".into(),
            )
        })?,
        None => params,
    };
    let redirect_uri = params
        .redirect_uri
        .clone()
        .ok_or_else(|| OidcError::NoRedirect("redirect_uri is missing".into()))?;
    if !client.redirect_uris.contains(&redirect_uri) {
        return Err(OidcError::NoRedirect(
            "redirect_uri is not one registered for this client".into(),
        ));
    }
    let back = Back {
        redirect_uri: &redirect_uri,
        state: params.state.as_deref(),
        issuer: p.issuer,
    };
    if client.require_par && !pushed {
        return Ok(Next::ToClient(back.error(
            OAuthCode::InvalidRequest,
            "this client must push its authorization requests (PAR)",
        )));
    }
    let pending = match check_request(&client, &params, p.sessions.clock.now_ms()) {
        Ok(pending) => pending,
        Err((code, description)) => return Ok(Next::ToClient(back.error(code, &description))),
    };
    let prompt_none = prompt_has(&params, "none");
    if let Some(browser) = &browser {
        if ready_for_code(p, &client, &pending, browser).await? {
            let code = issue_code(p, pending, browser).await?;
            return Ok(Next::ToClient(back.code(&code)));
        }
    }
    if prompt_none {
        let code = match &browser {
            Some(b) if signed_in_after(p, b, pending.login_after).await? => {
                OAuthCode::ConsentRequired
            }
            _ => OAuthCode::LoginRequired,
        };
        return Ok(Next::ToClient(back.error(code, "the user must be asked")));
    }
    // Only now is something stored, for anyone who asks: bounded per address.
    p.starts
        .admit(Start::AuthorizationRequest, ip)
        .map_err(OidcError::TooManyRequests)?;
    let token = random_token();
    let now = p.sessions.clock.now_ms();
    oauth_grants::create(
        p.sessions.db,
        NewPending {
            kind: Kind::Request,
            token_hash: &hash(&token),
            client_id: &client.client_id,
            user_id: None,
            request: &serde_json::to_string(&pending).map_err(anyhow::Error::from)?,
            expires_at: now + REQUEST_TTL_MS,
        },
        now,
    )
    .await?;
    Ok(Next::ToConsent {
        token,
        ui_locales: language_tags(params.ui_locales.as_deref()),
    })
}

/// The rules a request must meet once its client and redirect URI are known; a breach is
/// reported to the client as `(error, description)`.
pub(super) fn check_request(
    client: &ClientRecord,
    params: &AuthorizeParams,
    now: Millis,
) -> Result<WaitingForConsent, (OAuthCode, String)> {
    if params.request.is_some() {
        return Err((
            OAuthCode::RequestNotSupported,
            "request objects are not supported".into(),
        ));
    }
    if params.request_uri.is_some() {
        return Err((
            OAuthCode::RequestUriNotSupported,
            "request_uri is not supported".into(),
        ));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return Err((OAuthCode::InvalidRequest, "response_type is missing".into())),
        Some(_) => {
            return Err((
                OAuthCode::UnsupportedResponseType,
                "only response_type=code is supported".into(),
            ))
        }
    }
    if params
        .response_mode
        .as_deref()
        .is_some_and(|m| m != "query")
    {
        return Err((
            OAuthCode::InvalidRequest,
            "only response_mode=query is supported".into(),
        ));
    }
    let scopes = parse_scopes(params.scope.as_deref().unwrap_or_default())
        .map_err(|e| (OAuthCode::InvalidScope, e))?;
    if !scopes.contains(&"openid") {
        return Err((OAuthCode::InvalidScope, "scope must include openid".into()));
    }
    if let Some(extra) = scopes
        .iter()
        .find(|s| !client.scopes.iter().any(|c| c == *s))
    {
        return Err((
            OAuthCode::InvalidScope,
            format!("the client may not ask for {extra}"),
        ));
    }
    let challenge = params.code_challenge.as_deref();
    match (challenge, params.code_challenge_method.as_deref()) {
        (None, None) if !client.public => {}
        (None, _) => {
            return Err((
                OAuthCode::InvalidRequest,
                "code_challenge (S256) is required for this client".into(),
            ))
        }
        (Some(c), Some("S256")) if oauth::valid_challenge(c) => {}
        (Some(_), Some("S256")) => {
            return Err((
                OAuthCode::InvalidRequest,
                "code_challenge is not an S256 value".into(),
            ))
        }
        // RFC 9700 §2.1.1: "plain" gives no protection where it would matter.
        (Some(_), _) => {
            return Err((
                OAuthCode::InvalidRequest,
                "code_challenge_method must be S256".into(),
            ))
        }
    }
    for (name, value) in [("state", &params.state), ("nonce", &params.nonce)] {
        if value.as_deref().is_some_and(|v| v.len() > 512) {
            return Err((
                OAuthCode::InvalidRequest,
                format!("{name} is longer than 512 characters"),
            ));
        }
    }
    let prompts: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if prompts
        .iter()
        .any(|p| !matches!(*p, "none" | "login" | "consent"))
    {
        return Err((
            OAuthCode::InvalidRequest,
            "prompt may be none, login or consent".into(),
        ));
    }
    if prompts.contains(&"none") && prompts.len() > 1 {
        return Err((OAuthCode::InvalidRequest, "prompt=none goes alone".into()));
    }
    // The OP MUST re-authenticate a sign-in older than max_age: it is prompt=login for
    // those, and max_age=0 is prompt=login always.
    let max_age = match params.max_age.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<u32>() {
            Ok(secs) => Some(now - i64::from(secs) * 1000),
            Err(_) => {
                return Err((
                    OAuthCode::InvalidRequest,
                    "max_age must be a whole number of seconds".into(),
                ))
            }
        },
    };
    let login_after = match (prompts.contains(&"login").then_some(now), max_age) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    Ok(WaitingForConsent {
        client_id: client.client_id.clone(),
        redirect_uri: params.redirect_uri.clone().unwrap_or_default(),
        scope: join_scopes(&scopes),
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge: challenge.map(String::from),
        login_after,
        prompt_consent: prompts.contains(&"consent"),
        device: None,
    })
}

fn prompt_has(params: &AuthorizeParams, value: &str) -> bool {
    params
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|v| v == value))
}

/// Signed in recently enough, and consented to these scopes before (or the client is
/// first-party, which an admin vouched for: its users are not asked).
pub(super) async fn ready_for_code(
    p: &Provider<'_>,
    client: &ClientRecord,
    pending: &WaitingForConsent,
    browser: &Browser,
) -> Result<bool, OidcError> {
    if pending.prompt_consent || !signed_in_after(p, browser, pending.login_after).await? {
        return Ok(false);
    }
    if client.first_party {
        return Ok(true);
    }
    let consented = oauth_grants::consent(p.sessions.db, browser.user_id, &pending.client_id)
        .await?
        .unwrap_or_default();
    Ok(pending
        .scope
        .split(' ')
        .all(|s| consented.iter().any(|c| c == s)))
}

pub(super) async fn signed_in_after(
    p: &Provider<'_>,
    browser: &Browser,
    after: Option<Millis>,
) -> Result<bool, OidcError> {
    let Some(after) = after else {
        return Ok(true);
    };
    let signed_in = store::sessions::signed_in_at(p.sessions.db, &browser.session_id).await?;
    Ok(signed_in.is_some_and(|at| at >= after))
}

/// The request with the browser session's sign-in (when and how), which its tokens carry.
pub(super) async fn with_sign_in(
    p: &Provider<'_>,
    request: WaitingForConsent,
    browser: &Browser,
) -> Result<CodeForExchange, OidcError> {
    let origin = store::sessions::origin(p.sessions.db, &browser.session_id)
        .await?
        .ok_or_else(|| OidcError::SignInAgain)?;
    Ok(CodeForExchange {
        request,
        browser_session: Some(browser.session_id.clone()),
        auth_time: Some(origin.signed_in_at / 1000),
        method: Some(origin.method.name().to_string()),
        second_factor: origin.second_factor.map(|f| f.name().to_string()),
    })
}

/// A code for the request, on the browser's session: stored for its exchange.
pub(super) async fn issue_code(
    p: &Provider<'_>,
    request: WaitingForConsent,
    browser: &Browser,
) -> Result<String, OidcError> {
    let pending = with_sign_in(p, request, browser).await?;
    let code = random_token();
    let now = p.sessions.clock.now_ms();
    oauth_grants::create(
        p.sessions.db,
        NewPending {
            kind: Kind::Code,
            token_hash: &hash(&code),
            client_id: &pending.request.client_id,
            user_id: Some(browser.user_id),
            request: &serde_json::to_string(&pending).map_err(anyhow::Error::from)?,
            expires_at: now + CODE_TTL_MS,
        },
        now,
    )
    .await?;
    Ok(code)
}

/// Builds the redirects back to a client (RFC 6749 §4.1.2, RFC 9207's `iss`).
pub(super) struct Back<'a> {
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub issuer: &'a str,
}

impl Back<'_> {
    pub fn code(&self, code: &str) -> String {
        self.with(&[("code", code)])
    }

    pub fn error(&self, error: OAuthCode, description: &str) -> String {
        self.with(&[
            ("error", error.as_str()),
            ("error_description", description),
        ])
    }

    fn with(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = match url::Url::parse(self.redirect_uri) {
            Ok(url) => url,
            Err(_) => return self.redirect_uri.to_string(),
        };
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in pairs {
                query.append_pair(k, v);
            }
            if let Some(state) = self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", self.issuer);
        }
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::language_tags;

    #[test]
    fn ui_locales_pass_on_only_what_looks_like_language_tags() {
        assert_eq!(
            language_tags(Some("de-CH fr en")),
            Some("de-CH fr en".into())
        );
        assert_eq!(language_tags(Some("de <script> es")), Some("de es".into()));
        assert_eq!(language_tags(Some("a&b=c")), None);
        assert_eq!(language_tags(Some("")), None);
        assert_eq!(language_tags(None), None);
        let many = "en ".repeat(20);
        assert_eq!(
            language_tags(Some(&many)).map(|t| t.split(' ').count()),
            Some(8)
        );
    }
}
