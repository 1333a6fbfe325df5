//! Resilience (issue 6): SIGKILL under signup load on SQLite, a flood of sign-ins past the
//! hash pool, and a database outage behind a TCP relay the test controls. Each test is
//! bounded in time and asserts behaviour, not speed.
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portcullis::auth::password::Argon2Cost;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::*;

// ---------------------------------------------------------------------------------------
// 1. Crash: SIGKILL at a random moment under concurrent signups, ten times, same file.
// ---------------------------------------------------------------------------------------

fn start_binary(db_url: &str, port: u16) -> Child {
    let mut command = binary_on(db_url);
    command
        .env("PORTCULLIS_BIND", format!("127.0.0.1:{port}"))
        // Every signup and signin comes from 127.0.0.1; the per-client limit is not the subject.
        .env("PORTCULLIS_THROTTLE_CLIENT_FAILURES", "100000")
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary runs")
}

async fn wait_until_serving(client: &reqwest::Client, base: &str, child: &mut Child) {
    let url = format!("{base}/health/ready");
    wait_ready(client, &url, child, None, Duration::from_secs(10)).await;
}

/// std's `kill` is SIGKILL on Unix.
fn sigkill(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

/// Signs every user in, eight at a time; returns those who could not (with the status).
async fn all_sign_in(
    client: &reqwest::Client,
    base: &str,
    usernames: &[String],
) -> Vec<(String, u16)> {
    use futures::StreamExt;
    futures::stream::iter(usernames.iter().cloned())
        .map(|username| async move {
            let status = client
                .post(format!("{base}/api/auth/signin"))
                .json(&json!({"username": username, "password": PASSWORD}))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            (username, status)
        })
        .buffer_unordered(8)
        .filter(|(_, status)| std::future::ready(*status != 200))
        .collect()
        .await
}

/// A small xorshift generator: fixed seed, so a failing run can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_signup_load_loses_no_acknowledged_signup_and_keeps_sqlite_intact() {
    const ROUNDS: usize = 10;
    const CLIENTS: usize = 8;
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("crash.db");
    let db_url = format!("sqlite://{}", db_path.display());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut acknowledged: Vec<String> = Vec::new();
    let mut last_round_from = 0;
    let counter = Arc::new(AtomicU64::new(0));

    for round in 0..ROUNDS {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = start_binary(&db_url, port);
        wait_until_serving(&client, &base, &mut child).await;

        // Signups answered 201 before the last kill all sign in; older ones (already
        // signed in after an earlier restart, and found in the file after every kill
        // since) are sampled, one in eight, and all sign in after the final restart.
        let to_check: Vec<String> = acknowledged[..last_round_from]
            .iter()
            .step_by(8)
            .chain(&acknowledged[last_round_from..])
            .cloned()
            .collect();
        let failed = all_sign_in(&client, &base, &to_check).await;
        assert!(
            failed.is_empty(),
            "round {round}: answered 201 before a SIGKILL, now cannot sign in: {failed:?}"
        );
        last_round_from = acknowledged.len();

        // Load: CLIENTS loops of signups with unique names until the kill.
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for _ in 0..CLIENTS {
            let (client, base, stop, counter) =
                (client.clone(), base.clone(), stop.clone(), counter.clone());
            workers.push(tokio::spawn(async move {
                let mut created = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let username = format!("crash{n}");
                    let answer = client
                        .post(format!("{base}/api/auth/signup"))
                        .json(&json!({
                            "username": username,
                            "email": format!("{username}@example.com"),
                            "password": PASSWORD,
                        }))
                        .send()
                        .await;
                    match answer {
                        Ok(r) if r.status() == 201 => created.push(username),
                        Ok(r) => assert!(
                            // Answered but not created: only acceptable as an overload/unavailable.
                            r.status() == 503,
                            "signup of {username} answered {}",
                            r.status()
                        ),
                        // The process died mid-request: no answer, no promise.
                        Err(_) => break,
                    }
                }
                created
            }));
        }
        let delay = rng.between(50, 400);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        sigkill(&mut child);
        stop.store(true, Ordering::Relaxed);
        let before = acknowledged.len();
        for w in workers {
            acknowledged.extend(w.await.expect("worker"));
        }
        eprintln!(
            "round {round}: killed after {delay} ms, {} signups acknowledged",
            acknowledged.len() - before
        );
        // Straight on the file after each kill: intact, and every acknowledged signup in it.
        check_file(&db_url, &acknowledged, round).await;
    }
    assert!(
        !acknowledged.is_empty(),
        "no signup was ever acknowledged: the load did not run"
    );

    // And a last restart: the final round's acknowledged signups sign in too.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start_binary(&db_url, port);
    wait_until_serving(&client, &base, &mut child).await;
    let failed = all_sign_in(&client, &base, &acknowledged).await;
    assert!(
        failed.is_empty(),
        "cannot sign in after the final restart: {failed:?}"
    );
    sigkill(&mut child);
    check_file(&db_url, &acknowledged, ROUNDS).await;
    eprintln!(
        "crash: {ROUNDS} kills, {} acknowledged signups all kept, {:.1} s",
        acknowledged.len(),
        started.elapsed().as_secs_f64()
    );
}

