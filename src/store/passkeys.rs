//! Passkeys: each account's credentials as webauthn-rs keeps them (JSON), found by the
//! SHA-256 of the credential id, and the account's WebAuthn user handle.
use std::collections::HashMap;

use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, long_text, Db, DbError};

#[derive(Clone, Debug)]
pub struct PasskeyRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// webauthn-rs's `Passkey`, serialised.
    pub credential: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
}

const COLUMNS: &str = "id, user_id, name, credential, created_at, last_used_at";

fn record(row: &sqlx::any::AnyRow) -> Result<PasskeyRecord, sqlx::Error> {
    Ok(PasskeyRecord {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        name: row.try_get(2)?,
        credential: long_text(row, 3)?,
        created_at: row.try_get(4)?,
        last_used_at: row.try_get(5)?,
    })
}

/// The account's user handle, set to `proposed` if it has none yet (two nodes racing keep
/// whichever was written first).
pub async fn handle(db: &Db, user_id: i64, proposed: &str) -> Result<Option<String>, DbError> {
    let set =
        db.sql("UPDATE users SET webauthn_handle = ? WHERE id = ? AND webauthn_handle IS NULL");
    sqlx::query(&set)
        .bind(proposed)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    let get = db.sql("SELECT webauthn_handle FROM users WHERE id = ?");
    let row = sqlx::query(&get)
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<String>, _>(0)?,
        None => None,
    })
}

/// The account whose user handle this is.
pub async fn user_of_handle(db: &Db, handle: &str) -> Result<Option<i64>, DbError> {
    let sql = db.sql("SELECT id FROM users WHERE webauthn_handle = ?");
    let row = sqlx::query(&sql)
        .bind(handle)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<PasskeyRecord>, DbError> {
    let text = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY created_at, id");
    let sql = db.sql(&text);
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&db.pool).await?;
    Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
}

pub async fn find(db: &Db, user_id: i64, id: i64) -> Result<Option<PasskeyRecord>, DbError> {
    let text = format!("SELECT {COLUMNS} FROM passkeys WHERE id = ? AND user_id = ?");
    let sql = db.sql(&text);
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(record).transpose()?)
}

pub async fn find_by_credential(
    db: &Db,
    credential_hash: &str,
) -> Result<Option<PasskeyRecord>, DbError> {
    let text = format!("SELECT {COLUMNS} FROM passkeys WHERE credential_hash = ?");
    let sql = db.sql(&text);
    let row = sqlx::query(&sql)
        .bind(credential_hash)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(record).transpose()?)
}

pub async fn count(db: &Db, user_id: i64) -> Result<i64, DbError> {
    let sql = db.sql("SELECT COUNT(*) FROM passkeys WHERE user_id = ?");
    let row = sqlx::query(&sql).bind(user_id).fetch_one(&db.pool).await?;
    Ok(row.try_get(0)?)
}

/// How many passkeys each of these accounts has (absent: none).
pub async fn counts(db: &Db, user_ids: &[i64]) -> Result<HashMap<i64, i64>, DbError> {
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; user_ids.len()].join(", ");
    let text = format!(
        "SELECT user_id, COUNT(*) FROM passkeys WHERE user_id IN ({marks}) GROUP BY user_id"
    );
    let sql = db.sql(&text);
    let mut query = sqlx::query(&sql);
    for id in user_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

pub struct NewPasskey<'a> {
    pub user_id: i64,
    pub credential_hash: &'a str,
    pub name: &'a str,
    pub credential: &'a str,
}

/// The new passkey's id; `None` when this credential is registered already.
pub async fn insert(db: &Db, p: NewPasskey<'_>, now: Millis) -> Result<Option<i64>, DbError> {
    let sql = db.insert_sql(
        "INSERT INTO passkeys (user_id, credential_hash, name, credential, created_at) VALUES (?, ?, ?, ?, ?)",
    );
    let query = sqlx::query(&sql)
        .bind(p.user_id)
        .bind(p.credential_hash)
        .bind(p.name)
        .bind(p.credential)
        .bind(now);
    match db.insert_id(query, &db.pool).await {
        Ok(id) => Ok(Some(id)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn rename(db: &Db, user_id: i64, id: i64, name: &str) -> Result<bool, DbError> {
    let sql = db.sql("UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?");
    let done = sqlx::query(&sql)
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a sign-in with the passkey: its updated credential (the counter) and when.
pub async fn used(db: &Db, id: i64, credential: &str, now: Millis) -> Result<(), DbError> {
    let sql = db.sql("UPDATE passkeys SET credential = ?, last_used_at = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(credential)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn remove(db: &Db, user_id: i64, id: i64) -> Result<bool, DbError> {
    let sql = db.sql("DELETE FROM passkeys WHERE id = ? AND user_id = ?");
    let done = sqlx::query(&sql)
        .bind(id)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes every passkey of the account; how many there were.
pub async fn remove_all(db: &Db, user_id: i64) -> Result<u64, DbError> {
    let sql = db.sql("DELETE FROM passkeys WHERE user_id = ?");
    let done = sqlx::query(&sql).bind(user_id).execute(&db.pool).await?;
    Ok(done.rows_affected())
}
