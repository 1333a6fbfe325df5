//! The hashing threads: one per core, fed by a bounded queue, so a flood of sign-ins is
//! answered 503 instead of queueing without bound. The queue holds 64 hashes a core: an
//! ordinary burst (an office signing in at nine) waits its turn, and only past that is a
//! hash turned away, at once. Each thread owns one argon2 memory block (`argon2id::Scratch`).
//! The threads run at the lowest priority, so request handling always comes first and
//! hashing gets the CPU that is left: on an idle machine, all of it. With the memory
//! reused, peak RSS under a flood is the base plus (threads x cost), so glibc needs no
//! tuning (mallopt).
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;

use super::argon2id::{hash_argon2, verify_argon2, Scratch, ALGORITHM, VERSION};
use super::bcrypt::{self, is_bcrypt};
use super::cost::Argon2Cost;
use super::{failed, HashError};

/// The nice value of the hashing threads. At 19 a hashing thread weighs 15 against a
/// request-serving thread's 1024, so the scheduler runs a woken request handler at once
/// instead of sharing the core with a hash: the protected GET keeps its throughput during
/// a sign-in flood, and sign-ins use only the CPU nothing else wants. SCHED_IDLE measured
/// no better, and would starve sign-ins harder on a host shared with other work.
const HASHING_NICE: i32 = 19;

/// Hashes that may wait for each hashing thread: a burst this size is queued, not shed.
/// A bound on the promised wait (0.5 s) was tried and dropped: it shed ordinary bursts of
/// 64 signups on 2 cores, since at the default cost they take about a second to drain.
pub const WAITING_PER_THREAD: usize = 64;

/// State shared by the async callers and the hashing threads.
struct Shared {
    argon2: Argon2<'static>,
    /// Admitted and not finished: waiting in the queue or running.
    in_flight: AtomicUsize,
    waiting: AtomicUsize,
    running: AtomicUsize,
    peak_running: AtomicUsize,
    verifications: AtomicU64,
}

/// Dropped once a job's hashing is over (also when it panics), before its answer is sent,
/// so the slot is free by the time the caller sees the result.
struct Finished<'a>(&'a Shared);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A queued hash, run by a hashing thread.
type Job = Box<dyn FnOnce(&Shared, &mut Scratch, Finished<'_>) + Send>;

pub struct PasswordHasher {
    shared: Arc<Shared>,
    /// Dropping it (with the hasher) ends the hashing threads once the queue is empty.
    jobs: SyncSender<Job>,
    /// Running plus waiting, the most admitted at once.
    capacity: usize,
    /// Verified against when the user does not exist, so that case costs the same time.
    dummy_hash: String,
}

impl PasswordHasher {
    /// One hashing thread per core, and up to `WAITING_PER_THREAD` a thread waiting.
    pub fn new(cost: Argon2Cost) -> Result<Self, String> {
        let concurrency = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self::with_limits(cost, concurrency, concurrency * WAITING_PER_THREAD)
    }

    /// `concurrency` hashing threads (at least one), and up to `max_waiting` hashes
    /// queued for them; past that a hash is refused at once with `Overloaded`.
    pub fn with_limits(
        cost: Argon2Cost,
        concurrency: usize,
        max_waiting: usize,
    ) -> Result<Self, String> {
        let argon2 = Argon2::new(ALGORITHM, VERSION, cost.params()?);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(uuid::Uuid::new_v4().as_bytes(), &salt)
            .map_err(|e| e.to_string())?
            .to_string();
        let threads = concurrency.max(1);
        let capacity = threads + max_waiting;
        let shared = Arc::new(Shared {
            argon2,
            in_flight: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
            verifications: AtomicU64::new(0),
        });
        // Admission keeps at most `capacity` jobs in flight, so the channel is never full.
        let (jobs, queue) = sync_channel::<Job>(capacity);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let (shared, queue) = (Arc::clone(&shared), Arc::clone(&queue));
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || hashing_thread(&shared, &queue))
                .map_err(|e| format!("starting a password hashing thread: {e}"))?;
        }
        Ok(Self {
            shared,
            jobs,
            capacity,
            dummy_hash,
        })
    }

    /// Password verifications run so far, real or dummy.
    pub fn verifications(&self) -> u64 {
        self.shared.verifications.load(Ordering::Relaxed)
    }

    /// The most hashes that ever ran at the same moment.
    pub fn peak_running(&self) -> usize {
        self.shared.peak_running.load(Ordering::Relaxed)
    }

    /// Hashes waiting for a free hashing thread right now.
    pub fn queue_depth(&self) -> usize {
        self.shared.waiting.load(Ordering::Relaxed)
    }

    pub async fn hash(self: &Arc<Self>, password: SecretString) -> Result<String, HashError> {
        self.run(move |shared, scratch| {
            let salt = SaltString::generate(&mut OsRng);
            hash_argon2(
                &shared.argon2,
                scratch,
                password.expose_secret().as_bytes(),
                &salt,
            )
        })
        .await
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no
    /// stored hash, so an unknown user costs exactly what a wrong password costs.
    pub async fn verify(
        self: &Arc<Self>,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let exists = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        self.run(move |shared, scratch| {
            shared.verifications.fetch_add(1, Ordering::Relaxed);
            let password = password.expose_secret();
            let matches = if is_bcrypt(&hash) {
                bcrypt::verify(password, &hash)
            } else {
                verify_argon2(scratch, password.as_bytes(), &hash)
            };
            Ok(exists && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Shared, &mut Scratch) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let shared = &self.shared;
        if shared.in_flight.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Overloaded);
        }
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |shared, scratch, finished| {
            // The caller gave up while this waited (client gone, timeout): no hash for nobody.
            if answer.is_closed() {
                return;
            }
            let result = work(shared, scratch);
            drop(finished);
            // Fails only if the caller gave up meanwhile; then nobody wants the result.
            let _ = answer.send(result);
        });
        shared.waiting.fetch_add(1, Ordering::AcqRel);
        if let Err(e) = self.jobs.try_send(job) {
            shared.waiting.fetch_sub(1, Ordering::AcqRel);
            shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(match e {
                TrySendError::Full(_) => HashError::Overloaded,
                TrySendError::Disconnected(_) => failed("the hashing threads have stopped"),
            });
        }
        answered
            .await
            .map_err(|_| failed("the hashing thread panicked"))?
    }
}

