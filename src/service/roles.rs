//! Defining roles and permissions (docs/API.md §2, "Roles, permissions and groups"): the
//! admin API and the command line come here. Each change takes the administrative lock,
//! is one transaction, is audited with what it changed, and reaches every node's cache.
//!
//! Deleting a role or permission that is still held or given is refused (409 `in_use`)
//! unless the caller says `cascade`: then it is taken from everyone at once, and the audit
//! entry says from how many.
use crate::audit::{self, Event};
use crate::auth::notify::Notifier;
use crate::db::Db;
use crate::domain::{PermissionName, RightsName, Role};
use crate::service::admin::{lock_and_check, Actor, AdminError};
use crate::store::{self, roles::PermissionRecord, roles::RoleRecord};

/// A role to define.
pub struct NewRole {
    pub name: String,
    pub description: Option<String>,
    /// An application role: seen only in this client's tokens.
    pub client_id: Option<String>,
    pub permissions: Vec<String>,
}

/// What to change in a role; `None` leaves it. `description: Some(None)` clears it.
#[derive(Default)]
pub struct RoleChange {
    pub description: Option<Option<String>>,
    pub permissions: Option<Vec<String>>,
}

const MAX_DESCRIPTION: usize = 255;
/// How many permissions one role may give, and how many may be defined in all: enough for
/// any application, small enough that a role page and a cache entry stay small.
pub const MAX_PERMISSIONS_PER_ROLE: usize = 100;
pub const MAX_PERMISSIONS: usize = 1000;
pub const MAX_ROLES: usize = 1000;

pub fn check_description(description: Option<&str>) -> Result<(), AdminError> {
    match description {
        Some(d) if d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control) => {
            Err(AdminError::Invalid(format!(
                "A description is at most {MAX_DESCRIPTION} printable characters."
            )))
        }
        _ => Ok(()),
    }
}

/// Permission names to ids; the first unknown one is the error.
async fn resolve_permissions(db: &Db, names: &[String]) -> Result<Vec<i64>, AdminError> {
    if names.len() > MAX_PERMISSIONS_PER_ROLE {
        return Err(AdminError::Invalid(format!(
            "A role gives at most {MAX_PERMISSIONS_PER_ROLE} permissions."
        )));
    }
    let defined = store::roles::permissions(db).await?;
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let found = defined
            .iter()
            .find(|p| &p.name == name)
            .ok_or_else(|| AdminError::UnknownPermission(name.chars().take(100).collect()))?;
        if !ids.contains(&found.id) {
            ids.push(found.id);
        }
    }
    Ok(ids)
}

fn record_of(roles: Vec<RoleRecord>, id: i64) -> Result<RoleRecord, AdminError> {
    roles
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AdminError::NotFound)
}

pub async fn create_role(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    role: NewRole,
) -> Result<RoleRecord, AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let name = RightsName::parse(&role.name, "role").map_err(AdminError::Invalid)?;
    check_description(role.description.as_deref())?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let existing = store::roles::list(db).await?;
    if existing
        .iter()
        .any(|r| r.name.eq_ignore_ascii_case(name.as_str()))
    {
        return Err(AdminError::NameTaken);
    }
    if existing.len() >= MAX_ROLES {
        return Err(AdminError::Invalid(format!(
            "At most {MAX_ROLES} roles can be defined."
        )));
    }
    if let Some(client) = &role.client_id {
        if store::oauth_clients::find(db, client).await?.is_none() {
            return Err(AdminError::Invalid(format!(
                "No client has the id {}.",
                client.chars().take(64).collect::<String>()
            )));
        }
    }
    let permissions = resolve_permissions(db, &role.permissions).await?;
    let now = clock.now_ms();
    let id = store::roles::create(
        db,
        name.as_str(),
        role.description.as_deref(),
        role.client_id.as_deref(),
        &permissions,
        now,
    )
    .await?;
    let detail = format!(
        "role {}{}: {}",
        name.as_str(),
        role.client_id
            .as_deref()
            .map(|c| format!(" of client {c}"))
            .unwrap_or_default(),
        role.permissions.join(" ")
    );
    let entry = actor.entry(None, None);
    let entry = audit::Entry {
        detail: Some(&detail),
        client_id: role.client_id.as_deref(),
        ..entry
    };
    audit::record(db, clock, Event::RoleCreated, true, &entry).await;
    record_of(store::roles::list(db).await?, id)
}

