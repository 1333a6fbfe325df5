//! Keeps every node's session cache honest when several nodes share one database.
//!
//! A node that ends a session or changes a user drops its own cache entry at once and
//! appends a row to `cache_events`; every node polls that table (every `POLL_EVERY`) and
//! drops the entries named there. So a revocation reaches the other nodes within about
//! `POLL_EVERY` plus one query, with no database round trip on the request path.
//!
//! With Redis (`PORTCULLIS_REDIS_URL`), events are published on a Redis channel instead and
//! reach the other nodes in about a millisecond; the table is then only the fallback for
//! an event Redis would not take, and is still polled. A node whose subscription is down
//! (or not yet up) cannot hear Redis events, so until it is live again it drops its whole
//! cache on every poll: slower requests, never a stale session.
//!
//! Auto-increment ids may become visible out of order under concurrent writers, so a
//! poll reads by time, overlapping the previous one by `OVERLAP`; dropping an entry twice
//! is harmless. Rows older than `KEEP` are deleted by whichever node gets there.
use std::time::Duration;

use std::sync::Arc;

use crate::auth::session_cache::SessionCache;
use crate::clock::Clock;
use crate::clock::Millis;
use crate::db::{self, Db, DbError};
use crate::redis_link::RedisLink;
use crate::store;

pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// A poll that takes longer is given up and tried again: the feed counts as unheard until
/// one succeeds (`SessionCache::vouches`).
const POLL_DEADLINE: Duration = Duration::from_secs(2);
/// Covers commit reordering and clock skew between nodes.
const OVERLAP_MS: Millis = 5_000;
const KEEP_MS: Millis = 60_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Session,
    User,
    Client,
    /// A role's permissions, a group's roles, or a definition went: every user's rights
    /// may have changed.
    Rights,
    /// An API key was revoked or its owner changed.
    ApiKeys,
}

impl Change {
    fn code(self) -> &'static str {
        match self {
            Change::Session => "session",
            Change::User => "user",
            Change::Client => "client",
            Change::Rights => "rights",
            Change::ApiKeys => "apikeys",
        }
    }
}

/// Tells the other nodes: through Redis when it takes the event, else through the table.
pub async fn publish(
    db: &Db,
    redis: Option<&RedisLink>,
    change: Change,
    key: &str,
    now: Millis,
) -> Result<(), DbError> {
    if let Some(redis) = redis {
        let message = format!("{}:{key}", change.code());
        if redis.publish(&message).await.is_ok() {
            return Ok(());
        }
    }
    store::cache_events::append(db, change.code(), key, now).await
}

/// What a node follows the events with: where they are, the clock, the cache they keep
/// honest, and Redis when there is one. All cheap to clone (handles to shared state).
#[derive(Clone)]
pub struct Feed {
    pub db: Db,
    pub clock: Clock,
    pub cache: SessionCache,
    pub redis: Option<Arc<RedisLink>>,
}

async fn apply(cache: &SessionCache, kind: &str, item: &str) {
    match kind {
        "session" => cache.session_revoked(item).await,
        "user" => {
            if let Ok(id) = item.parse() {
                cache.user_changed(id).await;
            }
        }
        "client" => cache.client_changed(item).await,
        "rights" => cache.rights_changed(),
        "apikeys" => cache.api_keys_changed(),
        _ => {}
    }
}

/// Polls until `stop` turns true. Failures (a database outage) are logged and retried.
pub async fn follow(state: Feed, mut stop: tokio::sync::watch::Receiver<bool>) {
    if state.redis.is_some() {
        tokio::spawn(subscribe(state.clone(), stop.clone()));
    }
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
        let started = std::time::Instant::now();
        let read = store::cache_events::since(&state.db, last_poll - OVERLAP_MS);
        match db::within(POLL_DEADLINE, read).await {
            Ok(changes) => {
                applied.retain(|_, at| *at >= last_poll - 2 * OVERLAP_MS);
                for event in changes {
                    if applied.insert(event.id, event.at).is_some() {
                        continue;
                    }
                    apply(&state.cache, &event.kind, &event.item).await;
                }
                last_poll = now;
                state.cache.feed_heard(started);
            }
            Err(e) => tracing::warn!(error = %e, "polling cache events"),
        }
        if state.redis.as_ref().is_some_and(|r| !r.is_subscribed()) {
            state.cache.forget_everything();
        }
        polls += 1;
        if polls % 240 == 0 {
            let prune = store::cache_events::prune(&state.db, now - KEEP_MS);
            if let Err(e) = db::within(db::BACKGROUND_DEADLINE, prune).await {
                tracing::warn!(error = %e, "pruning cache events");
            }
        }
    }
}

/// How often a live subscription is pinged, and how long the answer may take: a silently
/// dead connection is noticed within their sum, well inside the one-second promise.
const PING_EVERY: Duration = Duration::from_millis(250);
const PING_TIMEOUT: Duration = Duration::from_millis(250);

/// Keeps a Redis subscription to the events channel alive until `stop` turns true.
async fn subscribe(state: Feed, mut stop: tokio::sync::watch::Receiver<bool>) {
    use futures_util::StreamExt;
    let Some(redis) = state.redis.clone() else {
        return;
    };
    let channel = redis.events_channel();
    loop {
        let connected = tokio::time::timeout(Duration::from_secs(1), async {
            let (mut sink, stream) = redis.client().get_async_pubsub().await?.split();
            sink.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>((sink, stream))
        })
        .await;
        match connected {
            Ok(Ok((mut sink, mut stream))) => {
                // Whatever was published while we were away is unknown: start clean.
                state.cache.forget_everything();
                redis.set_subscribed(true);
                tracing::info!("listening for cache events on redis");
                let mut ping = tokio::time::interval(PING_EVERY);
                loop {
                    tokio::select! {
                        message = stream.next() => match message {
                            Some(message) => {
                                let text: String = message.get_payload().unwrap_or_default();
                                if let Some((kind, item)) = text.split_once(':') {
                                    apply(&state.cache, kind, item).await;
                                }
                            }
                            None => break,
                        },
                        _ = ping.tick() => {
                            let answered = tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await;
                            if !matches!(answered, Ok(Ok(_))) {
                                break;
                            }
                        }
                        // Wrapped so the select's output holds no watch guard (not Send).
                        _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                            redis.set_subscribed(false);
                            return;
                        }
                    }
                }
                redis.set_subscribed(false);
                state.cache.forget_everything();
                tracing::warn!("redis subscription lost; dropping caches until it is back");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot subscribe to redis"),
            Err(_) => tracing::warn!("cannot subscribe to redis: no answer within 1 s"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
