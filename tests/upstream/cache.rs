//! What a node keeps of providers' metadata and keys (`auth::upstream::cache`), against a
//! stand-in that counts the requests it is asked: a second look within the TTL asks nothing,
//! a `kid` the kept set lacks asks once and then not again within the interval, and a
//! failure is not kept.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use url::Url;

use crate::testing::{json, serve};
use portcullis::auth::upstream::cache::{ProviderCache, REFETCH_INTERVAL, TTL};
use portcullis::auth::upstream::{http_client, UpstreamError};
use portcullis::clock::Clock;

/// A provider whose answers the test changes, and which counts what it is asked.
#[derive(Default)]
struct StandIn {
    discoveries: AtomicUsize,
    key_sets: AtomicUsize,
    /// Answer 503 instead.
    failing: AtomicBool,
    /// The `kid`s of the key set it publishes.
    kids: Mutex<Vec<&'static str>>,
}

impl StandIn {
    fn asked(&self) -> (usize, usize) {
        (
            self.discoveries.load(Ordering::SeqCst),
            self.key_sets.load(Ordering::SeqCst),
        )
    }
}

async fn stand_in(kids: &[&'static str]) -> (String, Arc<StandIn>) {
    let state = Arc::new(StandIn {
        kids: Mutex::new(kids.to_vec()),
        ..StandIn::default()
    });
    let (discovery, keys) = (state.clone(), state.clone());
    let base = serve(move |base| {
        let base = base.to_string();
        Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move {
                    discovery.discoveries.fetch_add(1, Ordering::SeqCst);
                    if discovery.failing.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    json(json!({
                        "issuer": base,
                        "authorization_endpoint": format!("{base}/authorize"),
                        "token_endpoint": format!("{base}/token"),
                        "jwks_uri": format!("{base}/jwks"),
                    }))
                }),
            )
            .route(
                "/jwks",
                get(move || async move {
                    keys.key_sets.fetch_add(1, Ordering::SeqCst);
                    if keys.failing.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    let keys_json: Vec<_> = keys
                        .kids
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|kid| json!({"kty": "RSA", "kid": kid, "n": "sXch", "e": "AQAB"}))
                        .collect();
                    json(json!({ "keys": keys_json }))
                }),
            )
    })
    .await;
    (base, state)
}

/// An ID token as far as the cache reads one: its header. The rest is never checked here.
fn token_naming(kid: Option<&str>) -> String {
    let header = match kid {
        Some(kid) => json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        None => json!({"alg": "RS256", "typ": "JWT"}),
    };
    format!(
        "{}.e30.c2ln",
        URL_SAFE_NO_PAD.encode(header.to_string().as_bytes())
    )
}

fn kids(set: &jsonwebtoken::jwk::JwkSet) -> Vec<&str> {
    set.keys
        .iter()
        .map(|k| k.common.key_id.as_deref().unwrap())
        .collect()
}

#[tokio::test]
async fn metadata_is_fetched_once_within_the_ttl_and_again_after_it() {
    let (issuer, provider) = stand_in(&[]).await;
    let clock = Clock::default();
    let cache = ProviderCache::new(clock.clone());
    let http = http_client().unwrap();

    let first = cache.discover(&http, &issuer).await.unwrap();
    let second = cache.discover(&http, &issuer).await.unwrap();
    assert_eq!(first.token_endpoint, second.token_endpoint);
    assert_eq!(
        provider.asked(),
        (1, 0),
        "the second within the TTL asks nothing"
    );

    clock.advance(TTL - std::time::Duration::from_secs(1));
    cache.discover(&http, &issuer).await.unwrap();
    assert_eq!(provider.asked(), (1, 0));
    clock.advance(std::time::Duration::from_secs(1));
    cache.discover(&http, &issuer).await.unwrap();
    assert_eq!(provider.asked(), (2, 0), "after the TTL it asks again");
}

#[tokio::test]
async fn kept_metadata_is_held_to_each_callers_issuer() {
    // Both name the same discovery URL (Discovery 4.1 drops the trailing slash), but the
    // document states one issuer: the other is refused from what is kept too.
    let (issuer, provider) = stand_in(&[]).await;
    let cache = ProviderCache::new(Clock::default());
    let http = http_client().unwrap();
    cache.discover(&http, &issuer).await.unwrap();
    let other = cache.discover(&http, &format!("{issuer}/")).await;
    assert!(
        matches!(other, Err(UpstreamError::IssuerMismatch)),
        "{other:?}"
    );
    assert_eq!(provider.asked(), (1, 0));
}

