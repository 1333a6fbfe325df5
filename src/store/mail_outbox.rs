//! The mail queue: every mail to send is a row first, so it survives a restart, and a node
//! sends it only after claiming it (a lease, so that of several nodes exactly one does).
//! Rows hold what the mail is about, never a token: the sender makes the token when it
//! writes the mail, so no link that works is ever at rest in the database.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};

/// What a queued mail is about; the sender decides its text and recipient from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A reset link, to the account with the address `email`, if there is one.
    PasswordReset,
    /// Tells the account's owner that the password was reset.
    PasswordChanged,
    /// A verification link, to `email`, the account's address when it was queued.
    VerifyEmail,
    /// A link confirming `email` as the account's new address.
    EmailChange,
    /// Tells the old address (`email`) that the account's address is now `detail`.
    EmailChanged,
    /// A sign-in link, to the account with the address `email`, if there is one.
    MagicLink,
    /// Tells the account's owner that a second factor or passkey was added or removed;
    /// `detail` is the change (`service::factors::FactorChange` in its stored form).
    FactorChanged,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::PasswordReset,
        Kind::PasswordChanged,
        Kind::VerifyEmail,
        Kind::EmailChange,
        Kind::EmailChanged,
        Kind::MagicLink,
        Kind::FactorChanged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::PasswordReset => "password_reset",
            Kind::PasswordChanged => "password_changed",
            Kind::VerifyEmail => "verify_email",
            Kind::EmailChange => "email_change",
            Kind::EmailChanged => "email_changed",
            Kind::MagicLink => "magic_link",
            Kind::FactorChanged => "factor_changed",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A mail to queue.
#[derive(Clone, Debug)]
pub struct NewMail<'a> {
    pub kind: Kind,
    pub user_id: Option<i64>,
    pub email: &'a str,
    pub detail: Option<&'a str>,
}

/// A queued mail this node has claimed.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: i64,
    pub kind: Kind,
    pub user_id: Option<i64>,
    pub email: String,
    pub detail: Option<String>,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// The language of the request that queued it, if it named one we speak.
    pub locale: Option<String>,
}

/// How a mail's handling ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Nothing to send: no such account, or it is disabled or gone.
    Skipped,
    /// Given up after the last retry.
    Failed,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

pub async fn enqueue(
    db: &Db,
    mail: &NewMail<'_>,
    locale: Option<&str>,
    now: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO mail_outbox (kind, user_id, email, detail, locale, created_at, \
         next_attempt_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
    );
    sqlx::query(&sql)
        .bind(mail.kind.name())
        .bind(mail.user_id)
        .bind(mail.email)
        .bind(mail.detail)
        .bind(locale)
        .bind(now)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Claims the oldest mail that is due and not held by a live lease, for `lease_ms`; `None`
/// when there is nothing to send. Two nodes racing for one row: the conditional UPDATE
/// lets exactly one of them have it, and the other tries the next.
pub async fn claim_next(
    db: &Db,
    node: &str,
    now: Millis,
    lease_ms: Millis,
) -> Result<Option<Claimed>, DbError> {
    let due = db.sql(
        "SELECT id FROM mail_outbox WHERE done_at IS NULL AND next_attempt_at <= ? \
         AND (locked_until IS NULL OR locked_until < ?) ORDER BY next_attempt_at, id LIMIT 8",
    );
    let candidates: Vec<i64> = sqlx::query(&due)
        .bind(now)
        .bind(now)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    let claim = db.sql(
        "UPDATE mail_outbox SET locked_until = ?, locked_by = ?, attempts = attempts + 1 \
         WHERE id = ? AND done_at IS NULL AND (locked_until IS NULL OR locked_until < ?)",
    );
    for id in candidates {
        let done = sqlx::query(&claim)
            .bind(now + lease_ms)
            .bind(node)
            .bind(id)
            .bind(now)
            .execute(&db.pool)
            .await?;
        if done.rows_affected() != 1 {
            continue;
        }
        let sql = db.sql(
            "SELECT kind, user_id, email, detail, attempts, locale FROM mail_outbox WHERE id = ?",
        );
        let row = sqlx::query(&sql).bind(id).fetch_one(&db.pool).await?;
        let kind: String = row.try_get(0)?;
        let Some(kind) = Kind::from_name(&kind) else {
            // A kind this build does not know (a newer node queued it): leave it to that node.
            release(db, id, node, now + lease_ms).await?;
            continue;
        };
        return Ok(Some(Claimed {
            id,
            kind,
            user_id: row.try_get(1)?,
            email: row.try_get(2)?,
            detail: row.try_get(3)?,
            attempts: row.try_get(4)?,
            locale: row.try_get(5)?,
        }));
    }
    Ok(None)
}

/// Gives the mail back for another try at `retry_at`, noting why this one failed.
pub async fn retry_later(
    db: &Db,
    id: i64,
    node: &str,
    retry_at: Millis,
    error: &str,
) -> Result<(), DbError> {
    let sql = db.sql(
        "UPDATE mail_outbox SET next_attempt_at = ?, locked_until = NULL, locked_by = NULL, last_error = ? \
         WHERE id = ? AND locked_by = ?",
    );
    let error: String = error.chars().take(512).collect();
    sqlx::query(&sql)
        .bind(retry_at)
        .bind(error)
        .bind(id)
        .bind(node)
        .execute(&db.pool)
        .await?;
    Ok(())
}

async fn release(db: &Db, id: i64, node: &str, retry_at: Millis) -> Result<(), DbError> {
    let sql = db.sql(
        "UPDATE mail_outbox SET next_attempt_at = ?, locked_until = NULL, locked_by = NULL, \
         attempts = attempts - 1 WHERE id = ? AND locked_by = ?",
    );
    sqlx::query(&sql)
        .bind(retry_at)
        .bind(id)
        .bind(node)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records how the mail's handling ended; it is never tried again.
pub async fn finish(
    db: &Db,
    id: i64,
    outcome: Outcome,
    error: Option<&str>,
    now: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "UPDATE mail_outbox SET done_at = ?, outcome = ?, locked_until = NULL, last_error = ? WHERE id = ?",
    );
    let error: Option<String> = error.map(|e| e.chars().take(512).collect());
    sqlx::query(&sql)
        .bind(now)
        .bind(outcome.name())
        .bind(error)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Mails waiting to be sent, retries included (the `/metrics` gauge).
pub async fn pending(db: &Db) -> Result<i64, DbError> {
    sqlx::query("SELECT COUNT(*) FROM mail_outbox WHERE done_at IS NULL")
        .fetch_one(&db.pool)
        .await?
        .try_get(0)
        .map_err(DbError::from)
}

/// Forgets mails whose handling ended before `before`.
pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM mail_outbox WHERE done_at IS NOT NULL AND done_at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
