//! What a protected request needs to know beyond the JWT signature: is the session still
//! live, and what roles does the user have now. Kept in a bounded in-process cache so the
//! hot path costs no database round trip. The node that changes a session or a user
//! updates its cache at once; other nodes hear of it through `auth::change_feed`, and
//! `ENTRY_TTL` bounds how long any entry can be trusted even if an event is lost.
//!
//! The cache only vouches for what it holds while the change feed is heard: a node cut off
//! from the feed cannot learn that a session ended elsewhere. Once the feed was last heard
//! longer ago than `PORTCULLIS_FEED_STALE_AFTER`, every lookup goes to the database (and
//! fails, as a 503, when that cannot be read either), until the feed is heard again.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;

use crate::domain::{SessionState, UserState};
use crate::store::api_keys::ApiKeyState;
use crate::store::oauth_clients::ClientRecord;

const MAX_SESSIONS: u64 = 200_000;
const MAX_USERS: u64 = 200_000;
const MAX_CLIENTS: u64 = 10_000;
const MAX_API_KEYS: u64 = 100_000;
pub const ENTRY_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct SessionCache {
    sessions: Cache<String, Option<SessionState>>,
    users: Cache<i64, Option<UserState>>,
    /// Registered OpenID Connect clients, so a grant costs no query for its client.
    clients: Cache<String, Option<Arc<ClientRecord>>>,
    /// API keys by the hash of their secret, so a key's request costs no query either.
    api_keys: Cache<String, Option<Arc<ApiKeyState>>>,
    feed: Arc<FeedHeard>,
}

/// When the change feed was last heard, on the monotonic clock (the service's `Clock` may
/// be set by tests; silence is measured in real time).
struct FeedHeard {
    since: Instant,
    /// Milliseconds after `since` when a poll that succeeded began.
    heard_at_ms: AtomicU64,
    stale_after: Duration,
}

impl SessionCache {
    /// An empty cache that vouches for its entries while the feed was heard within
    /// `stale_after`; it counts as heard at creation, before the first poll.
    pub fn new(stale_after: Duration) -> Self {
        Self {
            sessions: Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_live(ENTRY_TTL)
                .build(),
            users: Cache::builder()
                .max_capacity(MAX_USERS)
                .time_to_live(ENTRY_TTL)
                .build(),
            clients: Cache::builder()
                .max_capacity(MAX_CLIENTS)
                .time_to_live(ENTRY_TTL)
                .build(),
            api_keys: Cache::builder()
                .max_capacity(MAX_API_KEYS)
                .time_to_live(ENTRY_TTL)
                .build(),
            feed: Arc::new(FeedHeard {
                since: Instant::now(),
                heard_at_ms: AtomicU64::new(0),
                stale_after,
            }),
        }
    }

    /// The feed was read up to `polled_at` (when the poll that just succeeded began). If it
    /// had been silent too long, what the cache holds may have missed an event that was
    /// pruned meanwhile: forget it all.
    pub fn feed_heard(&self, polled_at: Instant) {
        if !self.vouches() {
            self.forget_everything();
        }
        let ms = polled_at
            .saturating_duration_since(self.feed.since)
            .as_millis();
        self.feed
            .heard_at_ms
            .fetch_max(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// How long ago the feed was last heard.
    pub fn feed_silent_for(&self) -> Duration {
        let heard = Duration::from_millis(self.feed.heard_at_ms.load(Ordering::Relaxed));
        self.feed.since.elapsed().saturating_sub(heard)
    }

    /// The bound past which the cache stops vouching (`PORTCULLIS_FEED_STALE_AFTER`).
    pub fn stale_after(&self) -> Duration {
        self.feed.stale_after
    }

    /// Whether cached entries may be believed now.
    pub fn vouches(&self) -> bool {
        self.feed_silent_for() <= self.feed.stale_after
    }

    /// The session's state, loading it with `load` on a miss; concurrent misses for one
    /// session share a single load.
    pub async fn session<F, E>(
        &self,
        sid: &str,
        load: F,
    ) -> Result<Option<SessionState>, std::sync::Arc<E>>
    where
        F: std::future::Future<Output = Result<Option<SessionState>, E>>,
        E: Send + Sync + 'static,
    {
        if !self.vouches() {
            return load.await.map_err(std::sync::Arc::new);
        }
        self.sessions.try_get_with_by_ref(sid, load).await
    }

    pub async fn user<F, E>(
        &self,
        user_id: i64,
        load: F,
    ) -> Result<Option<UserState>, std::sync::Arc<E>>
    where
        F: std::future::Future<Output = Result<Option<UserState>, E>>,
        E: Send + Sync + 'static,
    {
        if !self.vouches() {
            return load.await.map_err(std::sync::Arc::new);
        }
        self.users.try_get_with(user_id, load).await
    }

    /// The client's registration, loading it with `load` on a miss.
    pub async fn client<F, E>(
        &self,
        client_id: &str,
        load: F,
    ) -> Result<Option<Arc<ClientRecord>>, std::sync::Arc<E>>
    where
        F: std::future::Future<Output = Result<Option<Arc<ClientRecord>>, E>>,
        E: Send + Sync + 'static,
    {
        if !self.vouches() {
            return load.await.map_err(std::sync::Arc::new);
        }
        self.clients.try_get_with_by_ref(client_id, load).await
    }

    /// A client was changed or removed: the next request reloads it.
    pub async fn client_changed(&self, client_id: &str) {
        self.clients.invalidate(client_id).await;
    }

    pub async fn session_revoked(&self, sid: &str) {
        self.sessions.invalidate(sid).await;
    }

    /// Forget what we know of a user (roles changed, disabled, deleted): the next request
    /// reloads it.
    pub async fn user_changed(&self, user_id: i64) {
        self.users.invalidate(&user_id).await;
    }

    /// Roles, groups or permissions were redefined: every user's state is reloaded.
    pub fn rights_changed(&self) {
        self.users.invalidate_all();
    }

    /// An API key was revoked: every key is looked up again.
    pub fn api_keys_changed(&self) {
        self.api_keys.invalidate_all();
    }

    /// The API key whose secret hashes to `hash`, loading it with `load` on a miss.
    pub async fn api_key<F, E>(
        &self,
        hash: &str,
        load: F,
    ) -> Result<Option<Arc<ApiKeyState>>, std::sync::Arc<E>>
    where
        F: std::future::Future<Output = Result<Option<Arc<ApiKeyState>>, E>>,
        E: Send + Sync + 'static,
    {
        if !self.vouches() {
            return load.await.map_err(std::sync::Arc::new);
        }
        self.api_keys.try_get_with_by_ref(hash, load).await
    }

    /// Forget everything: for when this node may have missed changes made elsewhere.
    pub fn forget_everything(&self) {
        self.sessions.invalidate_all();
        self.users.invalidate_all();
        self.clients.invalidate_all();
        self.api_keys.invalidate_all();
    }
}
