//! `refresh_token` (RFC 6749 §6): rotated, a reuse ends the grant, a narrower scope honoured
//! and a wider one refused before anything changes.
use crate::auth::sessions::{self, RefreshError};
use crate::domain::oauth::{join_scopes, parse_scopes};
use crate::service::clients::access_token_ttl;
use crate::store;
use crate::store::oauth_clients::ClientRecord;

use crate::service::oidc::error::{token_error, OAuthCode, OidcError};
use crate::service::oidc::token::{token_type, TokenParams, TokenResponse};
use crate::service::oidc::Provider;

pub(in crate::service::oidc) async fn refresh_token(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, OidcError> {
    let presented = params
        .refresh_token
        .as_deref()
        .ok_or_else(|| token_error(OAuthCode::InvalidRequest, "refresh_token is missing"))?;
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one; checked before
    // anything changes, since an error must leave the grant as it was (§5.2).
    let narrowed = match params.scope.as_deref() {
        None => None,
        Some(asked) => {
            let asked = parse_scopes(asked).map_err(|e| token_error(OAuthCode::InvalidScope, e))?;
            let hash = crate::auth::refresh_token::hash(presented);
            let granted = store::sessions::find_refresh(p.sessions.db, &hash)
                .await?
                .filter(|r| r.client_id.as_deref() == Some(client.client_id.as_str()))
                .and_then(|r| r.scope)
                .ok_or_else(|| token_error(OAuthCode::InvalidGrant, "unknown refresh token"))?;
            let granted: Vec<&str> = granted.split(' ').collect();
            if asked.iter().any(|s| !granted.contains(s)) {
                return Err(token_error(
                    OAuthCode::InvalidScope,
                    "more scope than was granted",
                ));
            }
            // In the grant's order, so that the token's scope reads as the grant's does.
            Some(join_scopes(
                &granted
                    .into_iter()
                    .filter(|g| asked.contains(g))
                    .collect::<Vec<_>>(),
            ))
        }
    };
    let issued = sessions::refresh_narrowed(
        &p.sessions,
        presented,
        Some(&client.client_id),
        narrowed.as_deref(),
        client.access_token_ttl,
        dpop_jkt,
    )
    .await
    .map_err(|e| match e {
        RefreshError::Internal(e) => OidcError::Internal(e),
        RefreshError::Reused { .. } => token_error(
            OAuthCode::InvalidGrant,
            "the refresh token was used before; the grant is ended",
        ),
        RefreshError::Expired => {
            token_error(OAuthCode::InvalidGrant, "the refresh token has expired")
        }
        RefreshError::Invalid => token_error(OAuthCode::InvalidGrant, "unknown refresh token"),
        RefreshError::WrongKey => token_error(
            OAuthCode::InvalidDpopProof,
            "the grant is DPoP-bound: send a proof made with its key",
        ),
    })?;
    let claims = p
        .sessions
        .tokens
        .verify_oauth(&issued.access_token, p.sessions.clock.now_secs())
        .map_err(|_| OidcError::Internal(anyhow::anyhow!("a token just issued does not verify")))?;
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: token_type(claims.cnf.as_ref().map(|c| c.jkt.as_str())),
        expires_in: access_token_ttl(client, p.sessions.tokens.ttl_secs()),
        refresh_token: Some(issued.refresh_token),
        id_token: None,
        scope: claims.scope,
    })
}
