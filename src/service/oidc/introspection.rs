//! Revocation (RFC 7009) and introspection (RFC 7662).
use crate::auth::sessions;
use crate::store;
use crate::store::oauth_clients::ClientRecord;

use super::error::{token_error, OAuthCode, OidcError};
use super::userinfo::live_access;
use super::Provider;

/// RFC 7009: ends the grant a refresh or access token of this client belongs to. Unknown
/// tokens and other clients' are ignored, as the RFC asks.
pub async fn revoke(p: &Provider<'_>, client: &ClientRecord, token: &str) -> Result<(), OidcError> {
    let db = p.sessions.db;
    if let Some(record) =
        store::sessions::find_refresh(db, &crate::auth::refresh_token::hash(token)).await?
    {
        if record.client_id.as_deref() == Some(client.client_id.as_str()) {
            sessions::end(&p.sessions, &record.session_id).await?;
        }
        return Ok(());
    }
    let now = p.sessions.clock.now_secs();
    let Some(claims) = p.sessions.tokens.verify_oauth(token, now).ok() else {
        return Ok(());
    };
    if claims.client_id != client.client_id {
        return Ok(());
    }
    match &claims.sid {
        Some(sid) => {
            sessions::end(&p.sessions, sid).await?;
        }
        // A service's own token (client_credentials) has no session: remembered by its
        // jti until it expires, which introspection checks on every node.
        None => {
            store::revoked_tokens::revoke(
                p.sessions.db,
                &claims.jti,
                &claims.client_id,
                claims.exp * 1000,
                p.sessions.clock.now_ms(),
            )
            .await?;
        }
    }
    Ok(())
}

/// RFC 7662: what a token is, for a confidential client (a resource server).
pub async fn introspect(
    p: &Provider<'_>,
    client: &ClientRecord,
    token: &str,
) -> Result<serde_json::Value, OidcError> {
    if client.public {
        return Err(token_error(
            OAuthCode::UnauthorizedClient,
            "public clients cannot introspect",
        ));
    }
    let inactive = serde_json::json!({"active": false});
    let Ok((claims, user)) = live_access(p, token).await else {
        return Ok(inactive);
    };
    let mut answer = serde_json::json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
        "token_type": if claims.cnf.is_some() { "DPoP" } else { "Bearer" },
    });
    // RFC 9449 §6.2: a resource server that introspects checks the proof itself, against
    // this key.
    if let Some(cnf) = &claims.cnf {
        answer["cnf"] = serde_json::json!({ "jkt": cnf.jkt });
    }
    if let Some(user) = user {
        answer["username"] = user.username.as_ref().into();
        // What a resource server decides with, as it is now (not as it was at issue): the
        // token's client's view, if the token was given the `roles` scope.
        if claims.scope.split(' ').any(|s| s == "roles") {
            answer["permissions"] = user.rights.permissions_for(Some(&claims.client_id)).into();
        }
    }
    Ok(answer)
}
