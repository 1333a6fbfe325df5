//! Telling every node that a session ended or a user changed: this node's cache at once
//! (when the caller has one: the command line does not), and the others through Redis or
//! the `cache_events` table (`auth::change_feed`).
use crate::auth::change_feed::{self, Change};
use crate::auth::session_cache::SessionCache;
use crate::clock::Clock;
use crate::db::Db;
use crate::redis_link::RedisLink;
use crate::store::backchannel;

pub struct Notifier<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub redis: Option<&'a RedisLink>,
    /// This process's cache of session and user state; `None` for the command line.
    pub cache: Option<&'a SessionCache>,
}

impl Notifier<'_> {
    /// A session ended: forget it here at once, and tell the other nodes; and owe each
    /// client that was given tokens on it a back-channel logout token.
    pub async fn session_ended(&self, session_id: &str) {
        if let Some(cache) = self.cache {
            cache.session_revoked(session_id).await;
        }
        self.publish(Change::Session, session_id).await;
        let now = self.clock.now_ms();
        if let Err(e) = backchannel::enqueue_for_session(self.db, session_id, now).await {
            // The prune finds the session ended and queues them then (`ended_unannounced`).
            tracing::error!(error = %e, "back-channel logout not queued; the prune will");
        }
    }

    /// A user's roles or state changed (or the user is gone): the same, for the user.
    pub async fn user_changed(&self, user_id: i64) {
        if let Some(cache) = self.cache {
            cache.user_changed(user_id).await;
        }
        self.publish(Change::User, &user_id.to_string()).await;
    }

    /// A client's registration changed or is gone: the same, for the client.
    pub async fn client_changed(&self, client_id: &str) {
        if let Some(cache) = self.cache {
            cache.client_changed(client_id).await;
        }
        self.publish(Change::Client, client_id).await;
    }

    /// Roles, groups or permissions were redefined: every user's rights are reloaded, here
    /// and on every node, on their next request.
    pub async fn rights_changed(&self) {
        if let Some(cache) = self.cache {
            cache.rights_changed();
        }
        self.publish(Change::Rights, "*").await;
    }

    /// An API key was revoked: every node forgets the keys it holds.
    pub async fn api_keys_changed(&self) {
        if let Some(cache) = self.cache {
            cache.api_keys_changed();
        }
        self.publish(Change::ApiKeys, "*").await;
    }

    async fn publish(&self, change: Change, key: &str) {
        let now = self.clock.now_ms();
        if let Err(e) = change_feed::publish(self.db, self.redis, change, key, now).await {
            // This node is already right; others catch up when their cache entry expires.
            tracing::error!(error = %e, ?change, "cache event not published");
        }
    }
}
