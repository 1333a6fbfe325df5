//! Enrolling a TOTP app: a pending secret, confirmed by a first code, with ten recovery
//! codes; removing it; new recovery codes. A sign-in that must enrol
//! (`PORTCULLIS_REQUIRE_MFA_FOR`) does it with its second step's token and is completed by
//! the confirmation.
use secrecy::SecretString;

use crate::audit::{self, Event};
use crate::auth::totp;
use crate::service::factors::{
    notify_owner, open_totp_secret, require_recent, seal_totp_secret, FactorChange, FactorError,
    Factors,
};
use crate::service::mfa::{complete, failed_code, live_step};
use crate::service::{account_throttle_key, Client, SignedIn};
use crate::store::{self, mfa_tokens::MfaTokenRecord, users::UserRecord};

/// Who is enrolling a TOTP app: a signed-in account (its user id and session id), or a
/// sign-in that must enrol one (its second step's token: the password was just given).
#[derive(Clone, Copy, Debug)]
pub enum Enroller<'a> {
    Account { user_id: i64, session_id: &'a str },
    Signin(&'a str),
}

pub struct TotpSetup {
    pub secret: String,
    pub uri: String,
}

/// Starts (or restarts) enrolling a TOTP app: a new pending secret. A signed-in account
/// needs a recent sign-in or its password, as for removing the app: only the setup that
/// passed it can be confirmed.
pub async fn totp_setup(
    f: &Factors<'_>,
    who: Enroller<'_>,
    client: Client<'_>,
    password: Option<SecretString>,
) -> Result<TotpSetup, FactorError> {
    let user = match who {
        Enroller::Account {
            user_id,
            session_id,
        } => {
            let event = Event::TotpEnabled;
            require_recent(f, user_id, session_id, client, password, event).await?
        }
        Enroller::Signin(_) => enroller(f, who).await?.1,
    };
    let secret = totp::new_secret();
    let uri = totp::uri(&secret, f.issuer, &user.username)
        .ok_or_else(|| anyhow::anyhow!("a fresh TOTP secret did not decode"))?;
    let now = f.sessions.clock.now_ms();
    let stored = seal_totp_secret(f, user.id, &secret)?;
    if !store::totp::begin(f.sessions.db, user.id, &stored, now).await? {
        return Err(FactorError::TotpAlreadyEnabled);
    }
    Ok(TotpSetup { secret, uri })
}

async fn enroller(
    f: &Factors<'_>,
    who: Enroller<'_>,
) -> Result<(Option<MfaTokenRecord>, UserRecord), FactorError> {
    match who {
        Enroller::Account { user_id, .. } => {
            let user = store::users::find_by_id(f.sessions.db, user_id)
                .await?
                .ok_or(FactorError::Gone)?;
            Ok((None, user))
        }
        Enroller::Signin(token) => {
            let (record, user) = live_step(f, token, true).await?;
            Ok((Some(record), user))
        }
    }
}

/// The TOTP app enabled, its recovery codes, and (for a sign-in that had to enrol) the
/// session it completed.
pub struct Confirmed {
    pub recovery_codes: Vec<String>,
    pub signed_in: Option<SignedIn>,
}

/// Confirms the pending TOTP app with a code from it.
pub async fn totp_confirm(
    f: &Factors<'_>,
    who: Enroller<'_>,
    client: Client<'_>,
    code: &str,
) -> Result<Confirmed, FactorError> {
    let (step_token, user) = enroller(f, who).await?;
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let account_key = account_throttle_key(user.id);
    if let Some(retry_after) = f.throttle.check(&account_key, client.ip, now).await? {
        return Err(FactorError::Throttled(retry_after));
    }
    let pending = match store::totp::find(db, user.id).await? {
        None => return Err(FactorError::TotpNotPending),
        Some(t) if t.confirmed_at.is_some() => return Err(FactorError::TotpAlreadyEnabled),
        Some(t) => t,
    };
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    let secret = open_totp_secret(f, user.id, &pending.secret)?;
    let Some(step) = totp::matching_step(&secret, code.trim(), clock.now_secs()) else {
        failed_code(f, &step_token, &user, client, &account_key).await?;
        audit::record(db, clock, Event::TotpEnabled, false, &entry).await;
        return Err(FactorError::SetupCodeInvalid);
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| totp::recovery_hash(c))
        .collect();
    if !store::totp::confirm(db, user.id, step, &hashes, now).await? {
        return Err(FactorError::TotpNotPending);
    }
    f.throttle.record_success(&account_key).await?;
    audit::record(db, clock, Event::TotpEnabled, true, &entry).await;
    notify_owner(f, &user, FactorChange::TotpAdded).await;
    let signed_in = match step_token {
        Some(record) => Some(complete(f, &record, None, user, client).await?),
        None => None,
    };
    Ok(Confirmed {
        recovery_codes: codes,
        signed_in,
    })
}

/// A signed-in account removes its TOTP app and recovery codes.
pub async fn totp_remove(
    f: &Factors<'_>,
    user_id: i64,
    session_id: &str,
    client: Client<'_>,
    password: Option<SecretString>,
) -> Result<(), FactorError> {
    let event = Event::TotpDisabled;
    let user = require_recent(f, user_id, session_id, client, password, event).await?;
    if !store::totp::remove(f.sessions.db, user.id).await? {
        return Err(FactorError::NotFound);
    }
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    audit::record(f.sessions.db, f.sessions.clock, event, true, &entry).await;
    notify_owner(f, &user, FactorChange::TotpRemoved).await;
    Ok(())
}

/// Ten new recovery codes in place of the old ones.
pub async fn new_recovery_codes(
    f: &Factors<'_>,
    user_id: i64,
    session_id: &str,
    client: Client<'_>,
    password: Option<SecretString>,
) -> Result<Vec<String>, FactorError> {
    let event = Event::RecoveryCodesCreated;
    let user = require_recent(f, user_id, session_id, client, password, event).await?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| totp::recovery_hash(c))
        .collect();
    if !store::totp::new_recovery_codes(f.sessions.db, user.id, &hashes).await? {
        return Err(FactorError::NotFound);
    }
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    audit::record(f.sessions.db, f.sessions.clock, event, true, &entry).await;
    Ok(codes)
}
