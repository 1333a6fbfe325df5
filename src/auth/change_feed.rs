//! Keeps every node's session cache honest when several nodes share one database.
//!
//! A node that ends a session or changes a user drops its own cache entry at once and
//! appends a row to `cache_events`; every node polls that table (every `POLL_EVERY`) and
//! drops the entries named there. So a revocation reaches the other nodes within about
//! `POLL_EVERY` plus one query, with no database round trip on the request path. The same
//! loop prunes ended throttle windows once a minute.
//!
//! Auto-increment ids may become visible out of order under concurrent writers, so a
//! poll reads by time, overlapping the previous one by `OVERLAP`; dropping an entry twice
//! is harmless. Rows older than `KEEP` are deleted by whichever node gets there.
use std::time::Duration;

use sqlx::Row;

use crate::app::AppState;
use crate::clock::Millis;
use crate::db::Db;

pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// Covers commit reordering and clock skew between nodes.
const OVERLAP_MS: Millis = 5_000;
const KEEP_MS: Millis = 60_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Session,
    User,
}

impl Change {
    fn code(self) -> &'static str {
        match self {
            Change::Session => "session",
            Change::User => "user",
        }
    }
}

pub async fn publish(db: &Db, change: Change, key: &str, now: Millis) -> Result<(), sqlx::Error> {
    let sql = db.sql("INSERT INTO cache_events (at, kind, item) VALUES (?, ?, ?)");
    sqlx::query(&sql)
        .bind(now)
        .bind(change.code())
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

async fn since(db: &Db, from: Millis) -> Result<Vec<(i64, Millis, String, String)>, sqlx::Error> {
    let sql = db.sql("SELECT id, at, kind, item FROM cache_events WHERE at >= ?");
    sqlx::query(&sql)
        .bind(from)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            ))
        })
        .collect()
}

async fn prune(db: &Db, before: Millis) -> Result<(), sqlx::Error> {
    let sql = db.sql("DELETE FROM cache_events WHERE at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}

/// Polls until `stop` turns true. Failures (a database outage) are logged and retried.
pub async fn follow(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut last_poll = state.clock.now_ms();
    // Events already applied, by id, with their time: the overlap reads them again.
    let mut applied: std::collections::HashMap<i64, Millis> = std::collections::HashMap::new();
    let mut polls: u64 = 0;
    let mut ticker = tokio::time::interval(POLL_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = state.clock.now_ms();
        match since(&state.db, last_poll - OVERLAP_MS).await {
            Ok(changes) => {
                applied.retain(|_, at| *at >= last_poll - 2 * OVERLAP_MS);
                for (id, at, kind, item) in changes {
                    if applied.insert(id, at).is_some() {
                        continue;
                    }
                    match kind.as_str() {
                        "session" => state.cache.session_revoked(&item).await,
                        "user" => {
                            if let Ok(id) = item.parse() {
                                state.cache.user_changed(id).await;
                            }
                        }
                        _ => {}
                    }
                }
                last_poll = now;
            }
            Err(e) => tracing::warn!(error = %e, "polling cache events"),
        }
        polls += 1;
        if polls % 240 == 0 {
            if let Err(e) = prune(&state.db, now - KEEP_MS).await {
                tracing::warn!(error = %e, "pruning cache events");
            }
            if let Err(e) = state.throttle.prune(now).await {
                tracing::warn!(error = %e, "pruning throttle windows");
            }
        }
    }
}
