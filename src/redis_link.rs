//! The optional Redis link (`PORTCULLIS_REDIS_URL`): a fast shared store for what every
//! node must agree on quickly and often, namely failed sign-in counters and cache
//! invalidation events. The database stays the fallback for both, so Redis being down
//! slows nothing but those two paths and loses no state that matters: counters are
//! short-lived by nature, and every event is also recoverable by dropping caches.
//!
//! Several Portcullis deployments may share one Redis: every key and channel is prefixed
//! with an id kept in the database (`server_keys.cluster_id`), so nodes that share a
//! database share a namespace and nobody else does.
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use crate::clock::Millis;

/// A command that takes longer than this is treated as a failure, so a sick Redis costs a
/// sign-in at most this much before the database takes over.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, Redis is left alone this long (the database serves meanwhile), so an
/// outage does not add a timeout to every request.
const BACK_OFF_MS: i64 = 1_000;

pub struct RedisLink {
    client: redis::Client,
    commands: ConnectionManager,
    namespace: String,
    /// Before this instant (ms since `started`), callers use the database instead.
    down_until: AtomicI64,
    started: Instant,
    /// True while this node's event subscription is live and answering pings.
    subscribed: AtomicBool,
}

/// What Redis said no to, or that it did not answer in time.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("redis is backing off after a failure")]
    BackingOff,
}

impl RedisLink {
    /// Parses the URL and prepares a lazily connecting link: a Redis that is down at start
    /// does not stop the node (the database serves until it is back).
    pub fn new(url: &str, cluster_id: &[u8]) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("PORTCULLIS_REDIS_URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let commands = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("PORTCULLIS_REDIS_URL: {e}"))?;
        let id: String = cluster_id
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            client,
            commands,
            namespace: format!("portcullis:{id}:"),
            down_until: AtomicI64::new(0),
            started: Instant::now(),
            subscribed: AtomicBool::new(false),
        })
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The channel cache events travel on.
    pub fn events_channel(&self) -> String {
        format!("{}events", self.namespace)
    }

    fn throttle_key(&self, key: &str) -> String {
        format!("{}throttle:{key}", self.namespace)
    }

    pub fn set_subscribed(&self, live: bool) {
        self.subscribed.store(live, Ordering::Release);
        crate::metrics::redis_subscribed(live);
    }

    /// Whether events published on Redis reach this node right now.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Runs one command under the timeout and the back-off rule. A connection found dead
    /// (Redis restarted, say) is retried once on a fresh one: only a second failure, or no
    /// answer in time, sends callers to the database.
    async fn run<T, F, Fut>(&self, mut command: F) -> Result<T, RedisError>
    where
        F: FnMut(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        if self.elapsed_ms() < self.down_until.load(Ordering::Acquire) {
            return Err(RedisError::BackingOff);
        }
        let mut retried = false;
        let outcome = loop {
            match tokio::time::timeout(COMMAND_TIMEOUT, command(self.commands.clone())).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(e)) if !retried && e.is_connection_dropped() && !e.is_timeout() => {
                    retried = true;
                }
                Ok(Err(e)) => break RedisError::Redis(e),
                Err(_) => break RedisError::Timeout(COMMAND_TIMEOUT),
            }
        };
        self.down_until
            .store(self.elapsed_ms() + BACK_OFF_MS, Ordering::Release);
        tracing::warn!(error = %outcome, "redis unavailable; using the database for a while");
        Err(outcome)
    }

    pub async fn publish(&self, message: &str) -> Result<(), RedisError> {
        let channel = self.events_channel();
        self.run(|mut conn| {
            let channel = channel.clone();
            async move { conn.publish::<_, _, i64>(channel, message).await }
        })
        .await
        .map(|_| ())
    }

    /// Counts a failure for `key`; the first failure starts a window of `window_ms`.
    pub async fn record_failure(&self, key: &str, window_ms: Millis) -> Result<(), RedisError> {
        let key = self.throttle_key(key);
        self.run(|mut conn| {
            let key = key.clone();
            async move {
                redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .ignore()
                    // NX: only the first failure sets the expiry, so the window is fixed.
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(window_ms)
                    .arg("NX")
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// `(first_failure, failures)` for `key` if it has an open window, in the shape the
    /// database store returns, so one rule decides for both.
    pub async fn window(
        &self,
        key: &str,
        window_ms: Millis,
        now: Millis,
    ) -> Result<Option<(Millis, i64)>, RedisError> {
        let key = self.throttle_key(key);
        let (failures, ttl): (Option<i64>, i64) = self
            .run(|mut conn| {
                let key = key.clone();
                async move {
                    redis::pipe()
                        .get(&key)
                        .pttl(&key)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(match failures {
            Some(n) if ttl > 0 => Some((now + ttl - window_ms, n)),
            _ => None,
        })
    }

    pub async fn clear(&self, key: &str) -> Result<(), RedisError> {
        let key = self.throttle_key(key);
        self.run(|mut conn| {
            let key = key.clone();
            async move { conn.del::<_, i64>(key).await }
        })
        .await
        .map(|_| ())
    }
}
