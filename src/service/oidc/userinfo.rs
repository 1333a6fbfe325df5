//! Client access tokens checked (their session live, their user enabled), and userinfo
//! (OpenID Connect Core §5.3).
use crate::auth::access_token::{OAuthClaims, TokenError};
use crate::domain::UserState;
use crate::store;

use super::dpop::{self, Presented};
use super::id_token::{user_claims, Target};
use super::Provider;

/// A client's access token whose session still lives, and its user.
pub async fn live_access(
    p: &Provider<'_>,
    token: &str,
) -> Result<(OAuthClaims, Option<UserState>), TokenError> {
    let claims = p
        .sessions
        .tokens
        .verify_oauth(token, p.sessions.clock.now_secs())?;
    let db = p.sessions.db;
    let Some(sid) = &claims.sid else {
        // A service's own token: no session to end, so a revocation is kept by its jti;
        // and its client must still be registered.
        let revoked = store::revoked_tokens::is_revoked(db, &claims.jti)
            .await
            .map_err(|_| TokenError::Invalid)?;
        let registered = p
            .client(&claims.client_id)
            .await
            .map_err(|_| TokenError::Invalid)?
            .is_some();
        if revoked || !registered {
            return Err(TokenError::Invalid);
        }
        return Ok((claims, None));
    };
    let now = p.sessions.clock.now_ms();
    let session = p
        .cache
        .session(sid, store::sessions::state(db, sid))
        .await
        .map_err(|_| TokenError::Invalid)?;
    let user_id: i64 = claims.sub.parse().map_err(|_| TokenError::Invalid)?;
    match session {
        Some(s) if !s.revoked && now < s.expires_at && s.user_id == user_id => {}
        _ => return Err(TokenError::Invalid),
    }
    let user = p
        .cache
        .user(user_id, store::users::auth_state(db, user_id))
        .await
        .map_err(|_| TokenError::Invalid)?
        .filter(|u| !u.disabled)
        .ok_or(TokenError::Invalid)?;
    Ok((claims, Some(user)))
}

/// How the token was presented (RFC 9449 §7.1): `Authorization: Bearer` (or a form), or
/// `Authorization: DPoP` with a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Dpop,
}

/// A DPoP-bound token only with a proof of its key, for this request and this token; an
/// unbound one only as a bearer token (§7.1: the DPoP scheme says the token is bound).
pub async fn check_binding(
    p: &Provider<'_>,
    claims: &OAuthClaims,
    token: &str,
    scheme: Scheme,
    proof: Option<&Presented<'_>>,
) -> Result<(), TokenError> {
    match (&claims.cnf, scheme, proof) {
        (None, Scheme::Bearer, _) => Ok(()),
        (Some(cnf), Scheme::Dpop, Some(proof)) => match dpop::check(p, proof, Some(token)).await {
            Ok(jkt) if jkt == cnf.jkt => Ok(()),
            _ => Err(TokenError::Invalid),
        },
        _ => Err(TokenError::Invalid),
    }
}

/// `/userinfo`: the claims the token's scopes allow.
pub async fn userinfo(
    p: &Provider<'_>,
    token: &str,
    scheme: Scheme,
    proof: Option<&Presented<'_>>,
) -> Result<serde_json::Map<String, serde_json::Value>, TokenError> {
    let (claims, held) = live_access(p, token).await?;
    check_binding(p, &claims, token, scheme, proof).await?;
    let held = held.ok_or(TokenError::Invalid)?;
    // All from the session cache, as `/api/auth/me`: a change to the profile, the address or
    // the rights is told to every node as a role change is.
    let scopes: Vec<&str> = claims.scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return Err(TokenError::Invalid);
    }
    let mut info = user_claims(&held, &claims.client_id, &scopes, Target::Userinfo);
    info.insert("sub".into(), claims.sub.into());
    Ok(info)
}
