//! The hashing threads: one per core, fed by a queue whose admission is bounded by time,
//! so a flood of sign-ins is answered 503 instead of queueing without bound. A hash is
//! admitted while the wait it can expect (the hashes ahead of it, shared by the threads, at
//! the measured time a hash takes now) is under `PORTCULLIS_MAX_HASH_WAIT` (2 s): an
//! ordinary burst (an office signing in at nine) waits its turn, and past that a hash is
//! turned away at once. Measuring keeps the promise when the threads get less CPU than
//! usual (an aggressive flood on a shared host): a fixed depth would then make every
//! admitted sign-in wait many seconds. Each thread owns one argon2 memory block
//! (`argon2id::Scratch`). The threads run at the lowest priority, so request handling
//! always comes first and hashing gets the CPU that is left: on an idle machine, all of it.
//! With the memory reused, peak RSS under a flood is the base plus (threads x cost), so
//! glibc needs no tuning (mallopt).
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
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

/// The default bound on an admitted hash's expected wait (`PORTCULLIS_MAX_HASH_WAIT`). At
/// the default cost on 2 cores a burst of 64 sign-ups a core expects about a second, so it
/// is admitted whole; a wait much past 2 s is one a user (and a client's timeout) gives up on.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(2);

/// Hashes that may wait for each thread whatever the measurements say: only a guard on
/// memory (a waiting hash holds its request), far past what the time bound admits at any
/// cost worth using.
pub const MAX_WAITING_PER_THREAD: usize = 1024;

/// How much of the measured hash time each new hash's time makes up (1/16): a dozen hashes
/// move it, one odd hash does not.
const SMOOTHING: u64 = 16;

/// State shared by the async callers and the hashing threads.
struct Shared {
    argon2: Argon2<'static>,
    /// Admitted and not finished: waiting in the queue or running.
    in_flight: AtomicUsize,
    waiting: AtomicUsize,
    running: AtomicUsize,
    peak_running: AtomicUsize,
    verifications: AtomicU64,
    /// What one hash takes now, in wall-clock nanoseconds (smoothed): longer when the
    /// threads get less CPU.
    hash_nanos: AtomicU64,
}

impl Shared {
    /// A hash's time joins the estimate by a sixteenth. Letting slower hashes in faster (by
    /// half) was tried: it cut the flood's late 503s a little, but the first hashes of an
    /// ordinary burst run slow while the burst's requests are read, and the estimate then
    /// shed the rest of the burst.
    fn record_hash(&self, took: Duration) {
        let sample = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .hash_nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                Some(old - old / SMOOTHING + sample / SMOOTHING)
            });
    }
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
    threads: usize,
    /// Running plus waiting, the most admitted at once whatever the wait.
    capacity: usize,
    /// An admitted hash's expected wait stays under this.
    max_wait: Duration,
    /// Verified against when the user does not exist, so that case costs the same time.
    dummy_hash: String,
}

impl PasswordHasher {
    /// One hashing thread per core, admitting what is expected to wait under
    /// `DEFAULT_MAX_WAIT` (see `max_wait`).
    pub fn new(cost: Argon2Cost) -> Result<Self, String> {
        let concurrency = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self::with_limits(cost, concurrency, concurrency * MAX_WAITING_PER_THREAD)
    }

