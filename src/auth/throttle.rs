//! Failed sign-in throttling (docs/API.md §1, "Throttling"): per username and per client
//! address, a fixed window that starts at the first failure. Unknown usernames count
//! exactly like known ones. Nothing locks an account for good: the window always ends.
//!
//! The windows live where every node sharing the database sees them: in Redis when
//! `PORTCULLIS_REDIS_URL` is set (an INCR with an expiry instead of database writes on every
//! failed sign-in), else in the database (`store::throttle`). When Redis fails, the
//! database takes over for that call: counts made meanwhile live there, so during an
//! outage the limit is counted afresh rather than not at all.
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::redis_link::RedisLink;
use crate::store;

pub struct Throttle {
    db: Db,
    redis: Option<Arc<RedisLink>>,
    account_limit: u32,
    client_limit: u32,
    window_ms: Millis,
    /// Prefixes every key, so that throttles for different things never share a window.
    namespace: &'static str,
}

/// Seconds to wait, when a window is full and still open at `now`.
fn wait(
    first_failure: Millis,
    failures: i64,
    limit: u32,
    window_ms: Millis,
    now: Millis,
) -> Option<u64> {
    let ends = first_failure + window_ms;
    (failures >= i64::from(limit) && now < ends)
        .then(|| ((ends - now) as u64).div_ceil(1000).max(1))
}

impl Throttle {
    pub fn new(
        db: Db,
        redis: Option<Arc<RedisLink>>,
        account_limit: u32,
        client_limit: u32,
        window: Duration,
    ) -> Self {
        Self {
            db,
            redis,
            account_limit,
            client_limit,
            window_ms: window.as_millis() as Millis,
            namespace: "",
        }
    }

    /// The same limits over windows of their own, named `namespace…` (the sign-in
    /// throttle's have none): for counting requests of another kind per address and client.
    pub fn scoped(mut self, namespace: &'static str) -> Self {
        self.namespace = namespace;
        self
    }

    fn account_key(&self, login: &str) -> String {
        format!("{}{}", self.namespace, account_key(login))
    }

    fn client_key(&self, client: IpAddr) -> String {
        format!("{}{}", self.namespace, client_key(client))
    }

    /// `Some(seconds)` when sign-ins for this login or from this client must wait.
    pub async fn check(
        &self,
        login: &str,
        client: IpAddr,
        now: Millis,
    ) -> Result<Option<u64>, DbError> {
        let by_account = self
            .window(&self.account_key(login), now)
            .await?
            .and_then(|(first, n)| wait(first, n, self.account_limit, self.window_ms, now));
        let by_client = self
            .window(&self.client_key(client), now)
            .await?
            .and_then(|(first, n)| wait(first, n, self.client_limit, self.window_ms, now));
        Ok(by_account.max(by_client))
    }

    async fn window(&self, key: &str, now: Millis) -> Result<Option<(Millis, i64)>, DbError> {
        if let Some(redis) = &self.redis {
            if let Ok(window) = redis.window(key, self.window_ms, now).await {
                return Ok(window);
            }
        }
        Ok(store::throttle::windows(&self.db, &[key])
            .await?
            .into_iter()
            .next())
    }

    async fn count(&self, key: &str, now: Millis) -> Result<(), DbError> {
        if let Some(redis) = &self.redis {
            if redis.record_failure(key, self.window_ms).await.is_ok() {
                return Ok(());
            }
        }
        store::throttle::record_failure(&self.db, key, now, now - self.window_ms).await
    }

    pub async fn record_failure(
        &self,
        login: &str,
        client: IpAddr,
        now: Millis,
    ) -> Result<(), DbError> {
        self.record_account_failure(login, now).await?;
        self.count(&self.client_key(client), now).await
    }

    /// A failure that counts against an account key only (not the client a second time).
    pub async fn record_account_failure(&self, login: &str, now: Millis) -> Result<(), DbError> {
        self.count(&self.account_key(login), now).await
    }

    /// A successful sign-in clears the account's failures (not the client's: one good
    /// password must not buy an address more guesses at other accounts).
    pub async fn record_success(&self, login: &str) -> Result<(), DbError> {
        let key = self.account_key(login);
        if let Some(redis) = &self.redis {
            // Failures counted in the database during a Redis outage are cleared below too.
            let _ = redis.clear(&key).await;
        }
        store::throttle::clear(&self.db, &key).await
    }

    /// Forgets windows that have ended.
    pub async fn prune(&self, now: Millis) -> Result<(), DbError> {
        store::throttle::prune(&self.db, now - self.window_ms).await
    }
}

/// Logins are any text; the key keeps within the column (the count is what matters, and
/// a login that long is never a real one) and holds no control character (PostgreSQL
/// refuses NUL in text).
fn account_key(login: &str) -> String {
    let lower = login.to_lowercase();
    let clipped: String = lower
        .chars()
        .take(150)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    format!("a:{clipped}")
}

/// IPv6 clients are counted per /64, since one host usually holds a whole /64.
fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("c:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("c:{v4}"),
            None => {
                let s = v6.segments();
                format!("c:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_waits_until_it_ends() {
        assert_eq!(wait(1000, 3, 3, 60_000, 2000), Some(59));
        assert_eq!(wait(1000, 2, 3, 60_000, 2000), None);
        assert_eq!(wait(1000, 3, 3, 60_000, 61_000), None);
        assert_eq!(wait(1000, 3, 3, 60_000, 60_999), Some(1));
    }

    #[test]
    fn keys_ignore_case_and_group_ipv6_by_slash_64() {
        assert_eq!(account_key("Alice"), account_key("aLICE"));
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(client_key("::ffff:10.1.2.3".parse().unwrap()), "c:10.1.2.3");
        assert_eq!(account_key(&"x".repeat(500)).len(), 152);
        assert!(!account_key("ali\0ce").contains('\0'));
    }
}
