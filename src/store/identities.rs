//! The identities accounts hold at upstream providers (`user_identities`): one per provider
//! and subject, so an upstream identity signs in to one account only.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRecord {
    pub id: i64,
    pub user_id: i64,
    pub provider_id: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
}

const COLUMNS: &str = "id, user_id, provider_id, subject, email, created_at, last_used_at";

fn record(row: &sqlx::any::AnyRow) -> Result<IdentityRecord, sqlx::Error> {
    Ok(IdentityRecord {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        provider_id: row.try_get(2)?,
        subject: row.try_get(3)?,
        email: row.try_get(4)?,
        created_at: row.try_get(5)?,
        last_used_at: row.try_get(6)?,
    })
}

/// The account an identity at `provider_id` signs in to, if it is linked.
pub async fn find(
    db: &Db,
    provider_id: &str,
    subject: &str,
) -> Result<Option<IdentityRecord>, DbError> {
    let query =
        format!("SELECT {COLUMNS} FROM user_identities WHERE provider_id = ? AND subject = ?");
    let row = sqlx::query(&db.sql(&query))
        .bind(provider_id)
        .bind(subject)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(record).transpose()?)
}

/// An account's identities, by provider.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<IdentityRecord>, DbError> {
    let query =
        format!("SELECT {COLUMNS} FROM user_identities WHERE user_id = ? ORDER BY provider_id, id");
    let rows = sqlx::query(&db.sql(&query))
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
}

/// Links an identity to an account; `false` when the identity is linked already (to this
/// account or another).
pub async fn link(
    db: &Db,
    user_id: i64,
    provider_id: &str,
    subject: &str,
    email: Option<&str>,
    now: Millis,
) -> Result<bool, DbError> {
    let sql = db.sql(
        "INSERT INTO user_identities (user_id, provider_id, subject, email, created_at, last_used_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    );
    let inserted = sqlx::query(&sql)
        .bind(user_id)
        .bind(provider_id)
        .bind(subject)
        .bind(email)
        .bind(now)
        .bind(now)
        .execute(&db.pool)
        .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Records a sign-in with the identity, and the email the provider now gives.
pub async fn touch(db: &Db, id: i64, email: Option<&str>, now: Millis) -> Result<(), DbError> {
    let sql = db.sql("UPDATE user_identities SET last_used_at = ?, email = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(now)
        .bind(email)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Unlinks an account's identity; `false` when it had no such identity.
pub async fn unlink(db: &Db, user_id: i64, id: i64) -> Result<bool, DbError> {
    let sql = db.sql("DELETE FROM user_identities WHERE id = ? AND user_id = ?");
    let done = sqlx::query(&sql)
        .bind(id)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
