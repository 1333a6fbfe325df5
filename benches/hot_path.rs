//! The per-request cost of authentication, without HTTP: verifying an access token, and
//! reading a session's and a user's state from the in-process cache (a hit, as nearly every
//! request is).
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use portcullis::auth::access_token::AccessTokens;
use portcullis::auth::session_cache::SessionCache;
use portcullis::domain::{Role, RoleSet};
use portcullis::domain::{SessionState, UserState};

const KEY: &[u8] = b"a-benchmark-key-of-at-least-32-bytes!!";

fn token_verification(c: &mut Criterion) {
    let tokens = AccessTokens::new(KEY, "portcullis", Duration::from_secs(900));
    let now = 1_800_000_000;
    let token = tokens
        .issue(42, "session-id-0123456789", now, now + 86_400)
        .expect("token");
    c.bench_function("access token: verify (HS256, all claims)", |b| {
        b.iter(|| {
            tokens
                .verify(std::hint::black_box(&token), now)
                .expect("valid")
        })
    });
    let forged = format!("{}x", &token[..token.len() - 1]);
    c.bench_function("access token: refuse a bad signature", |b| {
        b.iter(|| tokens.verify(std::hint::black_box(&forged), now).is_err())
    });
}

fn cache_hits(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let cache = SessionCache::default();
    let session = SessionState {
        user_id: 42,
        expires_at: i64::MAX,
        revoked: false,
    };
    let user = UserState {
        roles: [Role::User, Role::Moderator]
            .into_iter()
            .collect::<RoleSet>(),
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
