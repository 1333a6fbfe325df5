//! What providers publish, kept on this node for `TTL`: their metadata by discovery URL and
//! their key sets by `jwks_uri`. Without it every start and every callback fetched the
//! metadata, and every callback the keys: round trips to a third party while a person waits.
//!
//! An ID token whose `kid` the kept set lacks may mean the provider rotated its keys: the set
//! is fetched again at once, but at most once per `REFETCH_INTERVAL` for each `jwks_uri`, so
//! that tokens with made-up `kid`s cannot turn each sign-in into a request to the provider.
//! A failure is never kept: the next sign-in asks again.
//!
//! Freshness is judged by the service's `Clock`, which tests move forward; moka's own
//! time-to-live runs on real time and only frees what nobody asks for any more.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use moka::sync::Cache;
use url::Url;

use super::discovery::{self, ProviderMetadata};
use super::UpstreamError;
use crate::clock::{Clock, Millis};

/// How long metadata and keys are used before they are fetched again. Providers change
/// their metadata rarely and publish a new signing key before they sign with it (and a `kid`
/// we lack is fetched for at once anyway), so what the length bounds is how long a key the
/// provider withdrew (a compromised one), or an endpoint it moved, is still used here. Ten
/// minutes keeps that short while all but one sign-in in ten minutes skips the round trips.
pub const TTL: Duration = Duration::from_secs(600);

/// At most one fetch of a key set for a `kid` it lacks in this long, per `jwks_uri`: a
/// rotation is picked up within seconds, and a stream of forged `kid`s costs the provider
/// two requests a minute.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Far more than one deployment configures providers: a bound on memory, not a size.
const MAX_ENTRIES: u64 = 1_000;

#[derive(Clone)]
pub struct ProviderCache {
    clock: Clock,
    metadata: Cache<String, Metadata>,
    keys: Cache<String, Keys>,
}

#[derive(Clone)]
struct Metadata {
    metadata: Arc<ProviderMetadata>,
    fetched_at: Millis,
}

#[derive(Clone)]
struct Keys {
    set: Arc<JwkSet>,
    fetched_at: Millis,
    /// When a `kid` the set lacks may next send us to the provider. Shared by the clones a
    /// lookup hands out, so that concurrent callbacks claim it once.
    refetch_from: Arc<AtomicI64>,
}

impl Keys {
    fn new(set: Arc<JwkSet>, now: Millis) -> Self {
        Self {
            set,
            fetched_at: now,
            // A set just fetched is as new as a refetch would get.
            refetch_from: Arc::new(AtomicI64::new(now + millis(REFETCH_INTERVAL))),
        }
    }

    /// Whether this caller may refetch now; if so, the next may not for the interval,
    /// whether the refetch succeeds or not.
    fn claim_refetch(&self, now: Millis) -> bool {
        let from = self.refetch_from.load(Ordering::Relaxed);
        now >= from
            && self
                .refetch_from
                .compare_exchange(
                    from,
                    now + millis(REFETCH_INTERVAL),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    fn has_kid(&self, kid: &str) -> bool {
        self.set
            .keys
            .iter()
            .any(|k| k.common.key_id.as_deref() == Some(kid))
    }
}

fn bounded<V: Clone + Send + Sync + 'static>() -> Cache<String, V> {
    Cache::builder()
        .max_capacity(MAX_ENTRIES)
        .time_to_live(TTL)
        .build()
}

fn millis(d: Duration) -> Millis {
    d.as_millis() as Millis
}

impl ProviderCache {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            metadata: bounded(),
            keys: bounded(),
        }
    }

    fn fresh(&self, fetched_at: Millis) -> bool {
        self.clock.now_ms() - fetched_at < millis(TTL)
    }

    /// `discovery::discover`, from what this node keeps when it is fresh.
    pub async fn discover(
        &self,
        http: &reqwest::Client,
        issuer: &str,
    ) -> Result<ProviderMetadata, UpstreamError> {
        self.discover_at(http, issuer, |stated| stated == issuer)
            .await
    }

    /// `discovery::discover_at`, from what this node keeps when it is fresh. `accepts` is
    /// asked on every use, not only when fetched: two providers can share a discovery URL
    /// (an issuer with and without its trailing `/`) and not their issuer. A document whose
    /// issuer is refused is not kept.
    pub async fn discover_at(
        &self,
        http: &reqwest::Client,
        base: &str,
        accepts: impl Fn(&str) -> bool,
    ) -> Result<ProviderMetadata, UpstreamError> {
        let url = discovery::discovery_url(base)?;
        if let Some(kept) = self
            .metadata
            .get(url.as_str())
            .filter(|m| self.fresh(m.fetched_at))
        {
            discovery::check_issuer(&kept.metadata, accepts)?;
            return Ok(ProviderMetadata::clone(&kept.metadata));
        }
        let now = self.clock.now_ms();
        let metadata = discovery::read_metadata(http, &url).await?;
        discovery::check_issuer(&metadata, accepts)?;
        let kept = Metadata {
            metadata: Arc::new(metadata.clone()),
            fetched_at: now,
        };
        self.metadata.insert(url.into(), kept);
        Ok(metadata)
    }

    /// The key set at `jwks_uri` to verify `id_token` with: the one kept while fresh,
    /// unless the token's `kid` is not in it and no such refetch was made in the last
    /// `REFETCH_INTERVAL`. The token is not verified here: only its header is read.
    pub async fn keys_for(
        &self,
        http: &reqwest::Client,
        jwks_uri: &Url,
        id_token: &str,
    ) -> Result<Arc<JwkSet>, UpstreamError> {
        let now = self.clock.now_ms();
        if let Some(kept) = self
            .keys
            .get(jwks_uri.as_str())
            .filter(|k| self.fresh(k.fetched_at))
        {
            // A header that cannot be read names no key: verification will refuse it.
            let kid = jsonwebtoken::decode_header(id_token)
                .ok()
                .and_then(|h| h.kid);
            let lacks_kid = kid.is_some_and(|kid| !kept.has_kid(&kid));
            if !lacks_kid || !kept.claim_refetch(now) {
                return Ok(kept.set);
            }
        }
        let set = Arc::new(discovery::fetch_jwks(http, jwks_uri).await?);
        self.keys
            .insert(jwks_uri.to_string(), Keys::new(set.clone(), now));
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refetch_is_claimed_once_per_interval() {
        let keys = Keys::new(Arc::new(JwkSet { keys: vec![] }), 0);
        let interval = millis(REFETCH_INTERVAL);
        assert!(!keys.claim_refetch(interval - 1), "just fetched");
        assert!(keys.claim_refetch(interval));
        assert!(!keys.claim_refetch(interval), "claimed already");
        assert!(!keys.claim_refetch(2 * interval - 1));
        assert!(keys.claim_refetch(2 * interval));
    }
}
