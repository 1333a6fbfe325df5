//! The device authorization grant (RFC 8628), for what has no browser of its own (a
//! command-line tool, a TV, an agent): the device asks for a device code and a short user
//! code; the user types the code on the web app's `/device` page, which signs them in if
//! needed and always asks for consent (the code alone does not prove the device is the
//! user's: RFC 8628 §5.4); the device polls the token endpoint until the answer is given.
use rand::Rng;

use crate::auth::starts::Start;
use crate::clock::Millis;
use crate::domain::oauth::{join_scopes, parse_scopes, DEVICE_CODE};
use crate::service::clients::allows_grant;
use crate::store::device_codes::{self, NewDevice};
use crate::store::oauth_clients::ClientRecord;
use crate::store::oauth_grants::{self, Kind, NewPending};

use super::authorize::Browser;
use super::error::{token_error, OAuthCode, OidcError};
use super::pending::WaitingForConsent;
use super::{hash, random_token, Provider};

/// How long a device authorization waits for the user (RFC 8628 §3.2 `expires_in`).
pub const DEVICE_TTL_MS: Millis = 10 * 60_000;
/// How long a device waits between polls, at first (§3.2 `interval`); `slow_down` adds
/// `SLOW_DOWN_MS` (§3.5).
pub const POLL_INTERVAL_MS: Millis = 5_000;
pub const SLOW_DOWN_MS: Millis = 5_000;
/// The web app's page where the user types the code.
pub const VERIFICATION_PAGE: &str = "/device";
/// Consonants only (RFC 8628 §6.1): no vowels to spell words with, none of 0/O or 1/I.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, serde::Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// The device authorization endpoint (RFC 8628 §3.1): for a client allowed the grant.
pub async fn start(
    p: &Provider<'_>,
    client: &ClientRecord,
    scope: Option<&str>,
) -> Result<DeviceAuthorization, OidcError> {
    if !allows_grant(client, DEVICE_CODE) {
        return Err(token_error(
            OAuthCode::UnauthorizedClient,
            "this client may not use the device grant",
        ));
    }
    let scopes = parse_scopes(scope.unwrap_or("openid"))
        .map_err(|e| token_error(OAuthCode::InvalidScope, e))?;
    if !scopes.contains(&"openid") {
        return Err(token_error(
            OAuthCode::InvalidScope,
            "scope must include openid",
        ));
    }
    if let Some(extra) = scopes
        .iter()
        .find(|s| !client.scopes.iter().any(|c| c == *s))
    {
        return Err(token_error(
            OAuthCode::InvalidScope,
            format!("the client may not ask for {extra}"),
        ));
    }
    let device_code = random_token();
    let now = p.sessions.clock.now_ms();
    let scope = join_scopes(&scopes);
    // A clash of user codes among the live ones is rare; a few tries make it vanish.
    for _ in 0..8 {
        let user_code = new_user_code();
        let created = device_codes::create(
            p.sessions.db,
            NewDevice {
                device_code_hash: &hash(&device_code),
                user_code: &user_code,
                client_id: &client.client_id,
                scope: &scope,
                expires_at: now + DEVICE_TTL_MS,
                interval_ms: POLL_INTERVAL_MS,
            },
            now,
        )
        .await?;
        if created {
            let shown = format!("{}-{}", &user_code[..4], &user_code[4..]);
            let page = format!("{}{VERIFICATION_PAGE}", p.issuer);
            return Ok(DeviceAuthorization {
                device_code,
                verification_uri_complete: format!("{page}?user_code={shown}"),
                verification_uri: page,
                user_code: shown,
                expires_in: DEVICE_TTL_MS / 1000,
                interval: POLL_INTERVAL_MS / 1000,
            });
        }
    }
    Err(OidcError::Internal(anyhow::anyhow!(
        "no free user code after 8 tries"
    )))
}

fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..USER_CODE_LEN)
        .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
        .collect()
}

/// A code as typed: case, spaces and dashes do not matter.
fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The verification page's lookup: a signed-in user typed `typed`. A live, unanswered
/// authorization becomes a request waiting for consent on the consent page, whose token is
/// returned; every attempt counts against the address's guesses.
pub async fn enter_user_code(
    p: &Provider<'_>,
    browser: &Browser,
    typed: &str,
    ip: std::net::IpAddr,
) -> Result<String, OidcError> {
    p.starts
        .admit(Start::DeviceCodeEntry, ip)
        .map_err(OidcError::TooManyRequests)?;
    let code = normalise(typed);
    if code.len() != USER_CODE_LEN {
        return Err(OidcError::UnknownDeviceCode);
    }
    let now = p.sessions.clock.now_ms();
    let record = device_codes::find_by_user_code(p.sessions.db, &code)
        .await?
        .filter(|d| d.status == device_codes::Status::Pending && now < d.expires_at)
        .ok_or(OidcError::UnknownDeviceCode)?;
    let request = WaitingForConsent {
        client_id: record.client_id.clone(),
        redirect_uri: String::new(),
        scope: record.scope.clone(),
        state: None,
        nonce: None,
        code_challenge: None,
        login_after: None,
        prompt_consent: true,
        device: Some(record.id),
    };
    let token = random_token();
    oauth_grants::create(
        p.sessions.db,
        NewPending {
            kind: Kind::Request,
            token_hash: &hash(&token),
            client_id: &record.client_id,
            user_id: Some(browser.user_id),
            request: &serde_json::to_string(&request).map_err(anyhow::Error::from)?,
            expires_at: record.expires_at,
        },
        now,
    )
    .await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_consonants_and_read_however_typed() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(code.len(), USER_CODE_LEN);
            assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
        }
        assert_eq!(normalise("wdjb-mjht"), "WDJBMJHT");
        assert_eq!(normalise(" WDJB MJHT "), "WDJBMJHT");
    }
}
