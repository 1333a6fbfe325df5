//! Groups and their members (docs/API.md §2, "Roles, permissions and groups"). Groups do
//! not nest: a user's effective roles are their own plus those of the groups they are in,
//! one join, never a walk, and no cycle to guard against.
//!
//! `admin` is never carried by a group: it is given to accounts one by one, so that the
//! last-admin rule counts exactly the accounts that hold it.
use crate::audit::{self, Event};
use crate::auth::notify::Notifier;
use crate::db::Db;
use crate::domain::{RightsName, Role};
use crate::service::admin::{lock_and_check, resolve_roles, Actor, AdminError, Authority};
use crate::service::roles::check_description;
use crate::store::{self, groups::GroupRecord};

pub struct NewGroup {
    pub name: String,
    pub description: Option<String>,
    pub roles: Vec<String>,
}

/// What to change; `None` leaves it. `description: Some(None)` clears it.
#[derive(Default)]
pub struct GroupChange {
    pub description: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
}

pub const MAX_GROUPS: usize = 10_000;
/// How many groups one account may be in: the cap keeps a cache entry, and the `groups`
/// claim before it moves to userinfo, bounded.
pub const MAX_GROUPS_PER_USER: usize = 500;
const MAX_ROLES_PER_GROUP: usize = 100;

/// Role names to ids for a group: no `user` (everyone has it), never `admin`.
async fn group_roles(db: &Db, names: &[String]) -> Result<Vec<i64>, AdminError> {
    if names.len() > MAX_ROLES_PER_GROUP {
        return Err(AdminError::Invalid(format!(
            "A group carries at most {MAX_ROLES_PER_GROUP} roles."
        )));
    }
    let resolved = resolve_roles(db, names).await?;
    if resolved.iter().any(|(id, _)| *id == Role::Admin.id()) {
        return Err(AdminError::Invalid(
            "A group cannot carry the admin role: give it to accounts one by one.".into(),
        ));
    }
    Ok(resolved
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| *id != Role::User.id())
        .collect())
}

async fn find(db: &Db, name: &str) -> Result<GroupRecord, AdminError> {
    store::groups::find(db, name)
        .await?
        .ok_or(AdminError::NotFound)
}

pub async fn create_group(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    group: NewGroup,
) -> Result<GroupRecord, AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let name = RightsName::parse(&group.name, "group").map_err(AdminError::Invalid)?;
    check_description(group.description.as_deref())?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    if store::groups::list(db).await?.len() >= MAX_GROUPS {
        return Err(AdminError::Invalid(format!(
            "At most {MAX_GROUPS} groups can be defined."
        )));
    }
    let roles = group_roles(db, &group.roles).await?;
    let created = store::groups::create(
        db,
        name.as_str(),
        group.description.as_deref(),
        &roles,
        clock.now_ms(),
    )
    .await?;
    if created.is_none() {
        return Err(AdminError::NameTaken);
    }
    let record = find(db, name.as_str()).await?;
    let detail = format!("group {}: {}", record.name, record.roles.join(" "));
    let entry = audit::Entry {
        detail: Some(&detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::GroupCreated, true, &entry).await;
    Ok(record)
}

pub async fn update_group(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    name: &str,
    change: GroupChange,
) -> Result<GroupRecord, AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    check_description(change.description.as_ref().and_then(|d| d.as_deref()))?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let group = find(db, name).await?;
    let roles = match &change.roles {
        Some(names) => Some(group_roles(db, names).await?),
        None => None,
    };
    store::groups::update(
        db,
        group.id,
        change.description.as_ref().map(|d| d.as_deref()),
        roles.as_deref(),
    )
    .await?;
    let updated = find(db, &group.name).await?;
    let detail = format!("group {}: {}", updated.name, updated.roles.join(" "));
    let entry = audit::Entry {
        detail: Some(&detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::GroupUpdated, true, &entry).await;
    if roles.is_some() {
        notify.rights_changed().await;
    }
    Ok(updated)
}

/// Deletes a group; its members lose what it carried.
pub async fn delete_group(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    name: &str,
) -> Result<(), AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let group = find(db, name).await?;
    store::groups::delete(db, group.id).await?;
    let detail = format!("group {}: {} members", group.name, group.members);
    let entry = audit::Entry {
        detail: Some(&detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, Event::GroupDeleted, true, &entry).await;
    notify.rights_changed().await;
    Ok(())
}

/// Puts an account in a group (`join`) or takes it out. An admin may do either for any
/// group; a manager only for a group whose every role it holds itself. Idempotent: true
/// when something changed.
pub async fn set_membership(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    group: &str,
    user_id: i64,
    join: bool,
) -> Result<bool, AdminError> {
    let (db, clock) = (notify.db, notify.clock);
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    let group = find(db, group).await?;
    let user = store::users::find_by_id(db, user_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    if let Authority::Manager { .. } = authority {
        let defined = store::roles::list(db).await?;
        let all_held = group.roles.iter().all(|name| {
            defined
                .iter()
                .find(|r| &r.name == name)
                .is_some_and(|r| authority.may_grant(r.id, &r.name))
        });
        if !all_held {
            return Err(AdminError::Escalation(
                "Only groups whose every role you hold yourself may be changed.",
            ));
        }
    }
    let changed = if join {
        let groups = store::rights::groups_of(db, user_id).await?;
        if groups.len() >= MAX_GROUPS_PER_USER {
            return Err(AdminError::Invalid(format!(
                "An account is in at most {MAX_GROUPS_PER_USER} groups."
            )));
        }
        store::groups::add_member(db, group.id, user_id).await?
    } else {
        store::groups::remove_member(db, group.id, user_id).await?
    };
    if changed {
        let detail = format!("group {}", group.name);
        let entry = audit::Entry {
            detail: Some(&detail),
            ..actor.entry(Some(user_id), Some(&user.username))
        };
        let event = if join {
            Event::GroupMemberAdded
        } else {
            Event::GroupMemberRemoved
        };
        audit::record(db, clock, event, true, &entry).await;
        notify.user_changed(user_id).await;
    }
    Ok(changed)
}
