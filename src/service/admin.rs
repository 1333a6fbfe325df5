//! Account administration: roles, disabling, deleting. The admin API and the command line
//! both come here, so both keep the same rules:
//! - changes run one at a time across every node (`store::admin_changes`), and an admin
//!   who asks must still be an enabled admin when the change runs;
//! - no change leaves the service without an enabled admin, unless the command line says
//!   `--force`, and then the override is audited as such;
//! - disabling ends every session of the account;
//! - every change is audited, and told to every node.
use std::time::Duration;

use crate::audit::{self, Entry, Event, Via};
use crate::auth::notify::Notifier;
use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::domain::{Role, RoleSet};
use crate::service::sessions;
use crate::store::{self, admin_changes, users::UserRecord};

/// Who asks for a change, and from where.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A signed-in admin, over HTTP.
    Admin {
        id: i64,
        ip: &'a str,
        user_agent: Option<&'a str>,
    },
    /// An operator on the host, with the `portcullis` command line. `force` lets a change
    /// remove the last enabled admin.
    CommandLine { force: bool },
}

/// What to change; `None` leaves it as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct UserChange {
    pub roles: Option<RoleSet>,
    pub disabled: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no such user")]
    NotFound,
    #[error("the change would leave no enabled admin")]
    LastAdmin,
    /// The acting admin lost the role since their token was checked.
    #[error("the acting account is no longer an admin")]
    NotAdmin,
    /// The acting admin was disabled or deleted meanwhile.
    #[error("the acting account is disabled or gone")]
    ActorGone,
    #[error("another administrative change held the lock for {0:?}")]
    Busy(Duration),
    #[error("database: {0}")]
    Db(#[from] DbError),
}

impl From<admin_changes::LockError> for AdminError {
    fn from(e: admin_changes::LockError) -> Self {
        match e {
            admin_changes::LockError::Busy(waited) => AdminError::Busy(waited),
            admin_changes::LockError::Db(e) => AdminError::Db(e),
        }
    }
}

/// Changes a user's roles or disabled flag; returns the user as they now are. Takes effect
/// on the user's very next request, on every node.
pub async fn update_user(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    id: i64,
    change: UserChange,
) -> Result<UserRecord, AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let (_one_at_a_time, target) = begin(db, actor, id).await?;
    let loses_admin =
        change.roles.is_some_and(|r| !r.contains(Role::Admin)) || change.disabled == Some(true);
    let entry = entry(actor, id, &target.username);
    if loses_admin {
        keep_an_admin(db, clock, actor, &target, &entry).await?;
    }
    let now = clock.now_ms();
    if let Some(roles) = change.roles.filter(|r| *r != target.roles) {
        store::users::set_roles(db, id, roles, now).await?;
        audit::record(db, clock, Event::RolesChanged, true, &entry).await;
    }
    if let Some(disabled) = change.disabled.filter(|d| *d != target.disabled) {
        store::users::set_disabled(db, id, disabled, now).await?;
        let event = if disabled {
            sessions::end_all_of_user(db, notify, id, None, now).await?;
            Event::Disabled
        } else {
            Event::Enabled
        };
        audit::record(db, clock, event, true, &entry).await;
    }
    notify.user_changed(id).await;
    store::users::find_by_id(db, id)
        .await?
        .ok_or(AdminError::NotFound)
}

/// Deletes a user; their tokens stop working at once.
pub async fn delete_user(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    id: i64,
) -> Result<(), AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let (_one_at_a_time, target) = begin(db, actor, id).await?;
    let entry = entry(actor, id, &target.username);
    keep_an_admin(db, clock, actor, &target, &entry).await?;
    // Ended first, so that their clients hear of it (back-channel logout) at once.
    sessions::end_all_of_user(db, notify, id, None, clock.now_ms()).await?;
    if !store::users::delete(db, id).await? {
        return Err(AdminError::NotFound);
    }
    notify.user_changed(id).await;
    audit::record(db, clock, Event::Deleted, true, &entry).await;
    Ok(())
}

/// Takes the lock for one change (held until the returned guard drops), checks the actor
/// under it, and reads the user the change is about.
async fn begin(
    db: &Db,
    actor: Actor<'_>,
    id: i64,
) -> Result<(admin_changes::AdminChangeLock, UserRecord), AdminError> {
    let lock = admin_changes::lock(db).await?;
    check_actor(db, actor).await?;
    let target = store::users::find_by_id(db, id)
        .await?
        .ok_or(AdminError::NotFound)?;
    Ok((lock, target))
}

/// The admin who asks is still one, checked under the lock: two admins cannot remove
/// each other at once.
async fn check_actor(db: &Db, actor: Actor<'_>) -> Result<(), AdminError> {
    let Actor::Admin { id, .. } = actor else {
        return Ok(());
    };
    match store::users::auth_state(db, id).await? {
        Some(u) if !u.disabled && u.roles.contains(Role::Admin) => Ok(()),
        Some(u) if !u.disabled => Err(AdminError::NotAdmin),
        _ => Err(AdminError::ActorGone),
    }
}

/// Refuses a change that would take away the last enabled admin, unless the command line
/// forces it; a forced one is audited before it is made.
async fn keep_an_admin(
    db: &Db,
    clock: &Clock,
    actor: Actor<'_>,
    target: &UserRecord,
    entry: &Entry<'_>,
) -> Result<(), AdminError> {
    let is_enabled_admin = !target.disabled && target.roles.contains(Role::Admin);
    if !is_enabled_admin || store::users::count_active_admins_except(db, target.id).await? > 0 {
        return Ok(());
    }
    match actor {
        Actor::CommandLine { force: true } => {
            audit::record(db, clock, Event::LastAdminOverride, true, entry).await;
            Ok(())
        }
        _ => Err(AdminError::LastAdmin),
    }
}

fn entry<'a>(actor: Actor<'a>, subject_id: i64, username: &'a str) -> Entry<'a> {
    actor.entry(Some(subject_id), Some(username))
}

impl<'a> Actor<'a> {
    /// The audit entry of a change this actor makes.
    pub fn entry(self, subject_id: Option<i64>, username: Option<&'a str>) -> Entry<'a> {
        match self {
            Actor::Admin { id, ip, user_agent } => Entry {
                actor_id: Some(id),
                subject_id,
                username,
                ip: Some(ip),
                user_agent,
                via: Via::Api,
                client_id: None,
            },
            Actor::CommandLine { .. } => Entry {
                actor_id: None,
                subject_id,
                username,
                ip: None,
                user_agent: None,
                via: Via::Cli,
                client_id: None,
            },
        }
    }
}
