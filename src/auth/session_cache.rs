//! What a protected request needs to know beyond the JWT signature: is the session still
//! live, and what roles does the user have now. Kept in a bounded in-process cache so the
//! hot path costs no database round trip. The node that changes a session or a user
//! updates its cache at once; other nodes hear of it through `auth::change_feed`, and
//! `ENTRY_TTL` bounds how long any entry can be trusted even if an event is lost.
use std::time::Duration;

use moka::future::Cache;

use crate::domain::{SessionState, UserState};

const MAX_SESSIONS: u64 = 200_000;
const MAX_USERS: u64 = 200_000;
pub const ENTRY_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct SessionCache {
    sessions: Cache<String, Option<SessionState>>,
    users: Cache<i64, Option<UserState>>,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self {
            sessions: Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_live(ENTRY_TTL)
                .build(),
            users: Cache::builder()
                .max_capacity(MAX_USERS)
                .time_to_live(ENTRY_TTL)
                .build(),
        }
    }
}

impl SessionCache {
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
        self.users.try_get_with(user_id, load).await
    }

    pub async fn session_revoked(&self, sid: &str) {
        self.sessions.invalidate(sid).await;
    }

    /// Forget what we know of a user (roles changed, disabled, deleted): the next request
    /// reloads it.
    pub async fn user_changed(&self, user_id: i64) {
        self.users.invalidate(&user_id).await;
    }

    /// Forget everything: for when this node may have missed changes made elsewhere.
    pub fn forget_everything(&self) {
        self.sessions.invalidate_all();
        self.users.invalidate_all();
    }
}