    /// The same, admitting a hash only while its expected wait is under `max_wait`.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// `concurrency` hashing threads (at least one), and up to `max_waiting` hashes
    /// queued for them (and no more than `DEFAULT_MAX_WAIT` expects); past that a hash is
    /// refused at once with `Overloaded`.
    pub fn with_limits(
        cost: Argon2Cost,
        concurrency: usize,
        max_waiting: usize,
    ) -> Result<Self, String> {
        let argon2 = Argon2::new(ALGORITHM, VERSION, cost.params()?);
        let salt = SaltString::generate(&mut OsRng);
        // The first estimate of a hash's time, before any was measured on a thread: a hash
        // in memory already used once, as a hashing thread's every hash but its first. A
        // first hash also faults its memory in, which made the estimate long enough on a
        // slow host to shed an ordinary burst that met a server right after its start.
        let mut scratch = Scratch::new(argon2.params().block_count());
        let dummy_hash = hash_argon2(
            &argon2,
            &mut scratch,
            uuid::Uuid::new_v4().as_bytes(),
            &salt,
        )
        .map_err(|e| e.to_string())?;
        let started = Instant::now();
        hash_argon2(
            &argon2,
            &mut scratch,
            uuid::Uuid::new_v4().as_bytes(),
            &salt,
        )
        .map_err(|e| e.to_string())?;
        let first_hash = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        drop(scratch);
        let threads = concurrency.max(1);
        let capacity = threads + max_waiting;
        let shared = Arc::new(Shared {
            argon2,
            in_flight: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
            verifications: AtomicU64::new(0),
            hash_nanos: AtomicU64::new(first_hash),
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
            threads,
            capacity,
            max_wait: DEFAULT_MAX_WAIT,
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

    /// What one hash takes now, as measured (smoothed). A running hash's time so far was
    /// tried as well, to see a loss of CPU before the slow hash ends: during an ordinary
    /// burst the requests' own handling holds the low-priority hashing threads back for a
    /// moment, and that shed the burst. The estimate follows within a few hashes, and a
    /// hash admitted on an estimate gone stale is given up at the bound (`run`).
    pub fn hash_time(&self) -> Duration {
        Duration::from_nanos(self.shared.hash_nanos.load(Ordering::Relaxed))
    }

    /// The wait a hash admitted behind `ahead` others can expect for its answer: the
    /// threads share those ahead, each at the measured hash time, and then its own. Those
    /// running are counted whole (a little long). Counting its own hash keeps the few
    /// admitted on an estimate a little short from being given up at the bound.
    fn expected_wait(&self, ahead: usize) -> Duration {
        let rounds = u32::try_from(ahead / self.threads + 1).unwrap_or(u32::MAX);
        self.hash_time().saturating_mul(rounds)
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
        let ahead = shared.in_flight.fetch_add(1, Ordering::AcqRel);
        if ahead >= self.capacity || self.expected_wait(ahead) > self.max_wait {
            shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Overloaded);
        }
        let (answer, answered) = oneshot::channel();
        let (begin, begun) = oneshot::channel::<()>();
        let job: Job = Box::new(move |shared, scratch, finished| {
            // The caller gave up while this waited (client gone, timeout, or the wait ran
            // past the bound): no hash for nobody.
            if answer.is_closed() {
                return;
            }
            let _ = begin.send(());
            let started = Instant::now();
            let result = work(shared, scratch);
            shared.record_hash(started.elapsed());
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
        // The estimate that admitted this hash may be behind the times (the threads just
        // lost their CPU to something else): a hash that has not begun when only its own
        // hash's time is left of the bound is given up, so an admitted caller waits about
        // the bound, and no more than the bound and its own hash.
        let begin_by = self
            .max_wait
            .saturating_sub(self.hash_time())
            .max(self.max_wait / 2);
        match tokio::time::timeout(begin_by, begun).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {} // the job ended without beginning (a panic): `answered` says so
            Err(_) => return Err(HashError::Overloaded),
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

    /// Tests that time hashes run one at a time, each on an otherwise idle hashing pool:
    /// other tests' hashes on the same cores would make theirs look slow.
    static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
        let _alone = TIMED.lock().await;
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
        let _alone = TIMED.lock().await;
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
    #[ignore = "needs an idle machine, and measures its speed: run it by hand (--ignored on_an_idle_machine; see scripts/test)"]
    async fn a_burst_of_64_a_core_at_the_default_cost_is_admitted_on_an_idle_machine() {
        let _alone = TIMED.lock().await;
        let hasher =
            Arc::new(PasswordHasher::new(Argon2Cost::parse("m=19456,t=2,p=1").unwrap()).unwrap());
        // Hashes already done, so that the time bound has a measured hash time to go by.
        hasher.hash("warm up".into()).await.unwrap();
        let cores = std::thread::available_parallelism().unwrap().get();
        let burst = cores * 64;
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
        let _alone = TIMED.lock().await;
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn admission_stops_where_the_expected_wait_passes_the_bound() {
        let _alone = TIMED.lock().await;
        // One thread, 20 ms a hash (measured from the hashes themselves), a 100 ms bound:
        // about five may wait behind the running one, not the hundred the depth allows.
        let hasher = Arc::new(
            PasswordHasher::with_limits(
                Argon2Cost {
                    m_kib: 8192,
                    t: 2,
                    p: 1,
                },
                1,
                100,
            )
            .unwrap()
            .max_wait(Duration::from_millis(100)),
        );
        for _ in 0..8 {
            hasher.hash("warm up".into()).await.unwrap();
        }
        let per_hash = hasher.hash_time();
        let all = (0..60).map(|i| {
            let h = Arc::clone(&hasher);
            tokio::spawn(async move {
                let began = Instant::now();
                let result = h.hash(format!("password {i}").into()).await;
                (result.is_ok(), began.elapsed())
            })
        });
        let results: Vec<(bool, Duration)> = futures::future::join_all(all)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let admitted: Vec<Duration> = results.iter().filter(|r| r.0).map(|r| r.1).collect();
        let expected =
            (Duration::from_millis(100).as_nanos() / per_hash.as_nanos().max(1)) as usize + 1;
        assert!(admitted.len() < 60, "some were shed ({per_hash:?} a hash)");
        assert!(
            admitted.len() <= expected + 2,
            "{} admitted, about {expected} expected at {per_hash:?} a hash",
            admitted.len()
        );
        // Each admitted one waited no more than the bound and its own hash, with room for
        // a hash measured a little short.
        let longest = admitted.iter().max().copied().unwrap_or_default();
        assert!(
            longest <= Duration::from_millis(100) + per_hash * 3,
            "an admitted hash took {longest:?} ({per_hash:?} a hash)"
        );
    }

    #[test]
    fn the_default_cost_is_used_for_new_hashes() {
        let hasher = PasswordHasher::new(Argon2Cost::parse("m=19456,t=2,p=1").unwrap()).unwrap();
        assert!(hasher.dummy_hash.contains("m=19456,t=2,p=1"));
    }
}
