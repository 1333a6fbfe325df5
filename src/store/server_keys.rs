//! Secrets the server generates once and every node sharing the database reads.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use sqlx::Row;

use crate::db::{is_unique_violation, Db, DbError};

/// The key called `name`, created with 256 random bits if no node has made it yet.
/// Concurrent first starts agree: the insert that loses the race reads the winner's key.
pub async fn get_or_create(db: &Db, name: &str, now: i64) -> Result<Vec<u8>, DbError> {
    if let Some(key) = read(db, name).await? {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let sql = db.sql("INSERT INTO server_keys (name, value, created_at) VALUES (?, ?, ?)");
    let inserted = sqlx::query(&sql)
        .bind(name)
        .bind(STANDARD.encode(key))
        .bind(now)
        .execute(&db.pool)
        .await;
    match inserted {
        Ok(_) => Ok(key.to_vec()),
        Err(e) if is_unique_violation(&e) => read(db, name)
            .await?
            .ok_or_else(|| DbError::from(sqlx::Error::RowNotFound)),
        Err(e) => Err(e.into()),
    }
}

async fn read(db: &Db, name: &str) -> Result<Option<Vec<u8>>, DbError> {
    let sql = db.sql("SELECT value FROM server_keys WHERE name = ?");
    let Some(row) = sqlx::query(&sql)
        .bind(name)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let value: String = row.try_get(0)?;
    STANDARD
        .decode(value)
        .map(Some)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)).into())
}