#[tokio::test]
async fn a_failure_or_a_refused_issuer_is_not_kept() {
    let (issuer, provider) = stand_in(&["k1"]).await;
    let cache = ProviderCache::new(Clock::default());
    let http = http_client().unwrap();

    provider.failing.store(true, Ordering::SeqCst);
    let answer = cache.discover(&http, &issuer).await;
    assert!(
        matches!(&answer, Err(UpstreamError::Unreachable(m)) if m.contains("503")),
        "{answer:?}"
    );
    let jwks_uri = Url::parse(&format!("{issuer}/jwks")).unwrap();
    let token = token_naming(Some("k1"));
    assert!(cache.keys_for(&http, &jwks_uri, &token).await.is_err());
    assert_eq!(provider.asked(), (1, 1));

    // The provider is back: the very next sign-in gets its answers.
    provider.failing.store(false, Ordering::SeqCst);
    cache.discover(&http, &issuer).await.unwrap();
    let set = cache.keys_for(&http, &jwks_uri, &token).await.unwrap();
    assert_eq!(kids(&set), ["k1"]);
    assert_eq!(provider.asked(), (2, 2));

    // A document whose issuer is refused is not kept either: asked again each time.
    let (issuer, provider) = stand_in(&[]).await;
    let refused = |_: &str| false;
    for asked in 1..=2 {
        let answer = cache.discover_at(&http, &issuer, refused).await;
        assert!(matches!(answer, Err(UpstreamError::IssuerMismatch)));
        assert_eq!(provider.asked(), (asked, 0));
    }
}

#[tokio::test]
async fn a_kid_the_kept_set_lacks_refetches_it_once_within_the_interval() {
    let (base, provider) = stand_in(&["k1"]).await;
    let clock = Clock::default();
    let cache = ProviderCache::new(clock.clone());
    let http = http_client().unwrap();
    let jwks_uri = Url::parse(&format!("{base}/jwks")).unwrap();
    let keys = |kid: Option<&str>| {
        let (cache, http, jwks_uri) = (&cache, &http, &jwks_uri);
        let token = token_naming(kid);
        async move { cache.keys_for(http, jwks_uri, &token).await }
    };
    let key_sets = || provider.asked().1;

    assert_eq!(kids(&keys(Some("k1")).await.unwrap()), ["k1"]);
    keys(Some("k1")).await.unwrap();
    keys(None).await.unwrap();
    assert_eq!(key_sets(), 1, "a kid the set has, or none, asks nothing");

    // The provider rotates. Within the interval of the fetch, the set just fetched stands.
    *provider.kids.lock().unwrap() = vec!["k1", "k2"];
    assert_eq!(kids(&keys(Some("k2")).await.unwrap()), ["k1"]);
    assert_eq!(key_sets(), 1);
    clock.advance(REFETCH_INTERVAL);
    assert_eq!(kids(&keys(Some("k2")).await.unwrap()), ["k1", "k2"]);
    assert_eq!(key_sets(), 2, "an unknown kid refetches once");

    // Forged kids, one after another: no more than one request an interval.
    for kid in ["forged-1", "forged-2", "forged-3"] {
        assert_eq!(kids(&keys(Some(kid)).await.unwrap()), ["k1", "k2"]);
    }
    assert_eq!(
        key_sets(),
        2,
        "a second unknown kid within the interval asks nothing"
    );
    clock.advance(REFETCH_INTERVAL);
    for kid in ["forged-4", "forged-5"] {
        keys(Some(kid)).await.unwrap();
    }
    assert_eq!(key_sets(), 3);

    // A refetch that fails counts against the interval too, and leaves the kept set.
    provider.failing.store(true, Ordering::SeqCst);
    clock.advance(REFETCH_INTERVAL);
    assert!(keys(Some("forged-6")).await.is_err());
    assert_eq!(kids(&keys(Some("forged-7")).await.unwrap()), ["k1", "k2"]);
    assert_eq!(key_sets(), 4);
}
