//! argon2id off the async executor, with a bound on how many hashes run at once (memory =
//! concurrency x cost) and on how many may wait, so a flood of sign-ins is answered 503
//! instead of queueing without bound.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// `m=KiB,t=passes,p=lanes`, as in `PORTCULLIS_ARGON2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Cost {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Argon2Cost {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (mut m, mut t, mut p) = (None, None, None);
        for part in text.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not key=value"))?;
            let value: u32 = value
                .parse()
                .map_err(|_| format!("`{value}` is not a whole number"))?;
            match key {
                "m" => m = Some(value),
                "t" => t = Some(value),
                "p" => p = Some(value),
                _ => return Err(format!("unknown argon2 parameter `{key}` (use m, t, p)")),
            }
        }
        let cost = Self {
            m_kib: m.ok_or("m (memory in KiB) is missing")?,
            t: t.ok_or("t (passes) is missing")?,
            p: p.ok_or("p (lanes) is missing")?,
        };
        cost.params()?;
        Ok(cost)
    }

    fn params(&self) -> Result<Params, String> {
        Params::new(self.m_kib, self.t, self.p, None).map_err(|e| format!("argon2 parameters: {e}"))
    }
}

/// The most bcrypt reads of a password.
const BCRYPT_MAX_BYTES: usize = 72;

/// A bcrypt hash (`$2a$`, `$2b$`, `$2y$`), as the tutorial's backend stored: verified at
/// sign-in and then replaced by an argon2id hash.
pub fn is_bcrypt(hash: &str) -> bool {
    hash.len() == 60 && ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password hashes are waiting")]
    Overloaded,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    running: AtomicUsize,
    peak_running: AtomicUsize,
    verifications: AtomicU64,
    /// Verified against when the user does not exist, so that case costs the same time.
    dummy_hash: String,
}

impl PasswordHasher {
    /// One hash at a time per core, and up to 64 per core waiting.
    pub fn new(cost: Argon2Cost) -> Result<Self, String> {
        let concurrency = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self::with_limits(cost, concurrency, concurrency * 64)
    }

