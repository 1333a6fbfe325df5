//! Roles and groups from the provider (a provider's `roleMapping`), applied at each sign-in
//! with it: a role or group some rule names is the mapping's to manage. The account has it
//! when a rule whose value the claim holds names it, and loses it when none does. What no
//! rule names, and roles held through groups, are left as they are: an admin's grants beside
//! the mapping stay. Names that no longer exist are skipped; the last active admin keeps
//! `admin` whatever the claim says, as the admin API's own rule has it.
use std::collections::BTreeSet;

use super::identity::Identity;
use super::ProviderSigninError;
use crate::audit::{self, Event};
use crate::domain::{Role, RoleMapping};
use crate::service::factors::Factors;
use crate::service::providers::Provider;
use crate::service::Client;
use crate::store::{self, users::UserRecord};

/// Applies the provider's mapping to `user`; true when anything changed.
pub(super) async fn apply(
    f: &Factors<'_>,
    client: Client<'_>,
    provider: &Provider,
    identity: &Identity,
    user: &UserRecord,
) -> Result<bool, ProviderSigninError> {
    let Some(mapping) = &provider.config.role_mapping else {
        return Ok(false);
    };
    let values = identity.claim_values(&mapping.claim);
    let roles = apply_roles(f, client, provider, mapping, &values, user).await?;
    let groups = apply_groups(f, client, provider, mapping, &values, user).await?;
    if roles || groups {
        f.sessions.notify.user_changed(user.id).await;
    }
    Ok(roles || groups)
}

fn lower(names: impl Iterator<Item = impl AsRef<str>>) -> BTreeSet<String> {
    names.map(|n| n.as_ref().to_ascii_lowercase()).collect()
}

async fn apply_roles(
    f: &Factors<'_>,
    client: Client<'_>,
    provider: &Provider,
    mapping: &RoleMapping,
    values: &[String],
    user: &UserRecord,
) -> Result<bool, ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let managed = lower(mapping.managed_roles());
    if managed.is_empty() {
        return Ok(false);
    }
    let wanted = lower(mapping.granted(values).flat_map(|r| r.roles.iter()));
    // Only ids and names: this runs at every sign-in with the provider.
    let defined = if wanted.is_empty() {
        Vec::new()
    } else {
        store::roles::names(db).await?
    };
    let own: Vec<(i64, String)> = user
        .granted
        .iter()
        .filter(|g| !g.via_group)
        .map(|g| (g.id, g.name.clone()))
        .collect();
    let mut next: Vec<(i64, String)> = own
        .iter()
        .filter(|(_, name)| !managed.contains(&name.to_ascii_lowercase()))
        .cloned()
        .collect();
    for (id, name) in defined {
        if wanted.contains(&name.to_ascii_lowercase()) && !next.iter().any(|(held, _)| *held == id)
        {
            next.push((id, name));
        }
    }
    let is_admin = |roles: &[(i64, String)]| roles.iter().any(|(id, _)| *id == Role::Admin.id());
    if is_admin(&own)
        && !is_admin(&next)
        && store::users::count_active_admins_except(db, user.id).await? == 0
    {
        next.push((Role::Admin.id(), Role::Admin.name().to_string()));
    }
    let ids = |roles: &[(i64, String)]| -> BTreeSet<i64> {
        roles
            .iter()
            .map(|(id, _)| *id)
            .chain([Role::User.id()])
            .collect()
    };
    if ids(&own) == ids(&next) {
        return Ok(false);
    }
    let wanted_ids: Vec<i64> = ids(&next).into_iter().collect();
    store::users::set_roles(db, user.id, &wanted_ids, clock.now_ms()).await?;
    let mut names: Vec<&str> = next.iter().map(|(_, n)| n.as_str()).collect();
    names.sort_unstable();
    let detail = format!("roles: {} (provider {})", names.join(" "), provider.id);
    let entry = audit::Entry {
        detail: Some(&detail),
        ..client.entry(Some(user.id), Some(user.id), Some(&user.username))
    };
    audit::record(db, clock, Event::RolesChanged, true, &entry).await;
    Ok(true)
}

async fn apply_groups(
    f: &Factors<'_>,
    client: Client<'_>,
    provider: &Provider,
    mapping: &RoleMapping,
    values: &[String],
    user: &UserRecord,
) -> Result<bool, ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let managed = lower(mapping.managed_groups());
    if managed.is_empty() {
        return Ok(false);
    }
    let wanted = lower(mapping.granted(values).flat_map(|r| r.groups.iter()));
    let held = lower(store::rights::groups_of(db, user.id).await?.iter());
    let mut changed = false;
    for name in &managed {
        let (has, wants) = (held.contains(name), wanted.contains(name));
        if has == wants {
            continue;
        }
        let Some(group) = store::groups::find(db, name).await? else {
            continue;
        };
        let done = if wants {
            store::groups::add_member(db, group.id, user.id).await?
        } else {
            store::groups::remove_member(db, group.id, user.id).await?
        };
        if done {
            changed = true;
            let detail = format!("group {} (provider {})", group.name, provider.id);
            let entry = audit::Entry {
                detail: Some(&detail),
                ..client.entry(Some(user.id), Some(user.id), Some(&user.username))
            };
            let event = if wants {
                Event::GroupMemberAdded
            } else {
                Event::GroupMemberRemoved
            };
            audit::record(db, clock, event, true, &entry).await;
        }
    }
    Ok(changed)
}
