//! The per-request cost of authentication, without HTTP: verifying an access token, and
//! reading a session's and a user's state from the in-process cache (a hit, as nearly every
//! request is).
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use portcullis::auth::access_token::AccessTokens;
use portcullis::auth::keys::{self, KeyAlg, KeyRing};
use portcullis::auth::session_cache::SessionCache;
use portcullis::domain::{Role, RoleSet};
use portcullis::domain::{SessionState, UserState};

const KEY: &[u8] = b"a-benchmark-key-of-at-least-32-bytes!!";

fn token_verification(c: &mut Criterion) {
    let now = 1_800_000_000;
    let shared = AccessTokens::new(
        KeyRing::new(vec![]),
        KeyAlg::EdDSA,
        "portcullis",
        "http://localhost",
        Duration::from_secs(900),
    )
    .with_shared_secret(KEY);
    for alg in [KeyAlg::EdDSA, KeyAlg::ES256, KeyAlg::RS256] {
        let (kid, der) = keys::generate(alg).expect("key");
        let pair = keys::load(&kid, alg, &der, 0, None).expect("key");
        let tokens = AccessTokens::new(
            KeyRing::new(vec![pair]),
            alg,
            "portcullis",
            "http://localhost",
            Duration::from_secs(900),
        );
        bench_alg(c, alg.name(), &tokens, now);
    }
    bench_alg(c, "HS256", &shared, now);
    let token = shared
        .issue(42, "session-id-0123456789", now, now + 86_400)
        .expect("token");
    let forged = format!("{}x", &token[..token.len() - 1]);
    c.bench_function("access token: refuse a bad signature (HS256)", |b| {
        b.iter(|| shared.verify(std::hint::black_box(&forged), now).is_err())
    });
}

/// Signing a token (every sign-in and refresh does), a token's first check (its
/// signature) and a check of a token seen before (a lookup).
fn bench_alg(c: &mut Criterion, alg: &str, tokens: &AccessTokens, now: i64) {
    c.bench_function(&format!("access token: sign ({alg})"), |b| {
        b.iter(|| {
            tokens
                .issue(42, "session-id-0123456789", now, now + 86_400)
                .expect("token")
        })
    });
    c.bench_function(&format!("access token: first check ({alg})"), |b| {
        b.iter_batched(
            || {
                tokens
                    .issue(42, "session-id-0123456789", now, now + 86_400)
                    .expect("token")
            },
            |token| tokens.verify(&token, now).expect("valid"),
            BatchSize::SmallInput,
        )
    });
    let token = tokens
        .issue(42, "session-id-0123456789", now, now + 86_400)
        .expect("token");
    c.bench_function(&format!("access token: check seen before ({alg})"), |b| {
        b.iter(|| {
            tokens
                .verify(std::hint::black_box(&token), now)
                .expect("valid")
        })
    });
}

fn cache_hits(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // No change feed runs here: a bound nothing reaches keeps the cache vouching, as a
    // node that hears its feed is (the check itself is part of what is measured).
    let cache = SessionCache::new(std::time::Duration::MAX);
    let session = SessionState {
        user_id: 42,
        expires_at: i64::MAX,
        revoked: false,
    };
    let user = UserState {
        email: "bench@example.com".into(),
        email_verified: true,
        created_at: 0,
        username: "alice".into(),
        roles: [Role::User, Role::Moderator]
            .into_iter()
            .collect::<RoleSet>(),
        rights: Default::default(),
        service_account: false,
        disabled: false,
    };
    runtime.block_on(async {
        let _ = cache
            .session("session-id-0123456789", async {
                Ok::<_, ()>(Some(session.clone()))
            })
            .await;
        let _ = cache
            .user(42, async { Ok::<_, ()>(Some(user.clone())) })
            .await;
    });
    c.bench_function("session + user state: cache hits", |b| {
        b.to_async(&runtime).iter(|| async {
            let s = cache
                .session("session-id-0123456789", async { Ok::<_, ()>(None) })
                .await;
            let u = cache.user(42, async { Ok::<_, ()>(None) }).await;
            assert!(matches!((s, u), (Ok(Some(_)), Ok(Some(_)))));
        })
    });
}

criterion_group!(benches, token_verification, cache_hits);
criterion_main!(benches);
