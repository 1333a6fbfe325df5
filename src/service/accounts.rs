//! A signed-in user's own account: changing the password. The current password is checked
//! under the sign-in throttle (a stolen session must not become a way to guess it), the
//! new one follows the signup policy, and every other session of the account ends.
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, Entry, Event};
use crate::auth::notify::Notifier;
use crate::auth::password::{HashError, PasswordHasher};
use crate::auth::throttle::Throttle;
use crate::clock::{Clock, Millis};
use crate::db::{Db, DbError};
use crate::domain::{NewPassword, PasswordPolicy, PasswordRejection};
use crate::service::sessions::end_all_of_user;
use crate::service::Client;
use crate::store::{self, users::UserRecord};

/// Whose password, and from which of their sessions (the one that stays).
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    pub user_id: i64,
    pub session_id: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The account is gone since its token was checked.
    #[error("no such account")]
    Gone,
    #[error("too many failed attempts")]
    Throttled(u64),
    #[error("the new password was refused")]
    Password(PasswordRejection),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("database: {0}")]
    Db(#[from] DbError),
}

/// Whether `current` is the account's password, checked as a sign-in would count it: a
/// wrong one is a failed sign-in for the account's username and this client (a stolen
/// session is no way to guess the password) and is audited as `entry`'s failed `event`.
/// The caller checks the throttle first.
#[allow(clippy::too_many_arguments)] // each is a component the rule needs, or its input
pub(crate) async fn current_password_holds<E: From<HashError> + From<DbError>>(
    db: &Db,
    clock: &Clock,
    hasher: &Arc<PasswordHasher>,
    throttle: &Throttle,
    entry: &Entry<'_>,
    client: Client<'_>,
    record: &UserRecord,
    current: SecretString,
    event: Event,
    now: Millis,
) -> Result<bool, E> {
    if hasher
        .verify(current, Some(record.password_hash.clone()))
        .await?
    {
        return Ok(true);
    }
    throttle
        .record_failure(&record.username, client.ip, now)
        .await?;
    audit::record(db, clock, event, false, entry).await;
    Ok(false)
}

#[allow(clippy::too_many_arguments)] // each is a component the rule needs, or its input
pub async fn change_password(
    notify: &Notifier<'_>,
    hasher: &Arc<PasswordHasher>,
    throttle: &Throttle,
    policy: &PasswordPolicy,
    owner: Owner<'_>,
    client: Client<'_>,
    current: SecretString,
    new: &SecretString,
) -> Result<(), AccountError> {
    let (db, clock) = (notify.db, notify.clock);
    let record = store::users::find_by_id(db, owner.user_id)
        .await?
        .ok_or(AccountError::Gone)?;
    let now = clock.now_ms();
    if let Some(retry_after) = throttle.check(&record.username, client.ip, now).await? {
        return Err(AccountError::Throttled(retry_after));
    }
    let new_password =
        NewPassword::parse(policy, new.expose_secret(), &record.username, &record.email)
            .map_err(AccountError::Password)?;
    let entry = client.entry(
        Some(owner.user_id),
        Some(owner.user_id),
        Some(&record.username),
    );
    let held = current_password_holds::<AccountError>(
        db,
        clock,
        hasher,
        throttle,
        &entry,
        client,
        &record,
        current,
        Event::PasswordChanged,
        now,
    )
    .await?;
    if !held {
        return Err(AccountError::WrongPassword);
    }
    let hash = hasher.hash(new_password.secret()).await?;
    store::users::set_password(db, owner.user_id, &hash, now).await?;
    end_all_of_user(db, notify, owner.user_id, Some(owner.session_id), now).await?;
    audit::record(db, clock, Event::PasswordChanged, true, &entry).await;
    Ok(())
}
