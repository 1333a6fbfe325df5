//! The second step of a sign-in: after a right password (or sign-in link) of an account
//! with a second factor, a short-lived token, and the TOTP code, recovery code or passkey
//! that finishes the sign-in with it.
use std::time::Duration;

use webauthn_rs::prelude::PublicKeyCredential;

use crate::audit::{self, Entry, Event};
use crate::auth::mfa_token;
use crate::auth::passkeys::{self as webauthn, PasskeyError, CEREMONY_TTL};
use crate::auth::totp;
use crate::domain::{RoleSet, SecondFactor, SigninMethod};
use crate::service::ending::{self, Proven};
use crate::service::factors::{enrolled, open_totp_secret, record_use, FactorError, Factors};
use crate::service::{account_throttle_key, Client, SignedIn};
use crate::store::ceremonies::{self, NewCeremony, Purpose};
use crate::store::{self, mfa_tokens, mfa_tokens::MfaTokenRecord, users::UserRecord};

/// How long the second step of a sign-in may take.
pub const MFA_TOKEN_TTL: Duration = Duration::from_secs(300);
/// Wrong codes one second step survives.
const MAX_FAILURES: i64 = 5;

/// A way to finish a sign-in's second step, in the order the answer lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Totp,
    Passkey,
    Recovery,
}

/// What a right password (or sign-in link) gets when one more step is needed.
#[derive(Debug)]
pub struct SecondStep {
    pub token: String,
    pub methods: Vec<Method>,
    /// No second factor yet, and one is required: enrol a TOTP app with the token.
    pub enrolment: bool,
    pub expires_in: u64,
}

/// Called once a first factor held: `None` when the sign-in may complete, or the second
/// step it needs (the account has a second factor, or must enrol one).
pub async fn second_step(
    f: &Factors<'_>,
    user: &UserRecord,
    method: SigninMethod,
    require_for: RoleSet,
) -> Result<Option<SecondStep>, FactorError> {
    let has = enrolled(f, user.id).await?;
    let mut methods = Vec::new();
    if has.totp {
        methods.push(Method::Totp);
    }
    if has.passkeys > 0 {
        methods.push(Method::Passkey);
    }
    if has.recovery_codes_left > 0 {
        methods.push(Method::Recovery);
    }
    let required = user.roles.iter().any(|r| require_for.contains(r));
    let enrolment = methods.is_empty() && required;
    if methods.is_empty() && !enrolment {
        return Ok(None);
    }
    let token = mfa_token::generate();
    let now = f.sessions.clock.now_ms();
    mfa_tokens::create(
        f.sessions.db,
        mfa_tokens::NewMfaToken {
            token_hash: &mfa_token::hash(&token),
            user_id: user.id,
            method,
            enrolment,
            expires_at: now + MFA_TOKEN_TTL.as_millis() as i64,
        },
        now,
    )
    .await?;
    Ok(Some(SecondStep {
        token,
        methods,
        enrolment,
        expires_in: MFA_TOKEN_TTL.as_secs(),
    }))
}

/// The live second step this token stands for, and its account (enabled).
pub(crate) async fn live_step(
    f: &Factors<'_>,
    token: &str,
    enrolment: bool,
) -> Result<(MfaTokenRecord, UserRecord), FactorError> {
    if !mfa_token::well_formed(token) {
        return Err(FactorError::TokenInvalid);
    }
    let db = f.sessions.db;
    let now = f.sessions.clock.now_ms();
    let record = mfa_tokens::find(db, &mfa_token::hash(token))
        .await?
        .filter(|t| t.used_at.is_none() && now < t.expires_at && t.enrolment == enrolment)
        .ok_or(FactorError::TokenInvalid)?;
    let user = store::users::find_by_id(db, record.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(FactorError::TokenInvalid)?;
    Ok((record, user))
}

/// A wrong code: a failed sign-in for the account and the client, and one of the few a
/// second step survives.
pub(crate) async fn failed_code(
    f: &Factors<'_>,
    step_token: &Option<MfaTokenRecord>,
    user: &UserRecord,
    client: Client<'_>,
    account_key: &str,
) -> Result<(), FactorError> {
    let now = f.sessions.clock.now_ms();
    f.throttle
        .record_failure(&user.username, client.ip, now)
        .await?;
    f.throttle.record_account_failure(account_key, now).await?;
    if let Some(record) = step_token {
        mfa_tokens::fail(f.sessions.db, record.id, MAX_FAILURES, now).await?;
    }
    Ok(())
}

/// Spends the second step's token and opens the session the sign-in was for, recording
/// the factor that completed it (none when the step enrolled one: the password alone
/// proved who signs in).
pub(crate) async fn complete(
    f: &Factors<'_>,
    record: &MfaTokenRecord,
    factor: Option<SecondFactor>,
    user: UserRecord,
    client: Client<'_>,
) -> Result<SignedIn, FactorError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    if !mfa_tokens::consume(db, record.id, now).await? {
        return Err(FactorError::TokenInvalid);
    }
    let username = user.username.clone();
    let proven = Proven {
        login: Some(&username),
        user,
        method: record.method,
        event: Event::Signin,
    };
    ending::complete(f, client, proven, factor).await
}

