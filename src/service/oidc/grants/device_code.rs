//! `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5): the device polls
//! with its device code; `authorization_pending` until the user answers (`slow_down`, and a
//! longer interval, when it polls too often), then the tokens once, or `access_denied`;
//! `expired_token` once the code's ten minutes are over.
use crate::audit::{self, Event};
use crate::auth::sessions::{self, ClientGrant};
use crate::domain::SigninMethod;
use crate::service::clients::{access_token_ttl, allows_grant};
use crate::service::Client;
use crate::store;
use crate::store::device_codes::{self, Status};
use crate::store::oauth_clients::ClientRecord;

use crate::service::oidc::device::SLOW_DOWN_MS;
use crate::service::oidc::error::{token_error, OAuthCode, OidcError};
use crate::service::oidc::id_token::id_token;
use crate::service::oidc::pending::CodeForExchange;
use crate::service::oidc::token::{token_type, TokenParams, TokenResponse};
use crate::service::oidc::{hash, Provider};

pub(in crate::service::oidc) async fn device_code(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
    from: Client<'_>,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, OidcError> {
    let invalid = |why: &str| token_error(OAuthCode::InvalidGrant, why);
    let code = params
        .device_code
        .as_deref()
        .ok_or_else(|| token_error(OAuthCode::InvalidRequest, "device_code is missing"))?;
    let db = p.sessions.db;
    let now = p.sessions.clock.now_ms();
    let record = device_codes::find_by_device_code(db, &hash(code))
        .await?
        .filter(|d| d.client_id == client.client_id)
        .ok_or_else(|| invalid("unknown device_code"))?;
    if now >= record.expires_at && record.status != Status::Used {
        return Err(token_error(
            OAuthCode::ExpiredToken,
            "the device code has expired; start again",
        ));
    }
    match record.status {
        Status::Pending => {
            let too_soon = record
                .last_polled_at
                .is_some_and(|last| now - last < record.interval_ms);
            let interval = record.interval_ms + if too_soon { SLOW_DOWN_MS } else { 0 };
            device_codes::polled(db, record.id, now, interval).await?;
            return Err(if too_soon {
                token_error(
                    OAuthCode::SlowDown,
                    format!("poll at most every {} seconds", interval / 1000),
                )
            } else {
                token_error(
                    OAuthCode::AuthorizationPending,
                    "the user has not answered yet",
                )
            });
        }
        Status::Denied => {
            return Err(token_error(OAuthCode::AccessDenied, "the user declined"));
        }
        Status::Used => return Err(invalid("the device code was already used")),
        Status::Approved => {}
    }
    if !device_codes::spend(db, record.id).await? {
        return Err(invalid("the device code was already used"));
    }
    let sign_in: CodeForExchange = record
        .sign_in
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| invalid("unknown device_code"))?;
    let user_id = record
        .user_id
        .ok_or_else(|| invalid("unknown device_code"))?;
    let user = store::users::find_by_id(db, user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| invalid("the account is not active"))?;
    let issued = sessions::open_for_client(
        &p.sessions,
        user.id,
        SigninMethod::from_stored(sign_in.method.as_deref()),
        from.user_agent,
        from.ip_text,
        ClientGrant {
            client_id: &client.client_id,
            dpop_jkt,
            scope: &sign_in.request.scope,
        },
        client.access_token_ttl,
    )
    .await?;
    if let Some(browser) = &sign_in.browser_session {
        store::backchannel::record(db, browser, &client.client_id, user.id, now).await?;
    }
    let entry = from
        .entry(Some(user.id), Some(user.id), Some(&user.username))
        .for_client(&client.client_id);
    audit::record(db, p.sessions.clock, Event::ClientSignin, true, &entry).await;
    let scopes: Vec<&str> = sign_in.request.scope.split(' ').collect();
    let id_token = id_token(p, &user, client, &sign_in, &scopes, &issued.access_token)?;
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: token_type(dpop_jkt),
        expires_in: access_token_ttl(client, p.sessions.tokens.ttl_secs()),
        // Only for a client that may use it (a grant type it was not given is no token).
        refresh_token: (scopes.contains(&"offline_access")
            && allows_grant(client, "refresh_token"))
        .then_some(issued.refresh_token),
        id_token: Some(id_token),
        scope: sign_in.request.scope.clone(),
    })
}
