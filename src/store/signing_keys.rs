//! Rows of `signing_keys`: the private key as `auth::keys::Sealer` stored it, and when the
//! key signs and stops being published.
use sqlx::{Any, Row, Transaction};

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

/// Adds `row` unless a key of its algorithm is live at `now` (a first start). Nodes
/// started together take turns, so the first adds its key and the rest find it: two first
/// keys would leave each node checking only the tokens it signed. Returns whether `row`
/// went in.
pub async fn insert_unless_live(db: &Db, row: &KeyRow, now: Millis) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    take_turn(db, &mut tx).await?;
    let sql = db.sql(
        "SELECT COUNT(*) FROM signing_keys WHERE alg = ? AND (retires_at IS NULL OR retires_at > ?)",
    );
    let live: i64 = sqlx::query_scalar(&sql)
        .bind(&row.alg)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    if live > 0 {
        return Ok(false);
    }
    add(db, &mut tx, row).await?;
    tx.commit().await?;
    Ok(true)
}

/// Adds `row` and retires every other live key of its algorithm at `retire_others_at` (a
/// rotation).
pub async fn rotate_to(db: &Db, row: &KeyRow, retire_others_at: Millis) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    take_turn(db, &mut tx).await?;
    retire_all_of(db, &mut tx, &row.alg, retire_others_at).await?;
    add(db, &mut tx, row).await?;
    Ok(tx.commit().await?)
}

/// Waits until no other transaction holds the turn, and holds it until `tx` ends. A write
/// to one ledger row works alike everywhere: a row lock on MySQL and PostgreSQL, the
/// database's one write lock on SQLite.
async fn take_turn(db: &Db, tx: &mut Transaction<'_, Any>) -> Result<(), DbError> {
    let sql = db.sql("UPDATE schema_migrations SET applied_at = applied_at WHERE version = ?");
    sqlx::query(&sql)
        .bind(crate::db::SIGNING_KEYS_MIGRATION)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn retire_all_of(
    db: &Db,
    tx: &mut Transaction<'_, Any>,
    alg: &str,
    at: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "UPDATE signing_keys SET retires_at = ? \
         WHERE alg = ? AND (retires_at IS NULL OR retires_at > ?)",
    );
    sqlx::query(&sql)
        .bind(at)
        .bind(alg)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn add(db: &Db, tx: &mut Transaction<'_, Any>, row: &KeyRow) -> Result<(), DbError> {
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
        .execute(&mut **tx)
        .await?;
    Ok(())
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
