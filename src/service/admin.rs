//! Account administration: roles, disabling, deleting. The admin API and the command line
//! both come here (and `service::roles` and `service::groups` take the same lock and
//! actor check), so both keep the same rules:
//! - changes run one at a time across every node (`store::admin_changes`), and an admin
//!   who asks must still be an enabled admin when the change runs;
//! - no change leaves the service without an enabled admin, unless the command line says
//!   `--force`, and then the override is audited as such;
//! - disabling ends every session of the account;
//! - every change is audited, and told to every node;
//! - an account that is not an admin but holds `portcullis:users:manage` may change other
//!   accounts' roles, but only give or take roles it holds itself, and never an admin's.
use std::sync::Arc;
use std::time::Duration;

use crate::audit::{self, Entry, Event, Via};
use crate::auth::notify::Notifier;
use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::domain::{PermissionName, Rights, Role, RoleSet};
use crate::service::sessions;
use crate::store::{self, admin_changes, users::UserRecord};

/// Who asks for a change, and from where.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A signed-in admin (or manager), over HTTP.
    Admin {
        id: i64,
        ip: &'a str,
        user_agent: Option<&'a str>,
        /// The API key the request came with: the change may use only what the key was
        /// given, not all its owner holds.
        key: Option<KeyLimit<'a>>,
    },
    /// An operator on the host, with the `portcullis` command line. `force` lets a change
    /// remove the last enabled admin.
    CommandLine { force: bool },
}

/// What an API key may do, as its request was checked (within its owner's rights then).
#[derive(Clone, Copy, Debug)]
pub struct KeyLimit<'a> {
    pub roles: RoleSet,
    pub rights: &'a Rights,
}

/// What to change; `None` leaves it as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    /// The roles to give the account itself, by name (built-in ones and any an admin
    /// defined); `user` is always kept.
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
}

/// What the actor may do, as checked under the lock.
#[derive(Clone, Debug)]
pub enum Authority {
    /// An admin, or the command line.
    Full,
    /// `portcullis:users:manage`: other accounts' roles and groups, within its own roles.
    Manager { roles: RoleSet, rights: Arc<Rights> },
}

impl Authority {
    /// Whether the actor may give or take the role `name` (with its id): an admin any; a
    /// manager only one it holds itself, and never `admin`.
    pub fn may_grant(&self, id: i64, name: &str) -> bool {
        match self {
            Authority::Full => true,
            Authority::Manager { roles, rights } => match Role::from_id(id) {
                Some(Role::Admin) => false,
                Some(role) => roles.contains(role),
                None => {
                    rights.has_role(name)
                        || rights
                            .app_roles
                            .iter()
                            .any(|r| r.name.eq_ignore_ascii_case(name))
                }
            },
        }
    }

