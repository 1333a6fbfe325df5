//! What the second factors share: their components, their one error type, what an
//! account has enrolled, the "recent sign-in or password again" rule of the routes that
//! remove a factor, an admin's reset, and recording a passkey's use. The second step of a
//! sign-in is in `service::mfa`, enrolling a TOTP app in `service::enrolment`, passkeys in
//! `service::passkeys`.
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use webauthn_rs::prelude::AuthenticationResult;

use crate::audit::{self, Event};
use crate::auth::keys::Sealer;
use crate::auth::passkeys::{self as webauthn, PasskeyError, RelyingParty};
use crate::auth::password::{HashError, PasswordHasher};
use crate::auth::sessions::Sessions;
use crate::auth::starts::Starts;
use crate::auth::throttle::Throttle;
use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::mail::Outbox;
use crate::service::accounts::current_password_holds;
use crate::service::Client;
use crate::store::mail_outbox::{Kind, NewMail};
use crate::store::{self, users::UserRecord};

/// How recent a sign-in must be to add or remove a factor without the password.
pub const RECENT_SIGNIN: Duration = Duration::from_secs(600);

/// What the second factors work with.
pub struct Factors<'a> {
    pub sessions: Sessions<'a>,
    /// `None`: passkeys are off (no relying party browsers would accept).
    pub rp: Option<&'a RelyingParty>,
    pub hasher: &'a Arc<PasswordHasher>,
    pub throttle: &'a Throttle,
    /// The name an app shows beside the codes (the relying party id).
    pub issuer: &'a str,
    pub totp_sealer: &'a Sealer,
    /// Where notices to the owner go, when mail is on.
    pub outbox: Option<Outbox<'a>>,
    /// How many passkey sign-ins one address may begin.
    pub starts: &'a Starts,
}

/// A change to how an account signs in, which its owner is told of by mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FactorChange {
    PasskeyAdded(String),
    PasskeyRemoved(String),
    TotpAdded,
    TotpRemoved,
    /// An administrator removed every factor (a user who lost them).
    AllRemovedByAdmin,
}

impl FactorChange {
    /// What the queued notice carries: the change's name, then the passkey's name, which
    /// the mail puts in a sentence of its language (`templates/mail/*/change.*`).
    pub fn detail(&self) -> String {
        match self {
            FactorChange::PasskeyAdded(name) => format!("passkey_added {name}"),
            FactorChange::PasskeyRemoved(name) => format!("passkey_removed {name}"),
            FactorChange::TotpAdded => "totp_added".into(),
            FactorChange::TotpRemoved => "totp_removed".into(),
            FactorChange::AllRemovedByAdmin => "all_removed_by_admin".into(),
        }
    }
}

/// Mails the owner of `user` that `change` happened, when mail is on. A notice that cannot
/// be queued does not undo the change (it is done and audited): it is logged.
pub async fn notify_owner(f: &Factors<'_>, user: &UserRecord, change: FactorChange) {
    let Some(outbox) = f.outbox else {
        return;
    };
    let detail = change.detail();
    let queued = outbox
        .queue(NewMail {
            kind: Kind::FactorChanged,
            user_id: Some(user.id),
            email: &user.email,
            detail: Some(&detail),
        })
        .await;
    if let Err(e) = queued {
        tracing::error!(error = %e, user_id = user.id, "could not queue the notice of a factor change");
    }
}

/// What a TOTP secret is sealed to: its account, so no row's secret opens as another's.
fn totp_context(user_id: i64) -> String {
    format!("totp:{user_id}")
}

/// The secret as `store::totp` keeps it: sealed when a key-encryption key is set.
pub fn seal_totp_secret(f: &Factors<'_>, user_id: i64, secret: &str) -> anyhow::Result<String> {
    Ok(f.totp_sealer.seal_text(&totp_context(user_id), secret)?)
}

/// The secret an app was given, from what `store::totp` keeps.
pub fn open_totp_secret(f: &Factors<'_>, user_id: i64, stored: &str) -> anyhow::Result<String> {
    f.totp_sealer
        .open_text(&totp_context(user_id), stored)
        .map_err(|e| anyhow::anyhow!("the TOTP secret of account {user_id}: {e}"))
}

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error("the second step's token is unknown, used or expired")]
    TokenInvalid,
    #[error("the code is not valid")]
    CodeInvalid,
    /// A wrong code while enrolling: the caller may well be signed in, so not a 401.
    #[error("the code does not match the new app")]
    SetupCodeInvalid,
    #[error("too many failed attempts")]
    Throttled(u64),
    /// One address began more passkey sign-ins than the server will keep.
    #[error("too many sign-ins begun from this client")]
    TooManyStarts(u64),
    #[error("a TOTP app is already enabled")]
    TotpAlreadyEnabled,
    #[error("no TOTP setup was started")]
    TotpNotPending,
    #[error("not found")]
    NotFound,
    #[error("a recent sign-in or the password is required")]
    ReauthenticationRequired,
    #[error("the password is wrong")]
    WrongPassword,
    #[error("the account has no passkey")]
    NoPasskey,
    #[error("passkeys are off on this server")]
    PasskeysDisabled,
    /// A registration that does not verify.
    #[error("the passkey could not be verified")]
    PasskeyRejected,
    /// A passkey sign-in that does not verify, whatever the reason.
    #[error("passkey sign-in failed")]
    PasskeyInvalid,
    #[error("this passkey is registered already")]
    PasskeyExists,
    #[error("the account has the most passkeys allowed")]
    TooManyPasskeys,
    /// It is the account's only way to sign in: no password it knows, no other passkey,
    /// no identity at a provider.
    #[error("the last way to sign in")]
    LastWay,
    #[error("no such account")]
    Gone,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<PasskeyError> for FactorError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Internal(e) => FactorError::Internal(e),
            // Which check failed is for the log, not for the caller.
            other => {
                tracing::debug!(error = %other, "passkey refused");
                FactorError::PasskeyInvalid
            }
        }
    }
}

