//! `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5): the device polls
//! with its device code; `authorization_pending` until the user answers (`slow_down`, and a
//! longer interval, when it polls too often), then the tokens once, or `access_denied`;
//! `expired_token` once the code's ten minutes are over.
use crate::service::Client;
use crate::store::device_codes::{self, Status};
use crate::store::oauth_clients::ClientRecord;

use crate::service::oidc::device::SLOW_DOWN_MS;
use crate::service::oidc::error::{token_error, OAuthCode, OidcError};
use crate::service::oidc::pending::CodeForExchange;
use crate::service::oidc::token::{TokenParams, TokenResponse};
use crate::service::oidc::{hash, Provider};

use super::user_signin::sign_user_in;

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
    let (answer, _) = sign_user_in(p, client, user_id, &sign_in, from, dpop_jkt).await?;
    Ok(answer)
}
