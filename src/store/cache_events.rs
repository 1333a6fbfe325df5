//! The `cache_events` table: what one node tells the others when a session ends or a user
//! changes (auth/change_feed.rs polls it).
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};

/// One row: at what time, what kind of thing changed, and which one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheEvent {
    pub id: i64,
    pub at: Millis,
    pub kind: String,
    pub item: String,
}

pub async fn append(db: &Db, kind: &str, item: &str, now: Millis) -> Result<(), DbError> {
    let sql = db.sql("INSERT INTO cache_events (at, kind, item) VALUES (?, ?, ?)");
    sqlx::query(&sql)
        .bind(now)
        .bind(kind)
        .bind(item)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Every event at or after `from`, in no particular order.
pub async fn since(db: &Db, from: Millis) -> Result<Vec<CacheEvent>, DbError> {
    let sql = db.sql("SELECT id, at, kind, item FROM cache_events WHERE at >= ?");
    sqlx::query(&sql)
        .bind(from)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(CacheEvent {
                id: row.try_get(0)?,
                at: row.try_get(1)?,
                kind: row.try_get(2)?,
                item: row.try_get(3)?,
            })
        })
        .collect()
}

pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM cache_events WHERE at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
