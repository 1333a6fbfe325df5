//! Recording auth events: to the log (target `audit`) and to the `audit_events` table that
//! `/api/admin/audit` lists. Never a password or a token.
pub use crate::store::audit::{Entry, Event, Via};

use crate::clock::Clock;
use crate::db::Db;

/// Records one event. A failed write is logged, not returned: the request it describes has
/// already happened and must get its answer.
pub async fn record(db: &Db, clock: &Clock, event: Event, ok: bool, entry: &Entry<'_>) {
    log(event, ok, entry);
    if let Err(e) = crate::store::audit::record(db, event, ok, entry, clock.now_ms()).await {
        tracing::error!(error = %e, event = event.name(), "audit event not stored");
    }
}

/// Logs the event and counts it, without storing it: for when the database is unreachable
/// and a write would only hold the answer for another acquire timeout.
pub fn log(event: Event, ok: bool, entry: &Entry<'_>) {
    let outcome = if ok { "ok" } else { "failed" };
    tracing::info!(
        target: "audit",
        event = event.name(),
        outcome,
        actor_id = entry.actor_id,
        subject_id = entry.subject_id,
        username = entry.username,
        ip = entry.ip,
        via = entry.via.name(),
    );
    match event {
        Event::Signin => crate::metrics::signin(outcome),
        Event::SigninThrottled => crate::metrics::signin("throttled"),
        Event::RefreshReuse => crate::metrics::refresh_reuse(),
        _ => {}
    }
}
