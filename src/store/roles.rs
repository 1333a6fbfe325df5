//! Roles and permissions as an admin defines them: the `roles` table (the three built-in
//! roles included) and `permissions`, and which role gives which permission.
use std::collections::HashMap;

use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::domain::Role;

/// Roles an admin defines get ids above this; below it is kept for built-in ones.
const FIRST_CUSTOM_ID: i64 = 101;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// The client an application role belongs to.
    pub client_id: Option<String>,
    pub permissions: Vec<String>,
    /// How many accounts were given it themselves, and how many groups carry it.
    pub users: i64,
    pub groups: i64,
}

impl RoleRecord {
    pub fn built_in(&self) -> Option<Role> {
        Role::from_id(self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// The roles that give it, by name.
    pub roles: Vec<String>,
}

/// Every role, built-in ones first, then by name.
pub async fn list(db: &Db) -> Result<Vec<RoleRecord>, DbError> {
    let rows = sqlx::query("SELECT id, name, description, client_id FROM roles ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    let mut permissions = permissions_by_role(db).await?;
    let users = counts(
        db,
        "SELECT role_id, COUNT(*) FROM user_roles GROUP BY role_id",
    )
    .await?;
    let groups = counts(
        db,
        "SELECT role_id, COUNT(*) FROM group_roles GROUP BY role_id",
    )
    .await?;
    let mut roles = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        roles.push(RoleRecord {
            id,
            name: row.try_get(1)?,
            description: row.try_get(2)?,
            client_id: row.try_get(3)?,
            permissions: permissions.remove(&id).unwrap_or_default(),
            users: users.get(&id).copied().unwrap_or(0),
            groups: groups.get(&id).copied().unwrap_or(0),
        });
    }
    roles.sort_by(|a, b| {
        let built_in = |r: &RoleRecord| r.built_in().is_none();
        (built_in(a), a.name.to_ascii_lowercase()).cmp(&(built_in(b), b.name.to_ascii_lowercase()))
    });
    Ok(roles)
}

/// Every role's id and name: what a sign-in needs to resolve names, without the
/// permissions and counts `list` reads for the admin console.
pub async fn names(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    let rows = sqlx::query("SELECT id, name FROM roles")
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// The role named `name`, compared without regard to case.
pub async fn find(db: &Db, name: &str) -> Result<Option<RoleRecord>, DbError> {
    Ok(list(db)
        .await?
        .into_iter()
        .find(|r| r.name.eq_ignore_ascii_case(name)))
}

async fn counts(db: &Db, sql: &str) -> Result<HashMap<i64, i64>, DbError> {
    let rows = sqlx::query(sql).fetch_all(&db.pool).await?;
    let mut counts = HashMap::with_capacity(rows.len());
    for row in rows {
        counts.insert(row.try_get(0)?, row.try_get(1)?);
    }
    Ok(counts)
}

async fn permissions_by_role(db: &Db) -> Result<HashMap<i64, Vec<String>>, DbError> {
    let rows = sqlx::query(
        "SELECT rp.role_id, p.name FROM role_permissions rp \
         JOIN permissions p ON p.id = rp.permission_id ORDER BY p.name",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut by_role: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        by_role
            .entry(row.try_get(0)?)
            .or_default()
            .push(row.try_get(1)?);
    }
    Ok(by_role)
}

/// A new role, with the permissions `permission_ids`, in one transaction. The caller holds
/// the administrative lock (`store::admin_changes`), so the next id is no other node's.
pub async fn create(
    db: &Db,
    name: &str,
    description: Option<&str>,
    client_id: Option<&str>,
    permission_ids: &[i64],
    now: Millis,
) -> Result<i64, DbError> {
    let last: Option<i64> = sqlx::query("SELECT MAX(id) FROM roles")
        .fetch_one(&db.pool)
        .await?
        .try_get(0)?;
    let id = last.unwrap_or(0).max(FIRST_CUSTOM_ID - 1) + 1;
    let mut tx = db.pool.begin().await?;
    let sql = db.sql(
        "INSERT INTO roles (id, name, description, client_id, created_at) VALUES (?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(name)
        .bind(description)
        .bind(client_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    insert_permissions(db, &mut tx, id, permission_ids).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_permissions(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    role_id: i64,
    permission_ids: &[i64],
) -> Result<(), DbError> {
    let sql = db.sql("INSERT INTO role_permissions (role_id, permission_id) VALUES (?, ?)");
    for permission in permission_ids {
        sqlx::query(&sql)
            .bind(role_id)
            .bind(permission)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Changes a role's description and, when given, replaces its permissions: one
/// transaction.
pub async fn update(
    db: &Db,
    role_id: i64,
    description: Option<Option<&str>>,
    permission_ids: Option<&[i64]>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    if let Some(description) = description {
        let sql = db.sql("UPDATE roles SET description = ? WHERE id = ?");
        sqlx::query(&sql)
            .bind(description)
            .bind(role_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(ids) = permission_ids {
        let sql = db.sql("DELETE FROM role_permissions WHERE role_id = ?");
        sqlx::query(&sql).bind(role_id).execute(&mut *tx).await?;
        insert_permissions(db, &mut tx, role_id, ids).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a role; whoever held it, account or group, no longer does (ON DELETE CASCADE).
pub async fn delete(db: &Db, role_id: i64) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM roles WHERE id = ?");
    sqlx::query(&sql).bind(role_id).execute(&db.pool).await?;
    Ok(())
}

/// The application roles of `client_id`, which go when the client does.
pub async fn delete_of_client(db: &Db, client_id: &str) -> Result<u64, DbError> {
    let sql = db.sql("DELETE FROM roles WHERE client_id = ?");
    let done = sqlx::query(&sql).bind(client_id).execute(&db.pool).await?;
    Ok(done.rows_affected())
}

/// Every permission by name, with the roles that give it.
pub async fn permissions(db: &Db) -> Result<Vec<PermissionRecord>, DbError> {
    let rows = sqlx::query("SELECT id, name, description FROM permissions ORDER BY name")
        .fetch_all(&db.pool)
        .await?;
    let given = sqlx::query(
        "SELECT rp.permission_id, r.name FROM role_permissions rp \
         JOIN roles r ON r.id = rp.role_id ORDER BY r.name",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut roles: HashMap<i64, Vec<String>> = HashMap::new();
    for row in given {
        roles
            .entry(row.try_get(0)?)
            .or_default()
            .push(row.try_get(1)?);
    }
    let mut all = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        all.push(PermissionRecord {
            id,
            name: row.try_get(1)?,
            description: row.try_get(2)?,
            roles: roles.remove(&id).unwrap_or_default(),
        });
    }
    Ok(all)
}

/// A new permission; false when one of that name exists (the unique index decides).
pub async fn create_permission(
    db: &Db,
    name: &str,
    description: Option<&str>,
    now: Millis,
) -> Result<bool, DbError> {
    let sql = db.sql("INSERT INTO permissions (name, description, created_at) VALUES (?, ?, ?)");
    match sqlx::query(&sql)
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(&db.pool)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a permission; the roles that gave it no longer do (ON DELETE CASCADE).
pub async fn delete_permission(db: &Db, permission_id: i64) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM permissions WHERE id = ?");
    sqlx::query(&sql)
        .bind(permission_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
