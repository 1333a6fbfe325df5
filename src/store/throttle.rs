//! Failed sign-in windows, shared by every node on the database. Only portable statements:
//! a conditional UPDATE, and an INSERT whose unique-key race is retried as an UPDATE.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError};

/// `(first_failure, failures)` of each key that has a row.
pub async fn windows(db: &Db, keys: &[&str]) -> Result<Vec<(Millis, i64)>, DbError> {
    let placeholders = vec!["?"; keys.len()].join(", ");
    let sql = format!(
        "SELECT first_failure, failures FROM throttle_windows WHERE name IN ({placeholders})"
    );
    let sql = db.sql(&sql);
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(*key);
    }
    query
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// Counts one failure for `key`: within a window that started after `window_start` it adds
/// one, otherwise it starts a new window at `now`.
pub async fn record_failure(
    db: &Db,
    key: &str,
    now: Millis,
    window_start: Millis,
) -> Result<(), DbError> {
    for _ in 0..3 {
        let sql = db.sql("UPDATE throttle_windows SET failures = failures + 1 WHERE name = ? AND first_failure > ?");
        if sqlx::query(&sql)
            .bind(key)
            .bind(window_start)
            .execute(&db.pool)
            .await?
            .rows_affected()
            > 0
        {
            return Ok(());
        }
        let sql = db.sql("UPDATE throttle_windows SET first_failure = ?, failures = 1 WHERE name = ? AND first_failure <= ?");
        if sqlx::query(&sql)
            .bind(now)
            .bind(key)
            .bind(window_start)
            .execute(&db.pool)
            .await?
            .rows_affected()
            > 0
        {
            return Ok(());
        }
        let sql =
            db.sql("INSERT INTO throttle_windows (name, first_failure, failures) VALUES (?, ?, 1)");
        match sqlx::query(&sql)
            .bind(key)
            .bind(now)
            .execute(&db.pool)
            .await
        {
            Ok(_) => return Ok(()),
            // Another node inserted it a moment ago: count on top of theirs.
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub async fn clear(db: &Db, key: &str) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM throttle_windows WHERE name = ?");
    sqlx::query(&sql).bind(key).execute(&db.pool).await?;
    Ok(())
}

/// Drops windows that ended before `before`.
pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM throttle_windows WHERE first_failure < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