    /// Definitions (roles, permissions, groups) are an admin's to change.
    pub fn require_full(&self) -> Result<(), AdminError> {
        match self {
            Authority::Full => Ok(()),
            Authority::Manager { .. } => Err(AdminError::NotAdmin),
        }
    }
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
    #[error("no role named {0}")]
    UnknownRole(String),
    #[error("no permission named {0}")]
    UnknownPermission(String),
    /// A role, permission or group of that name (any case) exists.
    #[error("the name is taken")]
    NameTaken,
    /// Still held or given; `cascade` would take it from all of them.
    #[error("{0}")]
    InUse(String),
    /// A request that breaks a rule of its own (a built-in role deleted, `admin` on a
    /// group, a reserved permission).
    #[error("{0}")]
    Invalid(String),
    /// A manager asked for more than it holds.
    #[error("{0}")]
    Escalation(&'static str),
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// A stored value this build cannot read, or a secret that could not be sealed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
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
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    let target = store::users::find_by_id(db, id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let roles = match &change.roles {
        Some(names) => Some(resolve_roles(db, names).await?),
        None => None,
    };
    if let Authority::Manager { .. } = authority {
        if change.disabled.is_some() {
            return Err(AdminError::NotAdmin);
        }
        if target
            .granted
            .iter()
            .any(|g| g.built_in() == Some(Role::Admin))
        {
            return Err(AdminError::Escalation(
                "Only an admin may change an admin's roles.",
            ));
        }
    }
    let own: Vec<(i64, String)> = target
        .granted
        .iter()
        .filter(|g| !g.via_group)
        .map(|g| (g.id, g.name.clone()))
        .collect();
    if let Some(new) = &roles {
        let changed = new
            .iter()
            .filter(|r| !own.contains(r))
            .chain(own.iter().filter(|r| !new.contains(r)))
            .filter(|(id, _)| *id != Role::User.id());
        for (role_id, name) in changed {
            if !authority.may_grant(*role_id, name) {
                return Err(AdminError::Escalation(
                    "Only roles you hold yourself may be given or taken.",
                ));
            }
        }
    }
    let loses_admin = roles
        .as_ref()
        .is_some_and(|r| !r.iter().any(|(id, _)| *id == Role::Admin.id()))
        || change.disabled == Some(true);
    let entry = entry(actor, id, &target.username);
    if loses_admin {
        keep_an_admin(db, clock, actor, &target, &entry).await?;
    }
    let now = clock.now_ms();
    if let Some(new) = roles {
        let mut wanted: Vec<i64> = new.iter().map(|(id, _)| *id).collect();
        wanted.push(Role::User.id());
        wanted.sort_unstable();
        wanted.dedup();
        let mut held: Vec<i64> = own.iter().map(|(id, _)| *id).collect();
        held.sort_unstable();
        held.dedup();
        if wanted != held {
            store::users::set_roles(db, id, &wanted, now).await?;
            let names: Vec<&str> = new.iter().map(|(_, n)| n.as_str()).collect();
            let detail = format!("roles: {}", names.join(" "));
            let entry = Entry {
                detail: Some(&detail),
                ..entry.clone()
            };
            audit::record(db, clock, Event::RolesChanged, true, &entry).await;
        }
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

/// Role names to ids (`user` included whether named or not), compared without regard to
/// case; the first unknown name is the error.
pub async fn resolve_roles(db: &Db, names: &[String]) -> Result<Vec<(i64, String)>, AdminError> {
    let defined = store::roles::list(db).await?;
    let mut resolved = vec![(Role::User.id(), Role::User.name().to_string())];
    for name in names {
        let role = defined
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| AdminError::UnknownRole(name.chars().take(64).collect()))?;
        if !resolved.iter().any(|(id, _)| *id == role.id) {
            resolved.push((role.id, role.name.clone()));
        }
    }
    Ok(resolved)
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
    let (lock, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let target = store::users::find_by_id(db, id)
        .await?
        .ok_or(AdminError::NotFound)?;
    Ok((lock, target))
}

/// Takes the lock for one change and says what the actor may do, checked under it: two
/// admins cannot remove each other at once.
pub(crate) async fn lock_and_check(
    db: &Db,
    actor: Actor<'_>,
) -> Result<(admin_changes::AdminChangeLock, Authority), AdminError> {
    let lock = admin_changes::lock(db).await?;
    let authority = check_actor(db, actor).await?;
    Ok((lock, authority))
}

/// The actor's authority, from its account as it is now (under the lock); an API key's is
/// what the key was given and its owner still holds.
async fn check_actor(db: &Db, actor: Actor<'_>) -> Result<Authority, AdminError> {
    let Actor::Admin { id, key, .. } = actor else {
        return Ok(Authority::Full);
    };
    let Some(mut u) = store::users::auth_state(db, id)
        .await?
        .filter(|u| !u.disabled)
    else {
        return Err(AdminError::ActorGone);
    };
    if let Some(key) = key {
        u.roles = u.roles.iter().filter(|r| key.roles.contains(*r)).collect();
        u.rights = Arc::new(u.rights.within(&key.rights.roles, &key.rights.permissions));
    }
    if u.roles.contains(Role::Admin) {
        Ok(Authority::Full)
    } else if u.rights.has_permission(PermissionName::MANAGE_USERS) {
        Ok(Authority::Manager {
            roles: u.roles,
            rights: u.rights,
        })
    } else {
        Err(AdminError::NotAdmin)
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
            Actor::Admin {
                id, ip, user_agent, ..
            } => Entry {
                actor_id: Some(id),
                subject_id,
                username,
                ip: Some(ip),
                user_agent,
                via: Via::Api,
                client_id: None,
                detail: None,
            },
            Actor::CommandLine { .. } => Entry {
                actor_id: None,
                subject_id,
                username,
                ip: None,
                user_agent: None,
                via: Via::Cli,
                client_id: None,
                detail: None,
            },
        }
    }
}
