//! What the grants that sign a user in to a client share (the authorization code and the
//! device code): the grant's session opened for the client (bound to the DPoP key if any),
//! noted for back-channel logout, audited, and answered with the tokens and an ID token.
use crate::audit::{self, Event};
use crate::auth::sessions::{self, ClientGrant};
use crate::domain::SigninMethod;
use crate::service::clients::{access_token_ttl, allows_grant};
use crate::service::Client;
use crate::store;
use crate::store::oauth_clients::ClientRecord;

use crate::service::oidc::error::{token_error, OAuthCode, OidcError};
use crate::service::oidc::id_token::id_token;
use crate::service::oidc::pending::CodeForExchange;
use crate::service::oidc::token::{token_type, TokenResponse};
use crate::service::oidc::Provider;

/// The tokens for `user_id`'s sign-in `sign_in` to `client`, and the grant's session id.
pub(super) async fn sign_user_in(
    p: &Provider<'_>,
    client: &ClientRecord,
    user_id: i64,
    sign_in: &CodeForExchange,
    from: Client<'_>,
    dpop_jkt: Option<&str>,
) -> Result<(TokenResponse, String), OidcError> {
    let db = p.sessions.db;
    // From the session cache, as every signed-in request's account: what the ID token says
    // of the user (profile, address, roles, groups) is kept right there on every change.
    let held = p
        .cache
        .user(user_id, store::users::auth_state(db, user_id))
        .await
        .map_err(|e| OidcError::Internal(anyhow::anyhow!("{e}")))?
        .filter(|u| !u.disabled)
        .ok_or_else(|| token_error(OAuthCode::InvalidGrant, "the account is not active"))?;
    let scope = &sign_in.request.scope;
    let issued = sessions::open_for_client(
        &p.sessions,
        user_id,
        SigninMethod::from_stored(sign_in.method.as_deref()),
        from.user_agent,
        from.ip_text,
        ClientGrant {
            client_id: &client.client_id,
            dpop_jkt,
            scope,
        },
        client.access_token_ttl,
    )
    .await?;
    if let Some(browser) = &sign_in.browser_session {
        let now = p.sessions.clock.now_ms();
        store::backchannel::record(db, browser, &client.client_id, user_id, now).await?;
    }
    let entry = from
        .entry(Some(user_id), Some(user_id), Some(&held.username))
        .for_client(&client.client_id);
    audit::record(db, p.sessions.clock, Event::ClientSignin, true, &entry).await;
    let scopes: Vec<&str> = scope.split(' ').collect();
    let id_token = id_token(
        p,
        user_id,
        &held,
        client,
        sign_in,
        &scopes,
        &issued.access_token,
    )?;
    let answer = TokenResponse {
        access_token: issued.access_token,
        token_type: token_type(dpop_jkt),
        expires_in: access_token_ttl(client, p.sessions.tokens.ttl_secs()),
        // Only for a client that may use it (a grant type it was not given is no token).
        refresh_token: (scopes.contains(&"offline_access")
            && allows_grant(client, "refresh_token"))
        .then_some(issued.refresh_token),
        id_token: Some(id_token),
        scope: scope.clone(),
    };
    Ok((answer, issued.session_id))
}