pub async fn update_role(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    name: &str,
    change: RoleChange,
) -> Result<RoleRecord, AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    check_description(change.description.as_ref().and_then(|d| d.as_deref()))?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let role = store::roles::find(db, name)
        .await?
        .ok_or(AdminError::NotFound)?;
    let permissions = match &change.permissions {
        Some(names) => Some(resolve_permissions(db, names).await?),
        None => None,
    };
    store::roles::update(
        db,
        role.id,
        change.description.as_ref().map(|d| d.as_deref()),
        permissions.as_deref(),
    )
    .await?;
    let updated = record_of(store::roles::list(db).await?, role.id)?;
    let detail = format!("role {}: {}", updated.name, updated.permissions.join(" "));
    let entry = audit::Entry {
        detail: Some(&detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::RoleUpdated, true, &entry).await;
    if permissions.is_some() {
        notify.rights_changed().await;
    }
    Ok(updated)
}

pub async fn delete_role(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    name: &str,
    cascade: bool,
) -> Result<(), AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let role = store::roles::find(db, name)
        .await?
        .ok_or(AdminError::NotFound)?;
    if let Some(built_in) = role.built_in() {
        return Err(AdminError::Invalid(format!(
            "The built-in role {} cannot be deleted.",
            built_in.name()
        )));
    }
    if (role.users > 0 || role.groups > 0) && !cascade {
        return Err(AdminError::InUse(format!(
            "The role {} is held by {} accounts and {} groups; delete it with cascade=true to take it from them.",
            role.name, role.users, role.groups
        )));
    }
    store::roles::delete(db, role.id).await?;
    let detail = format!(
        "role {}: taken from {} accounts and {} groups",
        role.name, role.users, role.groups
    );
    let entry = audit::Entry {
        detail: Some(&detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::RoleDeleted, true, &entry).await;
    notify.rights_changed().await;
    Ok(())
}

pub async fn create_permission(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    name: &str,
    description: Option<&str>,
) -> Result<PermissionRecord, AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let name = PermissionName::parse(name).map_err(AdminError::Invalid)?;
    if name.is_built_in() {
        return Err(AdminError::Invalid(format!(
            "Permissions starting with {} are Portcullis's own.",
            PermissionName::RESERVED_PREFIX
        )));
    }
    check_description(description)?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    if store::roles::permissions(db).await?.len() >= MAX_PERMISSIONS {
        return Err(AdminError::Invalid(format!(
            "At most {MAX_PERMISSIONS} permissions can be defined."
        )));
    }
    if !store::roles::create_permission(db, name.as_str(), description, clock.now_ms()).await? {
        return Err(AdminError::NameTaken);
    }
    let detail = format!("permission {}", name.as_str());
    let entry = audit::Entry {
        detail: Some(&detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::PermissionCreated, true, &entry).await;
    store::roles::permissions(db)
        .await?
        .into_iter()
        .find(|p| p.name == name.as_str())
        .ok_or(AdminError::NotFound)
}

pub async fn delete_permission(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    name: &str,
    cascade: bool,
) -> Result<(), AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let permission = store::roles::permissions(db)
        .await?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or(AdminError::NotFound)?;
    if permission.name.starts_with(PermissionName::RESERVED_PREFIX) {
        return Err(AdminError::Invalid(
            "Portcullis's own permissions cannot be deleted.".into(),
        ));
    }
    if !permission.roles.is_empty() && !cascade {
        return Err(AdminError::InUse(format!(
            "The permission {} is given by the roles {}; delete it with cascade=true to take it from them.",
            permission.name,
            permission.roles.join(", ")
        )));
    }
    store::roles::delete_permission(db, permission.id).await?;
    let detail = format!(
        "permission {}: taken from roles {}",
        permission.name,
        permission.roles.join(" ")
    );
    let entry = audit::Entry {
        detail: Some(&detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::PermissionDeleted, true, &entry).await;
    notify.rights_changed().await;
    Ok(())
}

/// Whether `name` is a built-in role's (they may carry permissions, but keep their names).
pub fn is_built_in(name: &str) -> bool {
    Role::ALL
        .iter()
        .any(|r| r.name().eq_ignore_ascii_case(name))
}
