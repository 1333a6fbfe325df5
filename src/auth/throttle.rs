//! Failed sign-in throttling (API.md §1, "Throttling"): per username and per client
//! address, a fixed window that starts at the first failure. Unknown usernames count
//! exactly like known ones. Nothing locks an account for good: the window always ends.
//!
//! Counters live in this process, bounded; sharing them between nodes is the several-
//! nodes issue's work.
use std::net::IpAddr;
use std::time::Duration;

use moka::sync::Cache;

use crate::clock::Millis;

const MAX_KEYS: u64 = 500_000;

#[derive(Clone, Copy, Debug)]
struct Window {
    first_failure: Millis,
    failures: u32,
}

pub struct Throttle {
    accounts: Cache<String, Window>,
    clients: Cache<String, Window>,
    account_limit: u32,
    client_limit: u32,
    window_ms: Millis,
}

impl Throttle {
    pub fn new(account_limit: u32, client_limit: u32, window: Duration) -> Self {
        let build = || {
            Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_live(window.max(Duration::from_secs(1)))
                .build()
        };
        Self {
            accounts: build(),
            clients: build(),
            account_limit,
            client_limit,
            window_ms: window.as_millis() as Millis,
        }
    }

    /// `Err(seconds)` when sign-ins for this username or from this client must wait.
    pub fn check(&self, login: &str, client: IpAddr, now: Millis) -> Result<(), u64> {
        let wait = |cache: &Cache<String, Window>, key: String, limit: u32| {
            cache.get(&key).and_then(|w| {
                let ends = w.first_failure + self.window_ms;
                (w.failures >= limit && now < ends).then(|| ((ends - now) as u64).div_ceil(1000))
            })
        };
        let account = wait(&self.accounts, account_key(login), self.account_limit);
        let client = wait(&self.clients, client_key(client), self.client_limit);
        match account.max(client) {
            Some(seconds) => Err(seconds.max(1)),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, login: &str, client: IpAddr, now: Millis) {
        self.record_account_failure(login, now);
        let window_ms = self.window_ms;
        self.clients
            .entry(client_key(client))
            .and_upsert_with(|e| bump(e.map(|e| *e.value()), now, window_ms));
    }

    /// A failure that counts against an account key only (not the client a second time).
    pub fn record_account_failure(&self, login: &str, now: Millis) {
        let window_ms = self.window_ms;
        self.accounts
            .entry(account_key(login))
            .and_upsert_with(|e| bump(e.map(|e| *e.value()), now, window_ms));
    }

    /// A successful sign-in clears the account's failures (not the client's: one good
    /// password must not buy an address more guesses at other accounts).
    pub fn record_success(&self, login: &str) {
        self.accounts.invalidate(&account_key(login));
    }
}

fn bump(entry: Option<Window>, now: Millis, window_ms: Millis) -> Window {
    match entry {
        Some(w) if now < w.first_failure + window_ms => Window {
            first_failure: w.first_failure,
            failures: w.failures.saturating_add(1),
        },
        _ => Window {
            first_failure: now,
            failures: 1,
        },
    }
}

fn account_key(login: &str) -> String {
    login.to_lowercase()
}

/// IPv6 clients are counted per /64, since one host usually holds a whole /64.
fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn the_account_limit_throttles_that_username_until_the_window_ends() {
        let t = Throttle::new(3, 100, Duration::from_secs(60));
        for i in 0..3 {
            assert_eq!(t.check("Alice", IP, 1000 + i), Ok(()));
            t.record_failure("Alice", IP, 1000 + i);
        }
        assert_eq!(t.check("alice", IP, 2000), Err(59));
        assert_eq!(t.check("bob", IP, 2000), Ok(()));
        assert_eq!(t.check("ALICE", IP, 1000 + 60_000), Ok(()));
    }

    #[test]
    fn the_client_limit_throttles_every_username_from_that_address() {
        let t = Throttle::new(100, 5, Duration::from_secs(60));
        for i in 0..5 {
            t.record_failure(&format!("user{i}"), IP, 0);
        }
        assert!(t.check("someone-else", IP, 10).is_err());
        assert_eq!(
            t.check("someone-else", "10.0.0.1".parse().unwrap(), 10),
            Ok(())
        );
    }

    #[test]
    fn success_clears_the_account_count() {
        let t = Throttle::new(2, 100, Duration::from_secs(60));
        t.record_failure("alice", IP, 0);
        t.record_success("alice");
        t.record_failure("alice", IP, 1);
        assert_eq!(t.check("alice", IP, 2), Ok(()));
    }

    #[test]
    fn a_failure_after_the_window_starts_a_new_one() {
        let t = Throttle::new(2, 100, Duration::from_secs(60));
        t.record_failure("alice", IP, 0);
        t.record_failure("alice", IP, 60_001);
        assert_eq!(t.check("alice", IP, 60_002), Ok(()));
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(client_key("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3");
    }
}