fn hashing_thread(shared: &Shared, queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    let mut scratch = Scratch::new(shared.argon2.params().block_count());
    loop {
        // The lock is held while blocked on an empty queue; only the other hashing threads
        // wait for it, and they would have nothing to do anyway.
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else {
            return; // the hasher was dropped
        };
        shared.waiting.fetch_sub(1, Ordering::AcqRel);
        let now_running = shared.running.fetch_add(1, Ordering::AcqRel) + 1;
        shared.peak_running.fetch_max(now_running, Ordering::AcqRel);
        let finished = Finished(shared);
        // A panic drops the job's answer (its caller gets `Failed`) but not this thread. The
        // scratch memory is fully rewritten by every hash, so a half-written one is harmless.
        let run = AssertUnwindSafe(|| job(shared, &mut scratch, finished));
        if catch_unwind(run).is_err() {
            tracing::error!("a password hash panicked");
        }
    }
}

/// Lowers the calling thread's priority (on Linux `setpriority` with a thread id affects
/// that thread only). Lowering one's own priority needs no privilege, but a sandbox may
/// still refuse it; hashing then merely competes with request handling as an equal.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: gettid has no preconditions and cannot fail.
    let tid = unsafe { libc::gettid() };
    // SAFETY: plain integer arguments; an error is reported through the return value.
    let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, HASHING_NICE) };
    if done != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "could not lower the password hashing thread's priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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
            tokio::spawn(async move { h.hash(format!("password {i}").into()).await })
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
            tokio::spawn(async move { h.hash(format!("password {i}").into()).await })
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
            ("old password", ::bcrypt::Version::TwoA),
            (long.as_str(), ::bcrypt::Version::TwoB),
        ] {
            let hash = ::bcrypt::hash_with_result(password, 4)
                .unwrap()
                .format_for_version(version);
            assert!(is_bcrypt(&hash));
            assert!(hasher
                .verify(password.into(), Some(hash.clone()))
                .await
                .unwrap());
            assert!(!hasher
                .verify(format!("{password}!").into(), Some(hash))
                .await
                .unwrap());
        }
        // bcrypt would accept this 73-byte password by its first 72 bytes; we refuse it.
        let hash = ::bcrypt::hash_with_result(&long, 4)
            .unwrap()
            .format_for_version(::bcrypt::Version::TwoA);
        assert!(!hasher
            .verify(format!("{long}y").into(), Some(hash))
            .await
            .unwrap());
        assert!(!is_bcrypt("$argon2id$v=19$m=19456,t=2,p=1$abc$def"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_waiting_per_thread_at_the_default_cost_is_queued_not_shed() {
        let hasher =
            Arc::new(PasswordHasher::new(Argon2Cost::parse("m=19456,t=2,p=1").unwrap()).unwrap());
        // Hashes already done, so that a pace-based bound (the one this replaced) would
        // have an estimate to shed with.
        hasher.hash("warm up".into()).await.unwrap();
        let burst = hasher.capacity;
        let cores = std::thread::available_parallelism().unwrap().get();
        assert!(burst >= cores * (WAITING_PER_THREAD + 1));
        let all = (0..burst).map(|i| {
            let h = Arc::clone(&hasher);
            tokio::spawn(async move { h.hash(format!("password {i}").into()).await })
        });
        let shed = futures::future::join_all(all)
            .await
            .into_iter()
            .filter(|r| !matches!(r, Ok(Ok(_))))
            .count();
        assert_eq!(shed, 0, "of a burst of {burst}");
    }

    #[tokio::test]
    async fn a_request_that_gave_up_while_waiting_is_not_hashed() {
        let hasher = Arc::new(
            PasswordHasher::with_limits(
                Argon2Cost {
                    m_kib: 16384,
                    t: 4,
                    p: 1,
                },
                1,
                8,
            )
            .unwrap(),
        );
        let busy = {
            let h = Arc::clone(&hasher);
            tokio::spawn(async move { h.verify("first".into(), None).await })
        };
        while hasher.verifications() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        // Queued behind the running one, then abandoned before it runs.
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(1),
            hasher.verify("second".into(), None),
        )
        .await;
        assert!(abandoned.is_err());
        assert!(!busy.await.unwrap().unwrap());
        assert!(!hasher.verify("third".into(), None).await.unwrap());
        assert_eq!(hasher.verifications(), 2);
        assert_eq!(hasher.queue_depth(), 0);
    }

    #[test]
    fn the_default_cost_is_used_for_new_hashes() {
        let hasher = PasswordHasher::new(Argon2Cost::parse("m=19456,t=2,p=1").unwrap()).unwrap();
        assert!(hasher.dummy_hash.contains("m=19456,t=2,p=1"));
    }
}
