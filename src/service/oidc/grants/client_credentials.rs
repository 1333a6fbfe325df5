//! `client_credentials` (RFC 6749 §4.4): a confidential client's own token.
use crate::domain::oauth::{join_scopes, parse_scopes};
use crate::service::clients::access_token_ttl;
use crate::store::oauth_clients::ClientRecord;

use crate::service::oidc::error::{token_error, OAuthCode, OidcError};
use crate::service::oidc::token::{token_type, TokenParams, TokenResponse};
use crate::service::oidc::Provider;

/// A service's own token: no user, no session, no refresh token.
pub(in crate::service::oidc) fn client_credentials(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, OidcError> {
    if client.public {
        return Err(token_error(
            OAuthCode::UnauthorizedClient,
            "a public client cannot use client_credentials",
        ));
    }
    // Scopes about a user mean nothing here; a service gets what it asks among the rest.
    let asked = parse_scopes(params.scope.as_deref().unwrap_or_default())
        .map_err(|e| token_error(OAuthCode::InvalidScope, e))?;
    if let Some(s) = asked.iter().find(|s| {
        matches!(**s, "openid" | "offline_access") || !client.scopes.iter().any(|c| c == *s)
    }) {
        return Err(token_error(
            OAuthCode::InvalidScope,
            format!("{s} is not available to client_credentials"),
        ));
    }
    let now = p.sessions.clock.now_secs();
    let scope = join_scopes(&asked);
    let ttl = access_token_ttl(client, p.sessions.tokens.ttl_secs());
    let (access_token, _) = p
        .sessions
        .tokens
        .issue_oauth(
            &client.client_id,
            &client.client_id,
            &scope,
            None,
            dpop_jkt,
            (now, now + ttl),
        )
        .map_err(|e| OidcError::Internal(e.into()))?;
    Ok(TokenResponse {
        access_token,
        token_type: token_type(dpop_jkt),
        expires_in: ttl,
        refresh_token: None,
        id_token: None,
        scope,
    })
}
