//! Back-channel logout's two tables. `oauth_session_clients`: which clients were given
//! tokens on which browser session (an ID token's `sid`). `backchannel_outbox`: the logout
//! tokens owed once a session ended, one per session and client (a unique index), each
//! claimed by one node at a time under a lease and retried, as the mail queue does.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError};

/// Notes that `client_id` was given tokens on the browser session `session_id`.
pub async fn record(
    db: &Db,
    session_id: &str,
    client_id: &str,
    user_id: i64,
    now: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO oauth_session_clients (session_id, client_id, user_id, created_at) \
         VALUES (?, ?, ?, ?)",
    );
    match sqlx::query(&sql)
        .bind(session_id)
        .bind(client_id)
        .bind(user_id)
        .bind(now)
        .execute(&db.pool)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The session ended: owes a logout token to each of its clients that takes them, once
/// (a second call, from another node, finds the rows already there). Returns how many.
pub async fn enqueue_for_session(db: &Db, session_id: &str, now: Millis) -> Result<usize, DbError> {
    let sql = db.sql(
        "SELECT sc.client_id, sc.user_id FROM oauth_session_clients sc \
         JOIN oauth_clients c ON c.client_id = sc.client_id \
         WHERE sc.session_id = ? AND c.backchannel_logout_uri IS NOT NULL",
    );
    let owed: Vec<(String, i64)> = sqlx::query(&sql)
        .bind(session_id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let insert = db.sql(
        "INSERT INTO backchannel_outbox (session_id, client_id, user_id, created_at, \
         next_attempt_at, attempts) VALUES (?, ?, ?, ?, ?, 0)",
    );
    let mut queued = 0;
    for (client_id, user_id) in &owed {
        match sqlx::query(&insert)
            .bind(session_id)
            .bind(client_id)
            .bind(user_id)
            .bind(now)
            .bind(now)
            .execute(&db.pool)
            .await
        {
            Ok(_) => queued += 1,
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let forget = db.sql("DELETE FROM oauth_session_clients WHERE session_id = ?");
    sqlx::query(&forget)
        .bind(session_id)
        .execute(&db.pool)
        .await?;
    Ok(queued)
}

/// Browser sessions with clients that ended without anyone saying so: past their absolute
/// end, or gone with their user. At most `limit`.
pub async fn ended_unannounced(db: &Db, now: Millis, limit: i64) -> Result<Vec<String>, DbError> {
    let text = format!(
        "SELECT DISTINCT sc.session_id FROM oauth_session_clients sc \
         LEFT JOIN sessions s ON s.id = sc.session_id \
         WHERE s.id IS NULL OR s.expires_at < ? OR s.revoked_at IS NOT NULL LIMIT {limit}"
    );
    let sql = db.sql(&text);
    sqlx::query(&sql)
        .bind(now)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0).map_err(DbError::from))
        .collect()
}

/// A logout token this node has claimed.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: i64,
    pub session_id: String,
    pub client_id: String,
    pub user_id: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Claims the oldest due delivery not held by a live lease, for `lease_ms`.
pub async fn claim_next(
    db: &Db,
    node: &str,
    now: Millis,
    lease_ms: Millis,
) -> Result<Option<Claimed>, DbError> {
    let due = db.sql(
        "SELECT id FROM backchannel_outbox WHERE done_at IS NULL AND next_attempt_at <= ? \
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
        "UPDATE backchannel_outbox SET locked_until = ?, locked_by = ?, attempts = attempts + 1 \
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
            "SELECT session_id, client_id, user_id, attempts FROM backchannel_outbox WHERE id = ?",
        );
        let row = sqlx::query(&sql).bind(id).fetch_one(&db.pool).await?;
        return Ok(Some(Claimed {
            id,
            session_id: row.try_get(0)?,
            client_id: row.try_get(1)?,
            user_id: row.try_get(2)?,
            attempts: row.try_get(3)?,
        }));
    }
    Ok(None)
}

/// Gives the delivery back for another try at `retry_at`, noting why this one failed.
pub async fn retry_later(
    db: &Db,
    id: i64,
    node: &str,
    retry_at: Millis,
    error: &str,
) -> Result<(), DbError> {
    let sql = db.sql(
        "UPDATE backchannel_outbox SET next_attempt_at = ?, locked_until = NULL, locked_by = NULL, \
         last_error = ? WHERE id = ? AND locked_by = ?",
    );
    let error: String = error.chars().take(500).collect();
    sqlx::query(&sql)
        .bind(retry_at)
        .bind(error)
        .bind(id)
        .bind(node)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// How a delivery ended: `sent`, `failed` (given up), `skipped` (the client is gone or no
/// longer takes them).
pub async fn finish(
    db: &Db,
    id: i64,
    outcome: &str,
    error: Option<&str>,
    now: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "UPDATE backchannel_outbox SET done_at = ?, outcome = ?, locked_until = NULL, \
         last_error = ? WHERE id = ?",
    );
    let error: Option<String> = error.map(|e| e.chars().take(500).collect());
    sqlx::query(&sql)
        .bind(now)
        .bind(outcome)
        .bind(error)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets deliveries that ended before `before`.
pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM backchannel_outbox WHERE done_at IS NOT NULL AND done_at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
