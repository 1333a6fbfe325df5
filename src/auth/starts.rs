//! How often one client address may start something the server must remember before
//! anyone signed in: an authorization request waiting for consent (`service::oidc`), a
//! passkey sign-in's ceremony (`service::passkeys`). Anyone may make these, so without a
//! bound a single client fills the database (outside testing wrote 2,500 rows in 8 s).
//! Each node counts in memory (GCRA, `governor`): what one address can make a node store is
//! the burst plus the rate times the rows' lifetime, whatever it sends.
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// What is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    AuthorizationRequest,
    PasskeySignin,
    /// A user code typed on the device verification page: a guess, until it matches.
    DeviceCodeEntry,
    /// A sign-in begun at an upstream provider, or its callback (`service::upstream`).
    ProviderSignin,
}

/// User codes one address may try a minute (RFC 8628 §5.1: guesses must be limited). A
/// code has 20^8 (about 2^34.6) values and lives ten minutes.
const DEVICE_CODES_PER_MINUTE: u32 = 10;

pub struct Starts {
    authorize: DefaultKeyedRateLimiter<IpAddr>,
    passkey: DefaultKeyedRateLimiter<IpAddr>,
    device: DefaultKeyedRateLimiter<IpAddr>,
    provider: DefaultKeyedRateLimiter<IpAddr>,
}

impl Starts {
    /// `per_minute` starts of each kind per address, all of them at once if they come so.
    pub fn new(per_minute: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(per_minute);
        Starts {
            authorize: RateLimiter::keyed(quota),
            passkey: RateLimiter::keyed(quota),
            provider: RateLimiter::keyed(quota),
            device: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(DEVICE_CODES_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    /// `Ok` when `ip` may start one more, else how long until it may (seconds, at least 1).
    pub fn admit(&self, what: Start, ip: IpAddr) -> Result<(), u64> {
        let limiter = match what {
            Start::AuthorizationRequest => &self.authorize,
            Start::PasskeySignin => &self.passkey,
            Start::DeviceCodeEntry => &self.device,
            Start::ProviderSignin => &self.provider,
        };
        limiter.check_key(&client_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Rounded up: a client that waits this long is admitted.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Forgets addresses that have been quiet long enough to start afresh, so the
    /// counters' memory follows the clients seen lately, not all ever seen.
    pub fn prune(&self) {
        for limiter in [&self.authorize, &self.passkey, &self.device, &self.provider] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The key an address is counted under: itself, or for IPv6 its /64, which one client
/// usually holds whole (counting each of its 2^64 addresses apart would bound nothing).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip.to_canonical(),
        IpAddr::V6(v6) => match ip.to_canonical() {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(_) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// The default bound: a person starts a handful a minute; a flood gets 429s.
pub const DEFAULT_PER_MINUTE: u32 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_waits_and_others_are_apart() {
        let starts = Starts::new(NonZeroU32::new(5).unwrap());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(starts.admit(Start::PasskeySignin, a), Ok(()));
        }
        let wait = starts.admit(Start::PasskeySignin, a).unwrap_err();
        assert!((1..=12).contains(&wait), "{wait}");
        // Another kind and another address have their own counts.
        assert_eq!(starts.admit(Start::AuthorizationRequest, a), Ok(()));
        assert_eq!(starts.admit(Start::PasskeySignin, b), Ok(()));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let starts = Starts::new(NonZeroU32::new(2).unwrap());
        for host in ["2001:db8::1", "2001:db8::2"] {
            assert_eq!(
                starts.admit(Start::AuthorizationRequest, host.parse().unwrap()),
                Ok(())
            );
        }
        let same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        assert!(starts.admit(Start::AuthorizationRequest, same_64).is_err());
        let other_64: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(starts.admit(Start::AuthorizationRequest, other_64), Ok(()));
        // An IPv4 address written as IPv6 is the IPv4 client.
        let mapped: IpAddr = "::ffff:192.0.2.9".parse().unwrap();
        let plain: IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!(client_key(mapped), plain);
    }
}
