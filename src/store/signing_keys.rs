//! Rows of `signing_keys`: the private key as `auth::keys::Sealer` stored it, and when the
//! key signs and stops being published.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{long_text, Db, DbError};

#[derive(Clone, Debug)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub private_key: String,
    pub created_at: Millis,
    pub activates_at: Millis,
    pub retires_at: Option<Millis>,
}

/// Every key not yet retired at `now`.
pub async fn live(db: &Db, now: Millis) -> Result<Vec<KeyRow>, DbError> {
    let sql = db.sql(
        "SELECT kid, alg, private_key, created_at, activates_at, retires_at FROM signing_keys \
         WHERE retires_at IS NULL OR retires_at > ? ORDER BY activates_at DESC, kid DESC",
    );
    let rows = sqlx::query(&sql).bind(now).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| {
            Ok(KeyRow {
                kid: row.try_get(0)?,
                alg: row.try_get(1)?,
                private_key: long_text(row, 2)?,
                created_at: row.try_get(3)?,
                activates_at: row.try_get(4)?,
                retires_at: row.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Adds a key; when `retire_others_at` is given, every other live key retires then, in the
/// same transaction (a rotation).
pub async fn insert(
    db: &Db,
    row: &KeyRow,
    retire_others_at: Option<Millis>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    if let Some(at) = retire_others_at {
        let sql = db.sql(
            "UPDATE signing_keys SET retires_at = ? WHERE retires_at IS NULL OR retires_at > ?",
        );
        sqlx::query(&sql)
            .bind(at)
            .bind(at)
            .execute(&mut *tx)
            .await?;
    }
    let sql = db.sql(
        "INSERT INTO signing_keys (kid, alg, private_key, created_at, activates_at, retires_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(&row.kid)
        .bind(&row.alg)
        .bind(&row.private_key)
        .bind(row.created_at)
        .bind(row.activates_at)
        .bind(row.retires_at)
        .execute(&mut *tx)
        .await?;
    Ok(tx.commit().await?)
}

/// Forgets keys retired before `before`.
pub async fn purge(db: &Db, before: Millis) -> Result<u64, DbError> {
    let sql = db.sql("DELETE FROM signing_keys WHERE retires_at IS NOT NULL AND retires_at <= ?");
    Ok(sqlx::query(&sql)
        .bind(before)
        .execute(&db.pool)
        .await?
        .rows_affected())
}