/// `PRAGMA integrity_check` is "ok" and every acknowledged username is stored.
async fn check_file(db_url: &str, acknowledged: &[String], round: usize) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("{db_url}?mode=rw"))
        .await
        .expect("open the killed database");
    let check: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .expect("integrity_check runs");
    assert_eq!(
        check,
        vec![("ok".to_string(),)],
        "integrity_check after kill {round}"
    );
    let stored: Vec<(String,)> = sqlx::query_as("SELECT username FROM users")
        .fetch_all(&mut conn)
        .await
        .expect("users readable");
    let stored: std::collections::HashSet<String> = stored.into_iter().map(|r| r.0).collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|u| !stored.contains(*u))
        .collect();
    assert!(
        missing.is_empty(),
        "after kill {round}, acknowledged signups missing from the file: {missing:?}"
    );
    conn.close().await.ok();
}

// ---------------------------------------------------------------------------------------
// 2. Overload: a flood of sign-ins past the hash pool is shed with 503, GETs still served.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signin_flood_past_the_hash_pool_is_shed_with_503_while_gets_are_served() {
    let _alone = hashing_alone().await;
    let app = TestApp::spawn_with(DbKind::Sqlite, |s| {
        s.argon2 = Argon2Cost::parse("m=19456,t=2,p=1").unwrap();
        s.throttle_client_failures = 1_000_000;
    })
    .await;
    let session = app.user_session("steady", &[]).await;
    let bearer = session.bearer();

    // At the default cost on 2 cores the 2 s bound admits about 250: 400 is far past it.
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let flood = (cores * 65 * 3).max(400);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let url = app.url("/api/auth/signin");
    let go = Arc::new(tokio::sync::Barrier::new(flood + 1));
    let mut tasks = Vec::with_capacity(flood);
    for i in 0..flood {
        let (client, url, go) = (client.clone(), url.clone(), go.clone());
        tasks.push(tokio::spawn(async move {
            go.wait().await;
            let r = client
                .post(url)
                .json(&json!({"username": format!("nobody{i}"), "password": "wrong password"}))
                .send()
                .await
                .expect("every flood request is answered");
            let status = r.status().as_u16();
            let retry_after = r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .map(|v| v.to_str().unwrap().to_string());
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, retry_after, body)
        }));
    }
    go.wait().await;
    // While the flood runs, the cheap authenticated GET keeps answering.
    let mut during = Vec::new();
    for _ in 0..10 {
        let r = app
            .get_with("/api/test/user", ("Authorization", &bearer))
            .await;
        during.push(r.status().as_u16());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    let mut shed = 0;
    for t in tasks {
        let (status, retry_after, body) = t.await.expect("task");
        *counts.entry(status).or_default() += 1;
        assert!(
            [401, 429, 503].contains(&status),
            "flood answer {status} {body}: only 401, 429 or 503 are expected"
        );
        if status == 503 {
            shed += 1;
            let retry_after = retry_after.expect("503 carries Retry-After");
            assert!(
                retry_after.parse::<u64>().is_ok(),
                "Retry-After is seconds: {retry_after}"
            );
            assert_eq!(body["code"], "overloaded", "503 body {body}");
        }
    }
    eprintln!("overload: {flood} sign-ins → {counts:?}; GETs during the flood: {during:?}");
    assert!(
        shed > 0,
        "no 503 among {flood} concurrent sign-ins: {counts:?}"
    );
    assert!(
        during.iter().all(|&s| s == 200),
        "GET /api/test/user during the flood: {during:?}"
    );
    // The hasher never ran more than its pool allows.
    assert!(app.state().hasher.peak_running() <= cores);
    app.stop().await;
}

