//! The second step of a sign-in: a token, kept as its SHA-256 hash, that says "this
//! account's password (or sign-in link) was right" for a few minutes.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::domain::SigninMethod;

#[derive(Clone, Debug)]
pub struct MfaTokenRecord {
    pub id: i64,
    pub user_id: i64,
    /// The first factor, which the session will record.
    pub method: SigninMethod,
    /// The account must enrol a second factor to finish (`PORTCULLIS_REQUIRE_MFA_FOR`).
    pub enrolment: bool,
    pub failures: i64,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}

pub struct NewMfaToken<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub method: SigninMethod,
    pub enrolment: bool,
    pub expires_at: Millis,
}

pub async fn create(db: &Db, t: NewMfaToken<'_>, now: Millis) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO mfa_tokens (token_hash, user_id, method, enrolment, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(t.token_hash)
        .bind(t.user_id)
        .bind(t.method.name())
        .bind(i64::from(t.enrolment))
        .bind(now)
        .bind(t.expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn find(db: &Db, token_hash: &str) -> Result<Option<MfaTokenRecord>, DbError> {
    let sql = db.sql(
        "SELECT id, user_id, method, enrolment, failures, expires_at, used_at FROM mfa_tokens WHERE token_hash = ?",
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let method: String = row.try_get(2)?;
    Ok(Some(MfaTokenRecord {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        method: SigninMethod::from_stored(Some(&method)),
        enrolment: row.try_get::<i64, _>(3)? != 0,
        failures: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        used_at: row.try_get(6)?,
    }))
}

/// Spends the token. False when another request spent it first.
pub async fn consume(db: &Db, id: i64, now: Millis) -> Result<bool, DbError> {
    let sql = db.sql("UPDATE mfa_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL");
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a wrong code against the token; after `limit` of them it is spent.
pub async fn fail(db: &Db, id: i64, limit: i64, now: Millis) -> Result<(), DbError> {
    let count = db.sql("UPDATE mfa_tokens SET failures = failures + 1 WHERE id = ?");
    sqlx::query(&count).bind(id).execute(&db.pool).await?;
    let end = db.sql(
        "UPDATE mfa_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND failures >= ?",
    );
    sqlx::query(&end)
        .bind(now)
        .bind(id)
        .bind(limit)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets tokens that expired before `before`.
pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM mfa_tokens WHERE expires_at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
