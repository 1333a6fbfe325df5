//! Pushed authorization requests (RFC 9126): an authenticated client sends its request to
//! the server first and gets a `request_uri` to send the browser with; the authorization
//! endpoint then takes the request from the server, once, within a minute, for that client
//! alone. A client may be required to push (`require_par`).
use crate::auth::starts::Start;
use crate::clock::Millis;
use crate::store::oauth_clients::ClientRecord;
use crate::store::oauth_grants::{self, Kind, NewPending};

use super::authorize::{check_request, AuthorizeParams};
use super::error::{token_error, OAuthCode, OidcError};
use super::{hash, random_token, Provider};

/// How long a pushed request waits for the browser (RFC 9126 §2.2: short).
pub const PUSHED_TTL_MS: Millis = 60_000;
/// What a `request_uri` of ours begins with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The answer to a push (RFC 9126 §2.2).
#[derive(Debug, serde::Serialize)]
pub struct Pushed {
    pub request_uri: String,
    pub expires_in: i64,
}

/// Checks a pushed request as the authorization endpoint would (errors are the PAR
/// endpoint's own, in JSON) and keeps it for the browser's visit.
pub async fn push(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: AuthorizeParams,
    ip: std::net::IpAddr,
) -> Result<Pushed, OidcError> {
    let invalid = |why: &str| token_error(OAuthCode::InvalidRequest, why);
    if params.request_uri.is_some() {
        return Err(invalid("request_uri cannot be pushed"));
    }
    if params
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.client_id)
    {
        return Err(invalid("client_id differs from the authenticated client"));
    }
    match params.redirect_uri.as_deref() {
        None => return Err(invalid("redirect_uri is missing")),
        Some(uri) if !client.redirect_uris.iter().any(|r| r == uri) => {
            return Err(invalid(
                "redirect_uri is not one registered for this client",
            ))
        }
        Some(_) => {}
    }
    let now = p.sessions.clock.now_ms();
    check_request(client, &params, now).map_err(|(code, why)| token_error(code, why))?;
    p.starts
        .admit(Start::AuthorizationRequest, ip)
        .map_err(OidcError::TooManyRequests)?;
    let token = random_token();
    oauth_grants::create(
        p.sessions.db,
        NewPending {
            kind: Kind::Pushed,
            token_hash: &hash(&token),
            client_id: &client.client_id,
            user_id: None,
            request: &serde_json::to_string(&params).map_err(anyhow::Error::from)?,
            expires_at: now + PUSHED_TTL_MS,
        },
        now,
    )
    .await?;
    Ok(Pushed {
        request_uri: format!("{REQUEST_URI_PREFIX}{token}"),
        expires_in: PUSHED_TTL_MS / 1000,
    })
}

/// The pushed request a `request_uri` names, spent: only for `client_id`, only once, only
/// before it expires. `None`: unknown, someone else's, used or expired.
pub(super) async fn take(
    p: &Provider<'_>,
    client_id: &str,
    request_uri: &str,
) -> Result<Option<AuthorizeParams>, OidcError> {
    let Some(token) = request_uri.strip_prefix(REQUEST_URI_PREFIX) else {
        return Ok(None);
    };
    let db = p.sessions.db;
    let now = p.sessions.clock.now_ms();
    let Some(record) = oauth_grants::find(db, Kind::Pushed, &hash(token)).await? else {
        return Ok(None);
    };
    if record.client_id != client_id
        || now >= record.expires_at
        || record.used_at.is_some()
        || !oauth_grants::spend(db, record.id, now).await?
    {
        return Ok(None);
    }
    Ok(serde_json::from_str(&record.request).ok())
}
