//! Account recovery and proof of address by mail: asking for a password reset link and
//! using it, verifying an address, asking for a verification link again. Asking answers
//! the same, in about the same time, whether or not the address has an account: the
//! request only queues the mail, and the sender (`mail::compose`) finds the account.
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, Event};
use crate::auth::mail_token;
use crate::auth::notify::Notifier;
use crate::auth::password::{HashError, PasswordHasher};
use crate::auth::throttle::Throttle;
use crate::db::DbError;
use crate::domain::{Email, NewPassword, PasswordPolicy, PasswordRejection};
use crate::mail::Outbox;
use crate::service::sessions::end_all_of_user;
use crate::service::signin::account_throttle_key;
use crate::service::Client;
use crate::store::mail_outbox::{Kind, NewMail};
use crate::store::mail_tokens::{self, Purpose, TokenRecord};
use crate::store::{self, users::UserRecord};

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
    /// The account is gone since its token was checked.
    #[error("no such account")]
    Gone,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("database: {0}")]
    Db(#[from] DbError),
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
    let outbox = outbox.ok_or(RecoveryError::MailDisabled)?;
    let email = Email::parse(email).map_err(RecoveryError::InvalidEmail)?;
    let (db, clock) = (outbox.db, outbox.clock);
    throttled(throttle, &email.key(), client, clock.now_ms()).await?;
    outbox
        .queue(NewMail {
            kind: Kind::PasswordReset,
            user_id: None,
            email: email.as_str(),
            detail: None,
        })
        .await?;
    let entry = client.entry(None, None, Some(email.as_str()));
    audit::record(db, clock, Event::PasswordResetRequested, true, &entry).await;
    Ok(())
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
    mail_tokens::void_all(db, user.id, Purpose::Reset, now).await?;
    end_all_of_user(db, notify, user.id, None, now).await?;
    if token.email.eq_ignore_ascii_case(&user.email) {
        store::users::mark_email_verified(db, user.id, &user.email, now).await?;
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

/// `POST /api/auth/verify-email`: the address the link went to is proven, if it is still
/// the account's.
pub async fn verify_email(
    notify: &Notifier<'_>,
    client: Client<'_>,
    token: &str,
) -> Result<(), RecoveryError> {
    let (db, clock) = (notify.db, notify.clock);
    let now = clock.now_ms();
    let found = live_token(db, token, &[Purpose::Verify], now).await;
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
    if !mail_tokens::consume(db, token.id, now).await?
        || !store::users::mark_email_verified(db, user.id, &token.email, now).await?
    {
        return Err(RecoveryError::InvalidToken);
    }
    let entry = client.entry(None, Some(user.id), Some(&user.username));
    audit::record(db, clock, Event::EmailVerified, true, &entry).await;
    Ok(())
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
