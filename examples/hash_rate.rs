//! Raw argon2id verifications per second on every core, with Portcullis' own hasher and
//! the cost in PORTCULLIS_ARGON2 (default m=19456,t=2,p=1). scripts/bench compares the
//! server's sign-ins per second with this figure, measured in the same run.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portcullis::auth::password::{Argon2Cost, PasswordHasher};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cost = std::env::var("PORTCULLIS_ARGON2").unwrap_or_else(|_| "m=19456,t=2,p=1".into());
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let hasher = Arc::new(PasswordHasher::with_limits(
        Argon2Cost::parse(&cost)?,
        threads,
        threads * 4,
    )?);
    let hash = hasher.hash("correct horse battery staple".into()).await?;
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (hasher, hash, done) = (Arc::clone(&hasher), hash.clone(), Arc::clone(&done));
            tokio::spawn(async move {
                while Instant::now() < until {
                    if matches!(
                        hasher
                            .verify("correct horse battery staple".into(), Some(hash.clone()))
                            .await,
                        Ok(true)
                    ) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / seconds as f64;
    println!("{rate:.1}");
    Ok(())
}
