//! API keys: long-lived secrets a user (or an admin, for a service account) makes for
//! scripts. Only the SHA-256 of a key is kept; the roles and permissions it was given are
//! kept by name, space separated.
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{long_text_null, Db, DbError};

/// What a request made with a key needs, cached by the key's hash.
#[derive(Debug)]
pub struct ApiKeyState {
    pub id: i64,
    pub user_id: i64,
    pub roles: Vec<Arc<str>>,
    pub permissions: Vec<Arc<str>>,
    pub expires_at: Millis,
    pub revoked: bool,
    /// When this node last recorded a use (or the stored one): uses are written at most
    /// once a minute.
    pub touched_at: std::sync::atomic::AtomicI64,
}

/// A key as its owner's list shows it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    /// The admin who made it, for a service account's key.
    pub created_by: Option<i64>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

pub struct NewApiKey<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub key_hash: &'a str,
    pub prefix: &'a str,
    pub roles: &'a [String],
    pub permissions: &'a [String],
    pub created_by: Option<i64>,
    pub expires_at: Millis,
}

fn joined(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| names.join(" "))
}

fn split(text: Option<String>) -> Vec<String> {
    text.map(|t| {
        t.split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

pub async fn create(db: &Db, key: NewApiKey<'_>, now: Millis) -> Result<i64, DbError> {
    let sql = db.insert_sql(
        "INSERT INTO api_keys (user_id, name, key_hash, prefix, roles, permissions, created_by, \
         created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    let query = sqlx::query(&sql)
        .bind(key.user_id)
        .bind(key.name)
        .bind(key.key_hash)
        .bind(key.prefix)
        .bind(joined(key.roles))
        .bind(joined(key.permissions))
        .bind(key.created_by)
        .bind(now)
        .bind(key.expires_at);
    Ok(db.insert_id(query, &db.pool).await?)
}

const COLUMNS: &str = "id, user_id, name, prefix, roles, permissions, created_by, created_at, \
                       expires_at, last_used_at, revoked_at";

fn record(row: &AnyRow) -> Result<ApiKeyRecord, DbError> {
    Ok(ApiKeyRecord {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        name: row.try_get(2)?,
        prefix: row.try_get(3)?,
        roles: split(long_text_null(row, 4)?),
        permissions: split(long_text_null(row, 5)?),
        created_by: row.try_get(6)?,
        created_at: row.try_get(7)?,
        expires_at: row.try_get(8)?,
        last_used_at: row.try_get(9)?,
        revoked_at: row.try_get(10)?,
    })
}

/// The account's keys, newest first, revoked ones included.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<ApiKeyRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY id DESC");
    let rows = sqlx::query(&db.sql(&sql))
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(record).collect()
}

pub async fn find(db: &Db, id: i64) -> Result<Option<ApiKeyRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?");
    let row = sqlx::query(&db.sql(&sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(record).transpose()
}

/// How many live (unrevoked, unexpired) keys the account has.
pub async fn live_count(db: &Db, user_id: i64, now: Millis) -> Result<i64, DbError> {
    let sql = db.sql(
        "SELECT COUNT(*) FROM api_keys WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?",
    );
    Ok(sqlx::query(&sql)
        .bind(user_id)
        .bind(now)
        .fetch_one(&db.pool)
        .await?
        .try_get(0)?)
}

/// The key whose secret hashes to `hash`, as a request needs it.
pub async fn state(db: &Db, hash: &str) -> Result<Option<Arc<ApiKeyState>>, DbError> {
    let sql = db.sql(
        "SELECT id, user_id, roles, permissions, expires_at, revoked_at, last_used_at \
         FROM api_keys WHERE key_hash = ?",
    );
    let Some(row) = sqlx::query(&sql)
        .bind(hash)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let names = |text: Option<String>| -> Vec<Arc<str>> {
        crate::domain::sorted(split(text).into_iter().map(Arc::from).collect())
    };
    Ok(Some(Arc::new(ApiKeyState {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        roles: names(long_text_null(&row, 2)?),
        permissions: names(long_text_null(&row, 3)?),
        expires_at: row.try_get(4)?,
        revoked: row.try_get::<Option<i64>, _>(5)?.is_some(),
        touched_at: row.try_get::<Option<i64>, _>(6)?.unwrap_or(0).into(),
    })))
}

/// Revokes a key of `user_id`; false when it has no such live key.
pub async fn revoke(db: &Db, id: i64, user_id: i64, now: Millis) -> Result<bool, DbError> {
    let sql = db.sql(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
    );
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a use, at most once per `every` ms per key: the list shows it, and a request
/// costs no write otherwise.
pub async fn touch(db: &Db, id: i64, now: Millis, every: Millis) -> Result<(), DbError> {
    let sql = db.sql(
        "UPDATE api_keys SET last_used_at = ? WHERE id = ? \
         AND (last_used_at IS NULL OR last_used_at < ?)",
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(id)
        .bind(now - every)
        .execute(&db.pool)
        .await?;
    Ok(())
}
