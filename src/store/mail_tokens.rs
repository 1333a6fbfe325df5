//! One-time tokens sent by mail (password reset, email verification, sign-in links): only
//! their SHA-256 hash is kept, with the address the link went to, so a token proves that
//! its holder read that mailbox.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};

/// What a token lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Choose a new password.
    Reset,
    /// Prove the account's current address.
    Verify,
    /// Prove a new address, which then replaces the current one.
    EmailChange,
    /// Sign in without a password.
    MagicLink,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Verify => "verify",
            Purpose::EmailChange => "email_change",
            Purpose::MagicLink => "magic_link",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Purpose::Reset,
            Purpose::Verify,
            Purpose::EmailChange,
            Purpose::MagicLink,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }
}

#[derive(Clone, Debug)]
pub struct TokenRecord {
    pub id: i64,
    pub purpose: Purpose,
    pub user_id: i64,
    /// The address the token was mailed to.
    pub email: String,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}

/// Stores a new token for `user_id` and voids every unused one of the same purpose: only
/// the latest link mailed works.
pub async fn replace(
    db: &Db,
    purpose: Purpose,
    user_id: i64,
    email: &str,
    token_hash: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    let void = db.sql(
        "UPDATE mail_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
    );
    sqlx::query(&void)
        .bind(now)
        .bind(user_id)
        .bind(purpose.name())
        .execute(&mut *tx)
        .await?;
    let insert = db.sql(
        "INSERT INTO mail_tokens (token_hash, purpose, user_id, email, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&insert)
        .bind(token_hash)
        .bind(purpose.name())
        .bind(user_id)
        .bind(email)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn find(db: &Db, token_hash: &str) -> Result<Option<TokenRecord>, DbError> {
    let sql = db.sql(
        "SELECT id, purpose, user_id, email, expires_at, used_at FROM mail_tokens WHERE token_hash = ?",
    );
    let Some(row) = sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let purpose: String = row.try_get(1)?;
    let Some(purpose) = Purpose::from_name(&purpose) else {
        return Ok(None);
    };
    Ok(Some(TokenRecord {
        id: row.try_get(0)?,
        purpose,
        user_id: row.try_get(2)?,
        email: row.try_get(3)?,
        expires_at: row.try_get(4)?,
        used_at: row.try_get(5)?,
    }))
}

/// Marks the token used. False when another request used it first: a token works once
/// even when two arrive together.
pub async fn consume(db: &Db, id: i64, now: Millis) -> Result<bool, DbError> {
    let sql = db.sql("UPDATE mail_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL");
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Voids every unused token of `user_id`, whatever its purpose (the address they went to
/// is no longer the account's).
pub async fn void_all(db: &Db, user_id: i64, now: Millis) -> Result<(), DbError> {
    let sql = db.sql("UPDATE mail_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL");
    sqlx::query(&sql)
        .bind(now)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets tokens that expired before `before`.
pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM mail_tokens WHERE expires_at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
