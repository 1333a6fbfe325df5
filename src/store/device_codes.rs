//! Device authorizations (RFC 8628), `oauth_device_codes`: the device code kept as its
//! SHA-256, the user code as the user types it (normalised), and how far it got: `pending`,
//! then `approved` (with the sign-in the tokens will carry) or `denied`, then `used`. Each
//! step is a conditional UPDATE, so one request wins it.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, long_text_null, Db, DbError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Denied,
    Used,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Used => "used",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            "denied" => Status::Denied,
            _ => Status::Used,
        }
    }
}

#[derive(Clone, Debug)]
pub struct DeviceRecord {
    pub id: i64,
    pub client_id: String,
    pub scope: String,
    pub expires_at: Millis,
    /// How long the device must wait between polls (raised by each `slow_down`).
    pub interval_ms: Millis,
    pub last_polled_at: Option<Millis>,
    pub status: Status,
    pub user_id: Option<i64>,
    /// For an approved one: the sign-in and request the tokens are issued for, as the
    /// service serialised them.
    pub sign_in: Option<String>,
}

pub struct NewDevice<'a> {
    pub device_code_hash: &'a str,
    pub user_code: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub expires_at: Millis,
    pub interval_ms: Millis,
}

/// False when the user code is taken (by a live or not yet pruned authorization).
pub async fn create(db: &Db, d: NewDevice<'_>, now: Millis) -> Result<bool, DbError> {
    let sql = db.sql(
        "INSERT INTO oauth_device_codes (device_code_hash, user_code, client_id, scope, \
         created_at, expires_at, interval_ms, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    let done = sqlx::query(&sql)
        .bind(d.device_code_hash)
        .bind(d.user_code)
        .bind(d.client_id)
        .bind(d.scope)
        .bind(now)
        .bind(d.expires_at)
        .bind(d.interval_ms)
        .bind(Status::Pending.name())
        .execute(&db.pool)
        .await;
    match done {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

const COLUMNS: &str =
    "id, client_id, scope, expires_at, interval_ms, last_polled_at, status, user_id, sign_in";

fn from_row(row: &sqlx::any::AnyRow) -> Result<DeviceRecord, sqlx::Error> {
    let status: String = row.try_get(6)?;
    Ok(DeviceRecord {
        id: row.try_get(0)?,
        client_id: row.try_get(1)?,
        scope: row.try_get(2)?,
        expires_at: row.try_get(3)?,
        interval_ms: row.try_get(4)?,
        last_polled_at: row.try_get(5)?,
        status: Status::parse(&status),
        user_id: row.try_get(7)?,
        sign_in: long_text_null(row, 8)?,
    })
}

async fn find_by(db: &Db, column: &str, value: &str) -> Result<Option<DeviceRecord>, DbError> {
    let text = format!("SELECT {COLUMNS} FROM oauth_device_codes WHERE {column} = ?");
    let sql = db.sql(&text);
    let row = sqlx::query(&sql)
        .bind(value)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn find_by_device_code(db: &Db, hash: &str) -> Result<Option<DeviceRecord>, DbError> {
    find_by(db, "device_code_hash", hash).await
}

pub async fn find_by_user_code(db: &Db, user_code: &str) -> Result<Option<DeviceRecord>, DbError> {
    find_by(db, "user_code", user_code).await
}

/// Records a poll, and the interval the next one must wait.
pub async fn polled(db: &Db, id: i64, now: Millis, interval_ms: Millis) -> Result<(), DbError> {
    let sql =
        db.sql("UPDATE oauth_device_codes SET last_polled_at = ?, interval_ms = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(now)
        .bind(interval_ms)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The user's answer, on a pending authorization that has not expired; false otherwise.
pub async fn decide(
    db: &Db,
    id: i64,
    approved: Option<(i64, &str)>,
    now: Millis,
) -> Result<bool, DbError> {
    let sql = db.sql(
        "UPDATE oauth_device_codes SET status = ?, user_id = ?, sign_in = ? \
         WHERE id = ? AND status = ? AND expires_at > ?",
    );
    let status = match approved {
        Some(_) => Status::Approved,
        None => Status::Denied,
    };
    let done = sqlx::query(&sql)
        .bind(status.name())
        .bind(approved.map(|(user, _)| user))
        .bind(approved.map(|(_, sign_in)| sign_in))
        .bind(id)
        .bind(Status::Pending.name())
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Spends an approved authorization for its tokens; false when another poll did first.
pub async fn spend(db: &Db, id: i64) -> Result<bool, DbError> {
    let sql = db.sql("UPDATE oauth_device_codes SET status = ? WHERE id = ? AND status = ?");
    let done = sqlx::query(&sql)
        .bind(Status::Used.name())
        .bind(id)
        .bind(Status::Approved.name())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets authorizations that expired before `before`.
pub async fn prune(db: &Db, before: Millis) -> Result<u64, DbError> {
    let sql = db.sql("DELETE FROM oauth_device_codes WHERE expires_at < ?");
    Ok(sqlx::query(&sql)
        .bind(before)
        .execute(&db.pool)
        .await?
        .rows_affected())
}
