//! Sign-ins begun at an upstream provider and not yet back (`upstream_logins`), kept by the
//! hash of their `state`: whichever node the callback reaches finishes it, and only once.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogin {
    pub provider_id: String,
    pub nonce: Option<String>,
    pub code_verifier: String,
    /// Set when a signed-in account links another identity rather than signing in.
    pub user_id: Option<i64>,
    pub return_to: Option<String>,
    pub expires_at: Millis,
}

pub async fn create(
    db: &Db,
    state_hash: &str,
    login: &PendingLogin,
    now: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO upstream_logins (state_hash, provider_id, nonce, code_verifier, user_id, \
         return_to, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(state_hash)
        .bind(&login.provider_id)
        .bind(&login.nonce)
        .bind(&login.code_verifier)
        .bind(login.user_id)
        .bind(&login.return_to)
        .bind(now)
        .bind(login.expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Takes the pending sign-in `state_hash` names: it is gone afterwards, for whoever asks,
/// and only the one caller whose delete removed it gets it (a replayed callback gets none).
pub async fn take(db: &Db, state_hash: &str) -> Result<Option<PendingLogin>, DbError> {
    let sql = db.sql(
        "SELECT provider_id, nonce, code_verifier, user_id, return_to, expires_at \
         FROM upstream_logins WHERE state_hash = ?",
    );
    let Some(row) = sqlx::query(&sql)
        .bind(state_hash)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let login = PendingLogin {
        provider_id: row.try_get(0)?,
        nonce: row.try_get(1)?,
        code_verifier: row.try_get(2)?,
        user_id: row.try_get(3)?,
        return_to: row.try_get(4)?,
        expires_at: row.try_get(5)?,
    };
    let deleted = sqlx::query(&db.sql("DELETE FROM upstream_logins WHERE state_hash = ?"))
        .bind(state_hash)
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok((deleted == 1).then_some(login))
}

/// Forgets sign-ins that were never finished.
pub async fn prune(db: &Db, now: Millis) -> Result<u64, DbError> {
    let sql = db.sql("DELETE FROM upstream_logins WHERE expires_at < ?");
    let done = sqlx::query(&sql).bind(now).execute(&db.pool).await?;
    Ok(done.rows_affected())
}
