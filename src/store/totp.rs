//! Each account's TOTP app (its secret, pending until a first code confirms it, and the
//! newest time step accepted) and its recovery codes (SHA-256 hashes only).
use std::collections::HashSet;

use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};

#[derive(Clone, Debug)]
pub struct TotpRecord {
    /// Base32, as the app was given it.
    pub secret: String,
    pub confirmed_at: Option<Millis>,
    /// The newest time step a code was accepted for: no code of it or before works again.
    pub last_step: i64,
}

pub async fn find(db: &Db, user_id: i64) -> Result<Option<TotpRecord>, DbError> {
    let sql = db.sql("SELECT secret, confirmed_at, last_step FROM totp_secrets WHERE user_id = ?");
    let row = sqlx::query(&sql)
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(TotpRecord {
        secret: row.try_get(0)?,
        confirmed_at: row.try_get(1)?,
        last_step: row.try_get(2)?,
    }))
}

/// Stores a pending secret in place of any pending one. False when the account has a
/// confirmed app, which stays.
pub async fn begin(db: &Db, user_id: i64, secret: &str, now: Millis) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let clear = db.sql("DELETE FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NULL");
    sqlx::query(&clear).bind(user_id).execute(&mut *tx).await?;
    let check = db.sql("SELECT COUNT(*) FROM totp_secrets WHERE user_id = ?");
    let left: i64 = sqlx::query(&check)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if left > 0 {
        return Ok(false);
    }
    let insert = db.sql("INSERT INTO totp_secrets (user_id, secret, created_at) VALUES (?, ?, ?)");
    sqlx::query(&insert)
        .bind(user_id)
        .bind(secret)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Confirms the pending secret with a code of `step`, and stores the recovery codes, in
/// one transaction. False when nothing was pending (or another request confirmed it).
pub async fn confirm(
    db: &Db,
    user_id: i64,
    step: i64,
    code_hashes: &[String],
    now: Millis,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let sql = db.sql(
        "UPDATE totp_secrets SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL",
    );
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    replace_codes(db, &mut tx, user_id, code_hashes).await?;
    tx.commit().await?;
    Ok(true)
}

/// Accepts a code of `step` once: false when that step, or a later one, was accepted
/// before (a replayed code), even by a request on another node at the same moment.
pub async fn accept_step(db: &Db, user_id: i64, step: i64) -> Result<bool, DbError> {
    let sql = db.sql(
        "UPDATE totp_secrets SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?",
    );
    let done = sqlx::query(&sql)
        .bind(step)
        .bind(user_id)
        .bind(step)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the app (confirmed or pending) and the recovery codes. False when there was
/// no confirmed app.
pub async fn remove(db: &Db, user_id: i64) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let confirmed = confirmed_app(db, &mut tx, user_id).await?;
    let delete = db.sql("DELETE FROM totp_secrets WHERE user_id = ?");
    sqlx::query(&delete).bind(user_id).execute(&mut *tx).await?;
    let codes = db.sql("DELETE FROM recovery_codes WHERE user_id = ?");
    sqlx::query(&codes).bind(user_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(confirmed)
}

/// Which of these accounts have a confirmed app.
pub async fn enabled_among(db: &Db, user_ids: &[i64]) -> Result<HashSet<i64>, DbError> {
    if user_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let marks = vec!["?"; user_ids.len()].join(", ");
    let text = format!(
        "SELECT user_id FROM totp_secrets WHERE confirmed_at IS NOT NULL AND user_id IN ({marks})"
    );
    let sql = db.sql(&text);
    let mut query = sqlx::query(&sql);
    for id in user_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Whether the account has a confirmed app, read in the transaction that acts on it.
async fn confirmed_app(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
) -> Result<bool, DbError> {
    let sql =
        db.sql("SELECT COUNT(*) FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NOT NULL");
    let count: i64 = sqlx::query(&sql)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    Ok(count > 0)
}

async fn replace_codes(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    code_hashes: &[String],
) -> Result<(), DbError> {
    let delete = db.sql("DELETE FROM recovery_codes WHERE user_id = ?");
    sqlx::query(&delete)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    let insert = db.sql("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)");
    for hash in code_hashes {
        sqlx::query(&insert)
            .bind(user_id)
            .bind(hash.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// New recovery codes in place of the old ones, if the account has a confirmed app.
pub async fn new_recovery_codes(
    db: &Db,
    user_id: i64,
    code_hashes: &[String],
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let confirmed = confirmed_app(db, &mut tx, user_id).await?;
    if !confirmed {
        return Ok(false);
    }
    replace_codes(db, &mut tx, user_id, code_hashes).await?;
    tx.commit().await?;
    Ok(true)
}

/// Spends a recovery code: false when it is not one of the account's unused codes.
pub async fn use_recovery_code(
    db: &Db,
    user_id: i64,
    code_hash: &str,
    now: Millis,
) -> Result<bool, DbError> {
    let sql = db.sql(
        "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
    );
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(user_id)
        .bind(code_hash)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() >= 1)
}

pub async fn recovery_codes_left(db: &Db, user_id: i64) -> Result<i64, DbError> {
    let sql = db.sql("SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL");
    let row = sqlx::query(&sql).bind(user_id).fetch_one(&db.pool).await?;
    Ok(row.try_get(0)?)
}
