//! Groups: named sets of accounts that carry roles to their members. Stored as
//! `account_groups` (GROUPS is a reserved word in MySQL 8), `group_members` and
//! `group_roles`.
use std::collections::HashMap;

use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// The roles it carries, by name.
    pub roles: Vec<String>,
    pub members: i64,
}

/// A member as a group's page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
}

/// Every group by name.
pub async fn list(db: &Db) -> Result<Vec<GroupRecord>, DbError> {
    let rows = sqlx::query("SELECT id, name, description FROM account_groups ORDER BY name_lower")
        .fetch_all(&db.pool)
        .await?;
    let carried = sqlx::query(
        "SELECT gr.group_id, r.name FROM group_roles gr JOIN roles r ON r.id = gr.role_id \
         ORDER BY r.name",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut roles: HashMap<i64, Vec<String>> = HashMap::new();
    for row in carried {
        roles
            .entry(row.try_get(0)?)
            .or_default()
            .push(row.try_get(1)?);
    }
    let counted = sqlx::query("SELECT group_id, COUNT(*) FROM group_members GROUP BY group_id")
        .fetch_all(&db.pool)
        .await?;
    let mut members: HashMap<i64, i64> = HashMap::new();
    for row in counted {
        members.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let mut groups = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        groups.push(GroupRecord {
            id,
            name: row.try_get(1)?,
            description: row.try_get(2)?,
            roles: roles.remove(&id).unwrap_or_default(),
            members: members.get(&id).copied().unwrap_or(0),
        });
    }
    Ok(groups)
}

/// The group named `name`, compared without regard to case.
pub async fn find(db: &Db, name: &str) -> Result<Option<GroupRecord>, DbError> {
    let key = name.to_ascii_lowercase();
    let sql = db.sql("SELECT id FROM account_groups WHERE name_lower = ?");
    let Some(row) = sqlx::query(&sql)
        .bind(&key)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.try_get(0)?;
    Ok(list(db).await?.into_iter().find(|g| g.id == id))
}

/// A new group carrying `role_ids`, in one transaction; `None` when the name is taken.
pub async fn create(
    db: &Db,
    name: &str,
    description: Option<&str>,
    role_ids: &[i64],
    now: Millis,
) -> Result<Option<i64>, DbError> {
    let mut tx = db.pool.begin().await?;
    let sql = db.insert_sql(
        "INSERT INTO account_groups (name, name_lower, description, created_at) VALUES (?, ?, ?, ?)",
    );
    let query = sqlx::query(&sql)
        .bind(name)
        .bind(name.to_ascii_lowercase())
        .bind(description)
        .bind(now);
    let id = match db.insert_id(query, &mut *tx).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    insert_roles(db, &mut tx, id, role_ids).await?;
    tx.commit().await?;
    Ok(Some(id))
}

async fn insert_roles(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    group_id: i64,
    role_ids: &[i64],
) -> Result<(), DbError> {
    let sql = db.sql("INSERT INTO group_roles (group_id, role_id) VALUES (?, ?)");
    for role in role_ids {
        sqlx::query(&sql)
            .bind(group_id)
            .bind(role)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Changes the description and, when given, replaces the roles: one transaction.
pub async fn update(
    db: &Db,
    group_id: i64,
    description: Option<Option<&str>>,
    role_ids: Option<&[i64]>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    if let Some(description) = description {
        let sql = db.sql("UPDATE account_groups SET description = ? WHERE id = ?");
        sqlx::query(&sql)
            .bind(description)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(ids) = role_ids {
        let sql = db.sql("DELETE FROM group_roles WHERE group_id = ?");
        sqlx::query(&sql).bind(group_id).execute(&mut *tx).await?;
        insert_roles(db, &mut tx, group_id, ids).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a group; its members leave it and lose what it carried (ON DELETE CASCADE).
pub async fn delete(db: &Db, group_id: i64) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM account_groups WHERE id = ?");
    sqlx::query(&sql).bind(group_id).execute(&db.pool).await?;
    Ok(())
}

/// A group's members by username, a page at a time.
pub async fn members(
    db: &Db,
    group_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<Member>, DbError> {
    let sql = db.sql(
        "SELECT u.id, u.username FROM group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.group_id = ? ORDER BY u.username_lower LIMIT ? OFFSET ?",
    );
    let rows = sqlx::query(&sql)
        .bind(group_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Member {
                user_id: row.try_get(0)?,
                username: row.try_get(1)?,
            })
        })
        .collect()
}

/// The ids of a group's members (a group's roles changed: each member's state is stale).
pub async fn member_ids(db: &Db, group_id: i64) -> Result<Vec<i64>, DbError> {
    let sql = db.sql("SELECT user_id FROM group_members WHERE group_id = ?");
    let rows = sqlx::query(&sql).bind(group_id).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| row.try_get::<i64, _>(0).map_err(DbError::from))
        .collect()
}

/// Adds a member; false when they already were one.
pub async fn add_member(db: &Db, group_id: i64, user_id: i64) -> Result<bool, DbError> {
    let sql = db.sql("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)");
    match sqlx::query(&sql)
        .bind(group_id)
        .bind(user_id)
        .execute(&db.pool)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes a member; false when they were not one.
pub async fn remove_member(db: &Db, group_id: i64, user_id: i64) -> Result<bool, DbError> {
    let sql = db.sql("DELETE FROM group_members WHERE group_id = ? AND user_id = ?");
    let done = sqlx::query(&sql)
        .bind(group_id)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