impl Factors<'_> {
    pub fn rp(&self) -> Result<&RelyingParty, FactorError> {
        self.rp.ok_or(FactorError::PasskeysDisabled)
    }
}

/// What an account has, as its owner sees it.
pub struct Enrolled {
    pub totp: bool,
    pub passkeys: i64,
    pub recovery_codes_left: i64,
}

pub async fn enrolled(f: &Factors<'_>, user_id: i64) -> Result<Enrolled, FactorError> {
    let db = f.sessions.db;
    let totp = store::totp::find(db, user_id)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some());
    Ok(Enrolled {
        totp,
        passkeys: store::passkeys::count(db, user_id).await?,
        recovery_codes_left: if totp {
            store::totp::recovery_codes_left(db, user_id).await?
        } else {
            0
        },
    })
}

/// The rule of the routes that add or remove a factor: the session signed in within
/// `RECENT_SIGNIN`, or the account's password given again. A stolen access token alone
/// must not be able to give its thief a way in that outlives the session.
#[allow(clippy::too_many_arguments)] // each is a component the rule needs, or its input
pub async fn require_recent(
    f: &Factors<'_>,
    user_id: i64,
    session_id: &str,
    client: Client<'_>,
    password: Option<SecretString>,
    event: Event,
) -> Result<UserRecord, FactorError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let user = store::users::find_by_id(db, user_id)
        .await?
        .ok_or(FactorError::Gone)?;
    let signed_in_at = store::sessions::signed_in_at(db, session_id).await?;
    if signed_in_at.is_some_and(|at| now - at < RECENT_SIGNIN.as_millis() as i64) {
        return Ok(user);
    }
    let Some(password) = password else {
        return Err(FactorError::ReauthenticationRequired);
    };
    if let Some(retry_after) = f.throttle.check(&user.username, client.ip, now).await? {
        return Err(FactorError::Throttled(retry_after));
    }
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    let held = current_password_holds::<FactorError>(
        db, clock, f.hasher, f.throttle, &entry, client, &user, password, event, now,
    )
    .await?;
    if held {
        Ok(user)
    } else {
        Err(FactorError::WrongPassword)
    }
}

/// An admin removes an account's TOTP app, recovery codes and passkeys (a user who lost
/// them all); its sessions go on.
pub async fn reset(
    f: &Factors<'_>,
    admin_id: i64,
    client: Client<'_>,
    user_id: i64,
) -> Result<(), FactorError> {
    let db = f.sessions.db;
    let user = store::users::find_by_id(db, user_id)
        .await?
        .ok_or(FactorError::NotFound)?;
    let had_totp = store::totp::remove(db, user.id).await?;
    let had_passkeys = store::passkeys::count(db, user.id).await? > 0;
    store::passkeys::remove_all(db, user.id).await?;
    let entry = client.entry(Some(admin_id), Some(user.id), Some(&user.username));
    audit::record(db, f.sessions.clock, Event::MfaReset, true, &entry).await;
    if had_totp || had_passkeys {
        notify_owner(f, &user, FactorChange::AllRemovedByAdmin).await;
    }
    Ok(())
}

/// Stores what a verified assertion changed of the passkey it used (its counter, its
/// backup state) and when it was used.
pub(crate) async fn record_use(
    db: &Db,
    user_id: i64,
    result: &AuthenticationResult,
    now: Millis,
) -> Result<(), FactorError> {
    let hash = webauthn::credential_hash(result.cred_id().as_ref());
    let Some(record) = store::passkeys::find_by_credential(db, &hash).await? else {
        return Ok(());
    };
    if record.user_id != user_id {
        return Ok(());
    }
    let mut passkey = webauthn::parse_passkey(&record.credential)?;
    passkey.update_credential(result);
    let stored = webauthn::store_passkey(&passkey)?;
    store::passkeys::used(db, record.id, &stored, now).await?;
    Ok(())
}
