//! Account recovery and proof of address by mail: asking for a password reset link and
//! using it, verifying an address and asking for a verification link again, changing the
//! address, signing in with a mailed link, and the command line's reset link. Asking for a
//! link answers the same, in about the same time, whether or not the address has an
//! account: the request only queues the mail, and the sender (`mail::compose`) finds the
//! account.
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, Event};
use crate::auth::mail_token;
use crate::auth::notify::Notifier;
use crate::auth::password::{HashError, PasswordHasher};
use crate::auth::throttle::Throttle;
use crate::db::DbError;
use crate::domain::{Email, NewPassword, PasswordPolicy, PasswordRejection, SigninMethod};
use crate::mail::compose::{new_link, Links};
use crate::mail::Outbox;
use crate::service::accounts::current_password_holds;
use crate::service::ending::{self, Proven};
use crate::service::factors::{FactorError, Factors};
use crate::service::sessions::end_all_of_user;
use crate::service::signin::{Outcome, Rules};
use crate::service::{account_throttle_key, Client};
use crate::store::mail_outbox::{Kind, NewMail};
use crate::store::mail_tokens::{self, Purpose, TokenRecord};
use crate::store::{self, users::UserRecord, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// No SMTP server is set (and no `--dev-mail`).
    #[error("mail is off")]
    MailDisabled,
    #[error("{0}")]
    InvalidEmail(String),
    #[error("too many requests")]
    Throttled(u64),
    /// Unknown, used, expired, of another purpose, or for an account that is gone or
    /// disabled: which, the holder does not learn.
    #[error("invalid or expired link")]
    InvalidToken,
    #[error("the new password was refused")]
    Password(PasswordRejection),
    #[error("the address is verified already")]
    AlreadyVerified,
    /// `PORTCULLIS_MAGIC_LINKS` is off.
    #[error("sign-in links are off")]
    MagicLinksDisabled,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new address is the current one")]
    SameEmail,
    #[error("email already in use")]
    EmailTaken,
    /// The account is gone since its token was checked.
    #[error("no such account")]
    Gone,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<FactorError> for RecoveryError {
    fn from(e: FactorError) -> Self {
        match e {
            FactorError::Hash(e) => RecoveryError::Hash(e),
            FactorError::Db(e) => RecoveryError::Db(e),
            other => RecoveryError::Internal(other.into()),
        }
    }
}

/// Counts one mail-sending request against `key` and the client; refuses it when either
/// has asked too often within the throttle window.
async fn throttled(
    throttle: &Throttle,
    key: &str,
    client: Client<'_>,
    now: i64,
) -> Result<(), RecoveryError> {
    if let Some(retry_after) = throttle.check(key, client.ip, now).await? {
        return Err(RecoveryError::Throttled(retry_after));
    }
    throttle.record_failure(key, client.ip, now).await?;
    Ok(())
}

/// `POST /api/auth/password-reset`: queues a reset mail for the account with this address,
/// if there is one. The same work, and the same answer, either way.
pub async fn request_reset(
    outbox: Option<Outbox<'_>>,
    throttle: &Throttle,
    client: Client<'_>,
    email: &str,
) -> Result<(), RecoveryError> {
    request_link(outbox, throttle, client, email, Kind::PasswordReset).await
}

/// `POST /api/auth/magic-link`: as a reset request, for a sign-in link.
pub async fn request_magic_link(
    outbox: Option<Outbox<'_>>,
    enabled: bool,
    throttle: &Throttle,
    client: Client<'_>,
    email: &str,
) -> Result<(), RecoveryError> {
    if !enabled {
        return Err(RecoveryError::MagicLinksDisabled);
    }
    request_link(outbox, throttle, client, email, Kind::MagicLink).await
}

/// Queues a mail of `kind` for the account with the address `email`, if there is one: the
/// sender looks the account up, so the request does the same work either way.
async fn request_link(
    outbox: Option<Outbox<'_>>,
    throttle: &Throttle,
    client: Client<'_>,
    email: &str,
    kind: Kind,
) -> Result<(), RecoveryError> {
    let outbox = outbox.ok_or(RecoveryError::MailDisabled)?;
    let email = Email::parse(email).map_err(RecoveryError::InvalidEmail)?;
    let (db, clock) = (outbox.db, outbox.clock);
    throttled(throttle, &email.key(), client, clock.now_ms()).await?;
    outbox
        .queue(NewMail {
            kind,
            user_id: None,
            email: email.as_str(),
            detail: None,
        })
        .await?;
    let event = match kind {
        Kind::MagicLink => Event::MagicLinkRequested,
        _ => Event::PasswordResetRequested,
    };
    let entry = client.entry(None, None, Some(email.as_str()));
    audit::record(db, clock, event, true, &entry).await;
    Ok(())
}

/// `portcullis user reset-link U`: a reset link for the account named `login` (a username
/// or an address), for an operator to hand over when there is no mail. Audited, via `cli`.
pub async fn reset_link(
    db: &crate::db::Db,
    clock: &crate::clock::Clock,
    links: &Links,
    login: &str,
) -> Result<String, RecoveryError> {
    let user = store::users::find_by_login(db, login)
        .await?
        .ok_or(RecoveryError::Gone)?;
    let now = clock.now_ms();
    let url = new_link(db, links, Purpose::Reset, user.id, &user.email, now).await?;
    let entry = crate::audit::Entry {
        subject_id: Some(user.id),
        username: Some(&user.username),
        via: crate::audit::Via::Cli,
        ..crate::audit::Entry::default()
    };
    audit::record(db, clock, Event::PasswordResetRequested, true, &entry).await;
    Ok(url)
}

/// The live token of `purpose` that `presented` is, and its account (enabled).
async fn live_token(
    db: &crate::db::Db,
    presented: &str,
    purposes: &[Purpose],
    now: i64,
) -> Result<(TokenRecord, UserRecord), RecoveryError> {
    if !mail_token::well_formed(presented) {
        return Err(RecoveryError::InvalidToken);
    }
    let token = mail_tokens::find(db, &mail_token::hash(presented))
        .await?
        .filter(|t| purposes.contains(&t.purpose) && t.used_at.is_none() && now < t.expires_at)
        .ok_or(RecoveryError::InvalidToken)?;
    let user = store::users::find_by_id(db, token.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(RecoveryError::InvalidToken)?;
    Ok((token, user))
}

/// `POST /api/auth/password-reset/confirm`: sets the new password (after the policy and
/// before the token is spent, so a refused password leaves the link working), ends every
/// session of the account, clears its sign-in throttle, and tells the owner by mail.
/// Following the link also proves the address it went to.
#[allow(clippy::too_many_arguments)] // each is a component the rule needs, or its input
pub async fn confirm_reset(
    notify: &Notifier<'_>,
    hasher: &Arc<PasswordHasher>,
    signin_throttle: &Throttle,
    policy: &PasswordPolicy,
    outbox: Option<Outbox<'_>>,
    client: Client<'_>,
    token: &str,
    new: &SecretString,
) -> Result<(), RecoveryError> {
    let (db, clock) = (notify.db, notify.clock);
    let now = clock.now_ms();
    let (token, user) = match live_token(db, token, &[Purpose::Reset], now).await {
        Ok(found) => found,
        Err(e) => {
            if matches!(e, RecoveryError::InvalidToken) {
                let entry = client.entry(None, None, None);
                audit::record(db, clock, Event::PasswordReset, false, &entry).await;
            }
            return Err(e);
        }
    };
    let new_password = NewPassword::parse(policy, new.expose_secret(), &user.username, &user.email)
        .map_err(RecoveryError::Password)?;
    let hash = hasher.hash(new_password.secret()).await?;
    if !mail_tokens::consume(db, token.id, now).await? {
        return Err(RecoveryError::InvalidToken);
    }
    store::users::set_password(db, user.id, &hash, now).await?;
    // A reset is a fresh start: no other link mailed before it (another reset link from a
    // race of two senders, a sign-in link, a pending address change) works after it.
    mail_tokens::void_all(db, user.id, now).await?;
    end_all_of_user(db, notify, user.id, None, now).await?;
    if token.email.eq_ignore_ascii_case(&user.email)
        && store::users::mark_email_verified(db, user.id, &user.email, now).await?
    {
        notify.user_changed(user.id).await;
    }
    for login in [
        user.username.as_str(),
        user.email.as_str(),
        &account_throttle_key(user.id),
    ] {
        signin_throttle.record_success(login).await?;
    }
    if let Some(outbox) = outbox {
        outbox
            .queue(NewMail {
                kind: Kind::PasswordChanged,
                user_id: Some(user.id),
                email: &user.email,
                detail: None,
            })
            .await?;
    }
    let entry = client.entry(None, Some(user.id), Some(&user.username));
    audit::record(db, clock, Event::PasswordReset, true, &entry).await;
    Ok(())
}

/// What following a verification link did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    /// The account's address is proven.
    Address,
    /// The new address is proven and is now the account's.
    NewAddress,
}

/// `POST /api/auth/verify-email`: the address the link went to is proven, if it is still
/// the account's; for a link sent to a new address, that address replaces the old one
/// (and the old one is told).
pub async fn verify_email(
    notify: &Notifier<'_>,
    outbox: Option<Outbox<'_>>,
    client: Client<'_>,
    token: &str,
) -> Result<Verified, RecoveryError> {
    let (db, clock) = (notify.db, notify.clock);
    let now = clock.now_ms();
    let found = live_token(db, token, &[Purpose::Verify, Purpose::EmailChange], now).await;
    let (token, user) = match found {
        Ok(found) => found,
        Err(e) => {
            if matches!(e, RecoveryError::InvalidToken) {
                let entry = client.entry(None, None, None);
                audit::record(db, clock, Event::EmailVerified, false, &entry).await;
            }
            return Err(e);
        }
    };
    if token.purpose == Purpose::EmailChange {
        return change_email(notify, outbox, client, &token, &user, now).await;
    }
    if !mail_tokens::consume(db, token.id, now).await?
        || !store::users::mark_email_verified(db, user.id, &token.email, now).await?
    {
        return Err(RecoveryError::InvalidToken);
    }
    // Every node's cached account (`GET /api/auth/me`) shows the proven address.
    notify.user_changed(user.id).await;
    let entry = client.entry(None, Some(user.id), Some(&user.username));
    audit::record(db, clock, Event::EmailVerified, true, &entry).await;
    Ok(Verified::Address)
}

/// The second half of an email change: the new address, proven, replaces the old one;
/// links mailed to the old one stop working; the old one is told.
async fn change_email(
    notify: &Notifier<'_>,
    outbox: Option<Outbox<'_>>,
    client: Client<'_>,
    token: &TokenRecord,
    user: &UserRecord,
    now: i64,
) -> Result<Verified, RecoveryError> {
    let db = notify.db;
    let new = Email::parse(&token.email).map_err(|_| RecoveryError::InvalidToken)?;
    if !mail_tokens::consume(db, token.id, now).await? {
        return Err(RecoveryError::InvalidToken);
    }
    match store::users::set_verified_email(db, user.id, &new, now).await {
        Ok(true) => {}
        Ok(false) => return Err(RecoveryError::InvalidToken),
        Err(StoreError::EmailTaken) => return Err(RecoveryError::EmailTaken),
        Err(StoreError::UsernameTaken) => return Err(RecoveryError::InvalidToken),
        Err(StoreError::Db(e)) => return Err(e.into()),
    }
    notify.user_changed(user.id).await;
    // Every other link the account has went to the old address.
    mail_tokens::void_all(db, user.id, now).await?;
    if let Some(outbox) = outbox {
        outbox
            .queue(NewMail {
                kind: Kind::EmailChanged,
                user_id: Some(user.id),
                email: &user.email,
                detail: Some(new.as_str()),
            })
            .await?;
    }
    let entry = client.entry(None, Some(user.id), Some(&user.username));
    audit::record(db, notify.clock, Event::EmailChanged, true, &entry).await;
    Ok(Verified::NewAddress)
}

/// `POST /api/auth/email`: with the current password, mails a link to the new address;
/// the change takes effect when it is followed (`verify_email`). The password is checked
/// under the sign-in throttle, as for a password change.
#[allow(clippy::too_many_arguments)] // each is a component the rule needs, or its input
pub async fn request_email_change(
    outbox: Option<Outbox<'_>>,
    hasher: &Arc<PasswordHasher>,
    signin_throttle: &Throttle,
    mail_throttle: &Throttle,
    client: Client<'_>,
    user_id: i64,
    current: SecretString,
    new_email: &str,
) -> Result<(), RecoveryError> {
    let outbox = outbox.ok_or(RecoveryError::MailDisabled)?;
    let (db, clock) = (outbox.db, outbox.clock);
    let user = store::users::find_by_id(db, user_id)
        .await?
        .ok_or(RecoveryError::Gone)?;
    let now = clock.now_ms();
    if let Some(retry_after) = signin_throttle
        .check(&user.username, client.ip, now)
        .await?
    {
        return Err(RecoveryError::Throttled(retry_after));
    }
    let new = Email::parse(new_email).map_err(RecoveryError::InvalidEmail)?;
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    let event = Event::EmailChangeRequested;
    let held = current_password_holds::<RecoveryError>(
        db,
        clock,
        hasher,
        signin_throttle,
        &entry,
        client,
        &user,
        current,
        event,
        now,
    )
    .await?;
    if !held {
        return Err(RecoveryError::WrongPassword);
    }
    if new.key() == user.email.to_ascii_lowercase() {
        return Err(RecoveryError::SameEmail);
    }
    if store::users::find_by_email(db, new.as_str())
        .await?
        .is_some()
    {
        return Err(RecoveryError::EmailTaken);
    }
    throttled(mail_throttle, &new.key(), client, now).await?;
    outbox
        .queue(NewMail {
            kind: Kind::EmailChange,
            user_id: Some(user.id),
            email: new.as_str(),
            detail: None,
        })
        .await?;
    audit::record(db, clock, Event::EmailChangeRequested, true, &entry).await;
    Ok(())
}

/// `POST /api/auth/magic-link/confirm`: signs in the account a live sign-in link was
/// mailed to, as a password sign-in would (a new session, audited); the link is spent, and
/// following it proves the address.
pub async fn signin_with_magic_link(
    f: &Factors<'_>,
    enabled: bool,
    rules: Rules,
    client: Client<'_>,
    token: &str,
) -> Result<Outcome, RecoveryError> {
    if !enabled {
        return Err(RecoveryError::MagicLinksDisabled);
    }
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let found = match live_token(db, token, &[Purpose::MagicLink], now).await {
        Ok((token, user)) if mail_tokens::consume(db, token.id, now).await? => Ok((token, user)),
        Ok(_) => Err(RecoveryError::InvalidToken),
        Err(e) => Err(e),
    };
    let (token, mut user) = match found {
        Ok(found) => found,
        Err(e) => {
            if matches!(e, RecoveryError::InvalidToken) {
                let entry = client.entry(None, None, None);
                audit::record(db, clock, Event::MagicLinkSignin, false, &entry).await;
            }
            return Err(e);
        }
    };
    if store::users::mark_email_verified(db, user.id, &token.email, now).await? {
        user.email_verified_at = Some(now);
        f.sessions.notify.user_changed(user.id).await;
    }
    let proven = Proven {
        user,
        method: SigninMethod::MagicLink,
        event: Event::MagicLinkSignin,
        login: None,
    };
    Ok(ending::after_first_factor(f, client, proven, rules.require_mfa_for).await?)
}

/// `POST /api/auth/verify-email/resend`: a new verification link for the signed-in account.
pub async fn resend_verification(
    outbox: Option<Outbox<'_>>,
    throttle: &Throttle,
    client: Client<'_>,
    user_id: i64,
) -> Result<(), RecoveryError> {
    let outbox = outbox.ok_or(RecoveryError::MailDisabled)?;
    let user = store::users::find_by_id(outbox.db, user_id)
        .await?
        .ok_or(RecoveryError::Gone)?;
    if user.email_verified_at.is_some() {
        return Err(RecoveryError::AlreadyVerified);
    }
    throttled(throttle, &user.email, client, outbox.clock.now_ms()).await?;
    queue_verification(outbox, user.id, &user.email).await?;
    Ok(())
}

/// Queues the mail that asks the owner of `email` to verify it as `user_id`'s address.
pub async fn queue_verification(
    outbox: Outbox<'_>,
    user_id: i64,
    email: &str,
) -> Result<(), DbError> {
    outbox
        .queue(NewMail {
            kind: Kind::VerifyEmail,
            user_id: Some(user_id),
            email,
            detail: None,
        })
        .await
}