/// Other work takes the CPU from the hashing threads (a busy thread a core, at normal
/// priority, as on a shared host; the hashing threads run at nice 19) while a flood of
/// sign-ins comes in. Admission goes by the time a hash takes now, so an admitted sign-in
/// waits at most `PORTCULLIS_MAX_HASH_WAIT` and its own hash; the rest are 503 with
/// `Retry-After`. (With admission by a fixed depth, 64 a core, the admitted waited for the
/// whole queue: over a minute here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admitted_signins_wait_no_more_than_the_bound_when_hashing_gets_little_cpu() {
    let _alone = hashing_alone().await;
    let app = TestApp::spawn_with(DbKind::Sqlite, |s| {
        s.argon2 = Argon2Cost::parse("m=19456,t=2,p=1").unwrap();
        s.throttle_client_failures = 1_000_000;
    })
    .await;
    // A sign-in first, measured on the idle machine: the estimate the flood starts from.
    assert_eq!(
        app.signin_raw("nobody", "wrong password").await.status(),
        401
    );
    let bound = app.settings.max_hash_wait;

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let hogging = Arc::new(AtomicBool::new(true));
    let hogs: Vec<_> = (0..cores)
        .map(|_| {
            let hogging = hogging.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while hogging.load(Ordering::Relaxed) {
                    n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(90))
        .build()
        .unwrap();
    let flood = 200;
    let url = app.url("/api/auth/signin");
    let tasks: Vec<_> = (0..flood)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let began = Instant::now();
                let r = client
                    .post(url)
                    .json(&json!({"username": format!("nobody{i}"), "password": "wrong password"}))
                    .send()
                    .await
                    .expect("every flood request is answered");
                let retry_after = r.headers().contains_key(reqwest::header::RETRY_AFTER);
                (r.status().as_u16(), retry_after, began.elapsed())
            })
        })
        .collect();
    let mut admitted = Vec::new();
    let mut shed = 0;
    for t in tasks {
        let (status, retry_after, took) = t.await.expect("task");
        match status {
            401 => admitted.push(took),
            503 => {
                assert!(retry_after, "a 503 says when to retry");
                shed += 1;
            }
            other => panic!("flood answer {other}: only 401 or 503 are expected"),
        }
    }
    // The hash time as the flood measured it, with the CPU taken.
    let per_hash = app.state().hasher.hash_time();
    hogging.store(false, Ordering::Relaxed);
    for hog in hogs {
        hog.join().unwrap();
    }
    admitted.sort();
    let longest = admitted.last().copied().unwrap_or_default();
    eprintln!(
        "flood with the CPU taken: {} admitted (p50 {:?}, longest {longest:?}), {shed} shed; a hash took {per_hash:?}",
        admitted.len(),
        admitted.get(admitted.len() / 2).copied().unwrap_or_default(),
    );
    assert!(!admitted.is_empty(), "some sign-ins were served");
    assert!(shed > 0, "a flood the hashing cannot serve in time is shed");
    // The bound and the sign-in's own hash, with room for what a core this starved does to
    // both: the smoothed hash time here is about half a second and a single hash runs up to
    // twice that, and the request's own handling competes with the busy threads too. With
    // admission by a fixed depth the admitted waited over a minute here.
    let allowed = bound + Duration::from_secs(3);
    assert!(
        longest <= allowed,
        "an admitted sign-in took {longest:?}: more than the bound {bound:?}, a hash ({per_hash:?} smoothed) and the request"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 3. Database outage: a relay the test cuts and restores, between server and database.
// ---------------------------------------------------------------------------------------

/// What issue 23 allows a request that needs an unreachable database (503 with Retry-After).
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// `PORTCULLIS_FEED_STALE_AFTER`'s default.
const FEED_STALE_AFTER: Duration = Duration::from_secs(3);

async fn timed<F: std::future::Future>(f: F) -> (F::Output, Duration) {
    let t = Instant::now();
    let out = f.await;
    (out, t.elapsed())
}

async fn outage(kind: DbKind, partition: bool) {
    // The database is created straight on the server; the Portcullis server goes via the relay.
    let db = TestDb::create(&kind).await;
    let relay = FaultyPath::start(&server_address(&db.url)).await;
    let mut relayed_db = db.shared();
    relayed_db.url = through(&db.url, relay.port);
    let app = TestApp::spawn_on(relayed_db, |_| {}).await;
    let _owner = db; // drops the database when the test ends

    let session = app.user_session("before", &[]).await;
    let bearer = session.bearer();
    // Cache the session: the check after the cut must be served without the database.
    assert_eq!(
        app.get_with("/api/test/user", ("Authorization", &bearer))
            .await
            .status(),
        200
    );
    assert_eq!(app.get("/health/ready").await.status(), 200);

    relay.set(if partition {
        Fault::Blackhole
    } else {
        Fault::Cut
    });
    let cut_at = Instant::now();
    // Within the change feed's bound the cached session is still believed; a request that
    // needs no database works throughout.
    let (user, user_took) = timed(app.get_with("/api/test/user", ("Authorization", &bearer))).await;
    assert_eq!(
        user.status(),
        200,
        "cached session at the start of the outage"
    );
    assert_eq!(app.get("/api/test/all").await.status(), 200);
    // /health/ready turns 503 within 2 s.
    let ready_503 = loop {
        let (r, took) = timed(app.get("/health/ready")).await;
        if r.status() == 503 {
            break cut_at.elapsed();
        }
        assert_eq!(r.status(), 200, "ready answers 200 or 503");
        assert!(took < ANSWER_WITHIN, "/health/ready took {took:?}");
        assert!(
            cut_at.elapsed() < ANSWER_WITHIN,
            "/health/ready still 200 2 s after the cut"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // A request that needs the database answers 503 within 2 s (the acquire timeout).
    let (r, signup_took) = timed(tokio::time::timeout(
        Duration::from_secs(15),
        app.signup("during", "during@example.com", PASSWORD),
    ))
    .await;
    let r = r.expect("signup during the outage did not answer within 15 s");
    let status = r.status().as_u16();
    let retry_after = r.headers().contains_key(reqwest::header::RETRY_AFTER);
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 503, "signup during the outage: {status} {body}");
    assert_eq!(
        body["code"], "unavailable",
        "signup during the outage: {body}"
    );
    assert!(retry_after, "the outage 503 carries Retry-After");
    assert!(
        signup_took < ANSWER_WITHIN,
        "signup during the outage took {signup_took:?}"
    );
    // So does a sign-in (it reads the account and the throttle, and audits).
    let (r, signin_took) = timed(tokio::time::timeout(
        Duration::from_secs(15),
        app.signin_raw("before", PASSWORD),
    ))
    .await;
    let r = r.expect("signin during the outage did not answer within 15 s");
    let signin_status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(signin_status, 503, "signin during the outage: {body}");
    assert_eq!(
        body["code"], "unavailable",
        "signin during the outage: {body}"
    );
    assert!(
        signin_took < ANSWER_WITHIN,
        "signin during the outage took {signin_took:?}"
    );
    // Refreshing and signing out need it as well: 503 too, not a 500.
    let (r, refresh_took) = timed(tokio::time::timeout(
        Duration::from_secs(15),
        refresh_status(&app, &session),
    ))
    .await;
    let (refresh_code, body) = r.expect("refresh during the outage did not answer within 15 s");
    assert_eq!(refresh_code, 503, "refresh during the outage: {body}");
    assert_eq!(body["code"], "unavailable", "refresh during the outage");
    let refresh_token = session
        .refresh
        .as_deref()
        .expect("refresh token in the body");
    let (r, signout_took) = timed(tokio::time::timeout(
        Duration::from_secs(15),
        app.post("/api/auth/signout", json!({"refreshToken": refresh_token})),
    ))
    .await;
    let r = r.expect("signout during the outage did not answer within 15 s");
    let signout_status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(signout_status, 503, "signout during the outage: {body}");
    assert_eq!(body["code"], "unavailable", "signout during the outage");
    assert!(
        refresh_took < ANSWER_WITHIN,
        "refresh during the outage took {refresh_took:?}"
    );
    assert!(
        signout_took < ANSWER_WITHIN,
        "signout during the outage took {signout_took:?}"
    );
    // Past the feed's bound (PORTCULLIS_FEED_STALE_AFTER, 3 s) the cache no longer vouches
    // for the session: without the database it is a 503, not a 200 nobody can back.
    tokio::time::sleep(
        (cut_at + FEED_STALE_AFTER + Duration::from_millis(300))
            .saturating_duration_since(Instant::now()),
    )
    .await;
    let (late, late_took) = timed(app.get_with("/api/test/user", ("Authorization", &bearer))).await;
    assert_eq!(late.status(), 503, "a cached session past the feed's bound");
    assert!(late.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert!(late_took < ANSWER_WITHIN, "took {late_took:?}");
    assert_eq!(app.get("/api/test/all").await.status(), 200);

    relay.set(Fault::None);
    let restored_at = Instant::now();
    let mut n = 0;
    let recovered = loop {
        let ready = app.get("/health/ready").await.status();
        let signup = if ready == 200 {
            n += 1;
            app.signup(
                &format!("after{n}"),
                &format!("after{n}@example.com"),
                PASSWORD,
            )
            .await
            .status()
            .as_u16()
        } else {
            0
        };
        if ready == 200 && signup == 201 {
            break restored_at.elapsed();
        }
        assert!(
            restored_at.elapsed() < Duration::from_secs(5),
            "not recovered 5 s after the relay came back: ready {ready}, signup {signup}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    app.signin(&format!("after{n}"), PASSWORD).await;
    eprintln!(
        "outage {kind:?} (partition: {partition}): ready 503 after {ready_503:?}; signup {status} in {signup_took:?}; \
         signin {signin_status} in {signin_took:?}; refresh in {refresh_took:?}; \
         signout in {signout_took:?}; \
         cached GET in {user_took:?}; recovered in {recovered:?}"
    );
    app.stop().await;
    drop(relay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_answered_quickly_and_recovers_without_restart() {
    match DbKind::postgres() {
        Some(kind) => outage(kind, false).await,
        None => eprintln!("not run: PORTCULLIS_TEST_POSTGRES_URL is unset"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_outage_is_answered_quickly_and_recovers_without_restart() {
    match DbKind::mysql() {
        Some(kind) => outage(kind, false).await,
        None => eprintln!("not run: PORTCULLIS_TEST_MYSQL_URL is unset"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_is_answered_quickly_and_recovers_without_restart() {
    match DbKind::postgres() {
        Some(kind) => outage(kind, true).await,
        None => eprintln!("not run: PORTCULLIS_TEST_POSTGRES_URL is unset"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_partition_is_answered_quickly_and_recovers_without_restart() {
    match DbKind::mysql() {
        Some(kind) => outage(kind, true).await,
        None => eprintln!("not run: PORTCULLIS_TEST_MYSQL_URL is unset"),
    }
}

// ---------------------------------------------------------------------------------------
// 4. A statement that does not come back: a write waits on a lock another client holds.
// ---------------------------------------------------------------------------------------

/// The longest issue 23 lets a query that never returns hold a request.
const HOLD_AT_MOST: Duration = Duration::from_secs(5);

/// Another client holds a write lock on the users table; a sign-up's write waits on it.
/// The request is given up at `PORTCULLIS_REQUEST_TIMEOUT` (4 s) with a 503 and
/// `Retry-After`, on every database (SQLite's own wait would be 5 s, PostgreSQL's and
/// MariaDB's much longer); once the lock is gone the server serves as before.
async fn a_request_held_by_a_query_is_given_up_within_the_deadline(kind: DbKind) {
    let app = TestApp::spawn(kind.clone()).await;
    let mut holder = sqlx::AnyConnection::connect(&app.db.url)
        .await
        .expect("a second client");
    let (lock, unlock) = match kind {
        DbKind::Sqlite => (vec!["BEGIN IMMEDIATE"], "ROLLBACK"),
        DbKind::Postgres(_) => (
            vec!["BEGIN", "LOCK TABLE users IN EXCLUSIVE MODE"],
            "ROLLBACK",
        ),
        DbKind::MySql(_) => (vec!["LOCK TABLES users WRITE"], "UNLOCK TABLES"),
    };
    for statement in lock {
        sqlx::raw_sql(statement)
            .execute(&mut holder)
            .await
            .expect("the lock");
    }
    let (r, took) = timed(tokio::time::timeout(
        Duration::from_secs(30),
        app.signup("blocked", "blocked@example.com", PASSWORD),
    ))
    .await;
    let r = r.expect("an answer within 30 s");
    let status = r.status().as_u16();
    let retry_after = r.headers().contains_key(reqwest::header::RETRY_AFTER);
    let body: Value = r.json().await.unwrap_or(Value::Null);
    eprintln!("{kind:?}: a sign-up behind a lock answered {status} in {took:?}");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable", "{body}");
    assert!(retry_after, "the 503 says when to retry");
    assert!(took <= HOLD_AT_MOST, "held {took:?}");
    assert!(
        took >= app.settings.request_timeout,
        "answered before the deadline: {took:?}"
    );

    sqlx::raw_sql(unlock)
        .execute(&mut holder)
        .await
        .expect("unlock");
    let again = Instant::now();
    let r = app
        .signup("after-the-lock", "after-the-lock@example.com", PASSWORD)
        .await;
    assert_eq!(r.status(), 201, "served again once the lock is gone");
    assert!(
        again.elapsed() <= HOLD_AT_MOST,
        "took {:?}",
        again.elapsed()
    );
    app.stop().await;
}

crate::on_every_database!(a_request_held_by_a_query_is_given_up_within_the_deadline);
