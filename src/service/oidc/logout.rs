//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the request checked, and
//! the session it names ended when the caller decides it may be.
use crate::auth::sessions;
use crate::store;

use super::error::OidcError;
use super::Provider;

/// RP-initiated logout, checked: the ID token hint names the client (whose registered
/// post-logout URI may be redirected to), the user and the session it signed in.
pub struct LogoutRequest {
    pub client_name: String,
    /// The hint's user: a browser signed in as them may end the session.
    pub user_id: Option<i64>,
    /// The session the hint names.
    pub sid: Option<String>,
    pub redirect: Option<String>,
}

/// Checks a logout request. Ends nothing: who may end what is the caller's to decide (a
/// browser that brings the session's own cookies, or one whose user clicked).
pub async fn logout_request(
    p: &Provider<'_>,
    id_token_hint: &str,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Result<LogoutRequest, OidcError> {
    let bad = || OidcError::NoRedirect("id_token_hint is not an ID token of ours".into());
    let hint: serde_json::Value = p
        .sessions
        .tokens
        .check_ours(id_token_hint, "JWT")
        .map_err(|_| bad())?;
    if hint["iss"].as_str() != Some(p.issuer) {
        return Err(bad());
    }
    let client_id = hint["aud"].as_str().ok_or_else(bad)?;
    let client = p.client(client_id).await?.ok_or_else(bad)?;
    let redirect = match post_logout_redirect_uri {
        None => None,
        Some(uri) if client.post_logout_uris.iter().any(|u| u == uri) => {
            let mut url = url::Url::parse(uri).map_err(|_| bad())?;
            if let Some(state) = state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.to_string())
        }
        Some(_) => {
            return Err(OidcError::NoRedirect(
                "post_logout_redirect_uri is not one registered for this client".into(),
            ))
        }
    };
    Ok(LogoutRequest {
        client_name: client.name.clone(),
        user_id: hint["sub"].as_str().and_then(|s| s.parse().ok()),
        sid: hint["sid"].as_str().map(String::from),
        redirect,
    })
}

/// Ends the session the hint names, if it is still its user's. Whether it was live.
pub async fn end_hinted_session(
    p: &Provider<'_>,
    request: &LogoutRequest,
) -> Result<bool, OidcError> {
    let (Some(sid), Some(user_id)) = (&request.sid, request.user_id) else {
        return Ok(false);
    };
    let state = store::sessions::state(p.sessions.db, sid).await?;
    if state.is_some_and(|s| s.user_id == user_id) {
        return Ok(sessions::end(&p.sessions, sid).await?);
    }
    Ok(false)
}