    pub fn with_limits(
        cost: Argon2Cost,
        concurrency: usize,
        max_waiting: usize,
    ) -> Result<Self, String> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params()?);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(uuid::Uuid::new_v4().as_bytes(), &salt)
            .map_err(|e| e.to_string())?
            .to_string();
        Ok(Self {
            argon2,
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            max_waiting,
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
            verifications: AtomicU64::new(0),
            dummy_hash,
        })
    }

    /// Password verifications run so far, real or dummy.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// The most hashes that ever ran at the same moment.
    pub fn peak_running(&self) -> usize {
        self.peak_running.load(Ordering::Relaxed)
    }

    /// Hashes waiting for a free hashing thread right now.
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    pub async fn hash(self: &Arc<Self>, password: String) -> Result<String, HashError> {
        let this = Arc::clone(self);
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            this.argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no
    /// stored hash, so an unknown user costs exactly what a wrong password costs.
    pub async fn verify(
        self: &Arc<Self>,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let this = Arc::clone(self);
        self.run(move || {
            this.verifications.fetch_add(1, Ordering::Relaxed);
            let exists = stored.is_some();
            let hash = stored.as_deref().unwrap_or(&this.dummy_hash);
            let matches = if is_bcrypt(hash) {
                // bcrypt reads only 72 bytes; a longer password is refused, not truncated.
                password.len() <= BCRYPT_MAX_BYTES
                    && bcrypt::verify(&password, hash).unwrap_or(false)
            } else {
                match PasswordHash::new(hash) {
                    Ok(parsed) => this
                        .argon2
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                    Err(_) => false,
                }
            };
            Ok(exists && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(HashError::Overloaded);
                }
                let acquired = Arc::clone(&self.permits).acquire_owned().await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                acquired.map_err(|_| HashError::Failed("hasher closed".into()))?
            }
        };
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let now_running = this.running.fetch_add(1, Ordering::AcqRel) + 1;
            this.peak_running.fetch_max(now_running, Ordering::AcqRel);
            let result = work();
            this.running.fetch_sub(1, Ordering::AcqRel);
            result
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Arc<PasswordHasher> {
        Arc::new(
            PasswordHasher::new(Argon2Cost {
                m_kib: 64,
                t: 1,
                p: 1,
            })
            .unwrap(),
        )
    }

    #[test]
    fn cost_parses_the_documented_form() {
        assert_eq!(
            Argon2Cost::parse("m=19456,t=2,p=1"),
            Ok(Argon2Cost {
                m_kib: 19456,
                t: 2,
                p: 1
            })
        );
        assert!(Argon2Cost::parse("m=19456,t=2").is_err());
        assert!(Argon2Cost::parse("m=1,t=0,p=1").is_err());
        assert!(Argon2Cost::parse("x=1,t=2,p=1").is_err());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = cheap();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("correct horse ".into(), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = cheap();
        assert!(!hasher.verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_allowed() {
        let hasher = Arc::new(
            PasswordHasher::with_limits(
                Argon2Cost {
                    m_kib: 1024,
                    t: 2,
                    p: 1,
                },
                2,
                100,
            )
            .unwrap(),
        );
        let all = (0..24).map(|i| {
            let h = Arc::clone(&hasher);
            tokio::spawn(async move { h.hash(format!("password {i}")).await })
        });
        for result in futures::future::join_all(all).await {
            assert!(result.unwrap().is_ok());
        }
        assert!(hasher.peak_running() <= 2, "peak {}", hasher.peak_running());
        assert!(hasher.peak_running() >= 1);
        assert_eq!(hasher.queue_depth(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_full_queue_is_refused_at_once_not_queued() {
        let hasher = Arc::new(
            PasswordHasher::with_limits(
                Argon2Cost {
                    m_kib: 8192,
                    t: 3,
                    p: 1,
                },
                1,
                2,
            )
            .unwrap(),
        );
        let all = (0..12).map(|i| {
            let h = Arc::clone(&hasher);
            tokio::spawn(async move { h.hash(format!("password {i}")).await })
        });
        let results: Vec<_> = futures::future::join_all(all)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(HashError::Overloaded)))
            .count();
        let done = results.iter().filter(|r| r.is_ok()).count();
        assert!(
            refused >= 1,
            "some of 12 must be shed with one worker and two waiting"
        );
        assert!(done >= 1 && done <= 12 - refused);
        assert_eq!(refused + done, 12);
    }

    #[tokio::test]
    async fn tutorial_bcrypt_hashes_verify_but_never_past_72_bytes() {
        let hasher = cheap();
        let long = "x".repeat(72);
        for (password, version) in [
            ("old password", bcrypt::Version::TwoA),
            (long.as_str(), bcrypt::Version::TwoB),
        ] {
            let hash = bcrypt::hash_with_result(password, 4)
                .unwrap()
                .format_for_version(version);
            assert!(is_bcrypt(&hash));
            assert!(hasher
                .verify(password.to_string(), Some(hash.clone()))
                .await
                .unwrap());
            assert!(!hasher
                .verify(format!("{password}!"), Some(hash))
                .await
                .unwrap());
        }
        // bcrypt would accept this 73-byte password by its first 72 bytes; we refuse it.
        let hash = bcrypt::hash_with_result(&long, 4)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(!hasher.verify(format!("{long}y"), Some(hash)).await.unwrap());
        assert!(!is_bcrypt("$argon2id$v=19$m=19456,t=2,p=1$abc$def"));
    }

    #[test]
    fn the_default_cost_is_used_for_new_hashes() {
        let hasher = PasswordHasher::new(Argon2Cost::parse("m=19456,t=2,p=1").unwrap()).unwrap();
        assert!(hasher.dummy_hash.contains("m=19456,t=2,p=1"));
    }
}