/// What completes a second step.
pub enum Proof<'a> {
    /// A TOTP code or a recovery code.
    Code(&'a str),
    /// A passkey's answer to `passkey_challenge`'s options.
    Passkey(&'a PublicKeyCredential),
}

/// The second step of a sign-in.
pub async fn verify(
    f: &Factors<'_>,
    client: Client<'_>,
    token: &str,
    proof: Proof<'_>,
) -> Result<SignedIn, FactorError> {
    let (record, user) = live_step(f, token, false).await?;
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let account_key = account_throttle_key(user.id);
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    if let Some(retry_after) = f.throttle.check(&account_key, client.ip, now).await? {
        audit::record(db, clock, Event::SigninThrottled, false, &entry).await;
        return Err(FactorError::Throttled(retry_after));
    }
    let held = match proof {
        Proof::Code(code) => code_holds(f, &user, code.trim()).await?,
        Proof::Passkey(credential) => passkey_holds(f, &user, credential, &entry)
            .await?
            .then_some(SecondFactor::Passkey),
    };
    let Some(factor) = held else {
        failed_code(f, &Some(record), &user, client, &account_key).await?;
        audit::record(db, clock, Event::MfaVerified, false, &entry).await;
        return Err(FactorError::CodeInvalid);
    };
    audit::record(db, clock, Event::MfaVerified, true, &entry).await;
    complete(f, &record, Some(factor), user, client).await
}

/// Which factor `code` proves, if it holds: a TOTP code or a recovery code.
async fn code_holds(
    f: &Factors<'_>,
    user: &UserRecord,
    code: &str,
) -> Result<Option<SecondFactor>, FactorError> {
    let db = f.sessions.db;
    if totp::is_totp_shaped(code) {
        let Some(app) = store::totp::find(db, user.id).await? else {
            return Ok(None);
        };
        if app.confirmed_at.is_none() {
            return Ok(None);
        }
        let secret = open_totp_secret(f, user.id, &app.secret)?;
        let accepted = match totp::matching_step(&secret, code, f.sessions.clock.now_secs()) {
            Some(step) if step > app.last_step => {
                store::totp::accept_step(db, user.id, step).await?
            }
            _ => false,
        };
        return Ok(accepted.then_some(SecondFactor::Totp));
    }
    let used = match totp::recovery_hash(code) {
        Some(hash) => {
            let now = f.sessions.clock.now_ms();
            store::totp::use_recovery_code(db, user.id, &hash, now).await?
        }
        None => false,
    };
    Ok(used.then_some(SecondFactor::RecoveryCode))
}

/// Options for a passkey to finish a second step with.
pub async fn passkey_challenge(
    f: &Factors<'_>,
    token: &str,
) -> Result<serde_json::Value, FactorError> {
    let (_, user) = live_step(f, token, false).await?;
    let db = f.sessions.db;
    let stored = store::passkeys::list(db, user.id).await?;
    if stored.is_empty() {
        return Err(FactorError::NoPasskey);
    }
    let passkeys = stored
        .iter()
        .map(|p| webauthn::parse_passkey(&p.credential))
        .collect::<Result<Vec<_>, _>>()?;
    let started = f.rp()?.start_second_factor(&passkeys)?;
    let now = f.sessions.clock.now_ms();
    ceremonies::begin(
        db,
        NewCeremony {
            challenge_hash: &started.challenge_hash,
            purpose: Purpose::SecondFactor,
            user_id: Some(user.id),
            state: &started.state,
            expires_at: now + CEREMONY_TTL.as_millis() as i64,
        },
        now,
    )
    .await?;
    Ok(started.options)
}

async fn passkey_holds(
    f: &Factors<'_>,
    user: &UserRecord,
    credential: &PublicKeyCredential,
    entry: &Entry<'_>,
) -> Result<bool, FactorError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let Some(challenge) = webauthn::assertion_challenge(credential) else {
        return Ok(false);
    };
    let ceremony = match ceremonies::take(db, &challenge).await? {
        Some(c)
            if c.purpose == Purpose::SecondFactor
                && c.user_id == Some(user.id)
                && now < c.expires_at =>
        {
            c
        }
        _ => return Ok(false),
    };
    let result = match f.rp()?.finish_second_factor(&ceremony.state, credential) {
        Ok(result) => result,
        Err(PasskeyError::CounterRegressed) => {
            audit::record(db, clock, Event::PasskeyCounterRegressed, false, entry).await;
            return Ok(false);
        }
        Err(PasskeyError::Refused(why)) => {
            tracing::debug!(error = %why, "passkey second step refused");
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    record_use(db, user.id, &result, now).await?;
    Ok(true)
}
