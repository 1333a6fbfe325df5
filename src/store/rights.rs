//! Reading what an account holds: its roles (its own and its groups'), what they give,
//! and its groups. Two queries, run when the session cache misses.
use std::sync::Arc;

use sqlx::Row;

use crate::db::{Db, DbError};
use crate::domain::{sorted, ForClient, Rights, Role, RoleSet};

/// A role an account holds, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantedRole {
    pub id: i64,
    pub name: String,
    /// The client an application role belongs to.
    pub client_id: Option<String>,
    /// Held through a group rather than given to the account itself.
    pub via_group: bool,
}

impl GrantedRole {
    pub fn built_in(&self) -> Option<Role> {
        Role::from_id(self.id)
    }
}

/// The roles the account holds, its own first, then its groups' (a role may be both).
pub async fn granted_roles(db: &Db, user_id: i64) -> Result<Vec<GrantedRole>, DbError> {
    let sql = db.sql(
        "SELECT r.id, r.name, r.client_id, 0 FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
         WHERE ur.user_id = ? \
         UNION ALL \
         SELECT r.id, r.name, r.client_id, 1 FROM group_members gm \
         JOIN group_roles gr ON gr.group_id = gm.group_id JOIN roles r ON r.id = gr.role_id \
         WHERE gm.user_id = ?",
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
    let mut roles = Vec::with_capacity(rows.len());
    for row in rows {
        roles.push(GrantedRole {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            client_id: row.try_get(2)?,
            via_group: row.try_get::<i64, _>(3)? != 0,
        });
    }
    Ok(roles)
}

/// The names of the account's groups, sorted.
pub async fn groups_of(db: &Db, user_id: i64) -> Result<Vec<String>, DbError> {
    let sql = db.sql(
        "SELECT g.name FROM group_members m JOIN account_groups g ON g.id = m.group_id \
         WHERE m.user_id = ? ORDER BY g.name_lower",
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// The account's effective rights: the built-in roles as a set, and the rest.
pub async fn effective(db: &Db, user_id: i64) -> Result<(RoleSet, Rights), DbError> {
    let sql = db.sql(
        "SELECT r.id, r.name, r.client_id, p.name FROM roles r \
         LEFT JOIN role_permissions rp ON rp.role_id = r.id \
         LEFT JOIN permissions p ON p.id = rp.permission_id \
         WHERE r.id IN (SELECT role_id FROM user_roles WHERE user_id = ?) \
         OR r.id IN (SELECT gr.role_id FROM group_members gm \
                     JOIN group_roles gr ON gr.group_id = gm.group_id WHERE gm.user_id = ?)",
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
    let mut set = RoleSet::default();
    let (mut roles, mut app_roles) = (Vec::new(), Vec::new());
    let (mut permissions, mut app_permissions) = (Vec::new(), Vec::new());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let name: Arc<str> = row.try_get::<String, _>(1)?.into();
        let client: Option<Arc<str>> = row.try_get::<Option<String>, _>(2)?.map(Into::into);
        let permission: Option<Arc<str>> = row.try_get::<Option<String>, _>(3)?.map(Into::into);
        match (Role::from_id(id), &client) {
            (Some(role), _) => set.insert(role),
            (None, None) => roles.push(name),
            (None, Some(client)) => app_roles.push(ForClient {
                client_id: client.clone(),
                name,
            }),
        }
        match (permission, client) {
            (None, _) => {}
            (Some(p), None) => permissions.push(p),
            (Some(p), Some(client_id)) => app_permissions.push(ForClient { client_id, name: p }),
        }
    }
    let groups = groups_of(db, user_id).await?;
    Ok((
        set,
        Rights {
            roles: sorted(roles),
            app_roles: sorted(app_roles),
            groups: sorted(groups.into_iter().map(Arc::from).collect()),
            permissions: sorted(permissions),
            app_permissions: sorted(app_permissions),
        },
    ))
}

/// Where each of the account's roles comes from: `(role id, None)` for its own, `(role id,
/// Some(group))` for a group's; own first, then by group name.
pub async fn role_sources(db: &Db, user_id: i64) -> Result<Vec<(i64, Option<String>)>, DbError> {
    let own = db.sql("SELECT role_id FROM user_roles WHERE user_id = ? ORDER BY role_id");
    let mut sources = Vec::new();
    for row in sqlx::query(&own).bind(user_id).fetch_all(&db.pool).await? {
        sources.push((row.try_get(0)?, None));
    }
    let through = db.sql(
        "SELECT gr.role_id, g.name FROM group_members gm \
         JOIN account_groups g ON g.id = gm.group_id \
         JOIN group_roles gr ON gr.group_id = gm.group_id \
         WHERE gm.user_id = ? ORDER BY g.name_lower, gr.role_id",
    );
    for row in sqlx::query(&through)
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?
    {
        sources.push((row.try_get(0)?, Some(row.try_get(1)?)));
    }
    Ok(sources)
}
