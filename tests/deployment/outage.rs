//! A database that stops answering one node (issue 23, docs/SECURITY.md "When the database
//! is unreachable"). Two `portcullis serve` processes share a PostgreSQL or MariaDB
//! database: node B reaches it directly, node A through a TCP path of this test's own
//! (`helpers::FaultyPath`), which the test cuts (nothing listens: connections are refused, and the
//! open ones are closed) or blackholes (connections stay open, nothing gets through either
//! way: a partition or a hung server), then opens again.
//!
//! While node A is busy with requests that read the database, for each fault:
//! - no request is held more than 5 s, whether or not its query ever comes back;
//! - a request that arrives after the fault answers 503 with `Retry-After` within 2 s;
//! - a session signed out on node B meanwhile is refused by node A once the change feed has
//!   been silent for `PORTCULLIS_FEED_STALE_AFTER` (its cache no longer vouches), and
//!   node A's `/health/ready` answers 503;
//! - once the path is open again, node A serves within 5 s without a restart, and the
//!   signed-out session stays refused.
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::deployment::{get_status, signin, signup, skip, spawn_node, Backend, Variant};
use crate::helpers::*;

/// What the issue allows: a new request's 503 after the fault, and any request's hold.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
const HOLD_AT_MOST: Duration = Duration::from_secs(5);
/// `PORTCULLIS_FEED_STALE_AFTER`'s default, which the nodes run with.
const FEED_STALE_AFTER: Duration = Duration::from_secs(3);
/// How long the fault lasts: past the feed's bound and past the request deadline.
const FAULT_LASTS: Duration = Duration::from_secs(7);
/// Requests that keep node A reading the database, all the time.
const BUSY_CLIENTS: usize = 6;

mod a_node_loses_its_database {
    use super::{outage, Backend};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        outage(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mariadb() {
        outage(Backend::MariaDb).await
    }
}

/// The two nodes, killed (their logs printed on a failure) when dropped.
struct Nodes {
    dir: tempfile::TempDir,
    children: Vec<Child>,
    ports: [u16; 2],
}

impl Nodes {
    /// Node A (index 0, through the path) or B (index 1, direct).
    fn url(&self, node: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[node])
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for n in 1..=2 {
                let log = std::fs::read_to_string(self.dir.path().join(format!("node{n}.log")));
                let log = log.unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- node {n} (last lines)");
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// One request of the busy clients: when it began (after the test's start), how long it
/// took, its status, and whether it said when to retry.
#[derive(Debug)]
struct Sample {
    began: Duration,
    took: Duration,
    status: u16,
    retry_after: bool,
}

async fn outage(backend: Backend) {
    let variant = Variant::new(backend, false);
    let kind = match variant.prerequisites(false) {
        Ok(kind) => kind,
        Err(why) => return skip(&variant, &why),
    };
    let name = variant.name();
    let db = TestDb::create(&kind).await;
    let path = FaultyPath::start(&server_address(&db.url)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ports = [free_port(), free_port()];
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut nodes = Nodes {
        children: Vec::new(),
        ports,
        dir,
    };
    // B first: it creates the schema; A then finds it through the path.
    let b = spawn_node(nodes.dir.path(), &db.url, false, ports[1], 2);
    nodes.children.push(b);
    wait_ready(
        &http,
        &nodes.url(1, "/health/ready"),
        &mut nodes.children[0],
        None,
        Duration::from_secs(20),
    )
    .await;
    let a = spawn_node(
        nodes.dir.path(),
        &through(&db.url, path.port),
        false,
        ports[0],
        1,
    );
    nodes.children.push(a);
    wait_ready(
        &http,
        &nodes.url(0, "/health/ready"),
        &mut nodes.children[1],
        None,
        Duration::from_secs(20),
    )
    .await;

    signup(&http, nodes.url(1, "/api/auth/signup"), "ursula").await;
    for fault in [Fault::Cut, Fault::Blackhole] {
        let what = format!("{name}, {fault:?}");
        let staying = signin(&http, nodes.url(1, "/api/auth/signin"), "ursula").await;
        let leaving = signin(&http, nodes.url(1, "/api/auth/signin"), "ursula").await;
        // Node A has both sessions in its cache.
        for session in [&staying, &leaving] {
            let status = get_status(&http, nodes.url(0, "/api/test/user"), &session.bearer()).await;
            assert_eq!(
                status, 200,
                "{what}: node A accepts the session before the fault"
            );
        }

        let started = Instant::now();
        let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
        let (stop, stopped) = watch::channel(false);
        let busy: Vec<_> = (0..BUSY_CLIENTS)
            .map(|_| {
                let (http, samples, mut stopped) = (http.clone(), samples.clone(), stopped.clone());
                let url = nodes.url(0, "/api/auth/sessions");
                let bearer = staying.bearer();
                tokio::spawn(async move {
                    while !*stopped.borrow_and_update() {
                        let began = started.elapsed();
                        let answer = http.get(&url).header("Authorization", &bearer).send().await;
                        let took = started.elapsed() - began;
                        let answer = answer.expect("node A answers every request");
                        let sample = Sample {
                            began,
                            took,
                            status: answer.status().as_u16(),
                            retry_after: answer.headers().contains_key("retry-after"),
                        };
                        samples.lock().expect("samples").push(sample);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;

        let fault_at = started.elapsed();
        path.set(fault);
        // Node B ends a session; node A cannot hear of it.
        let signout = http
            .post(nodes.url(1, "/api/auth/signout"))
            .header("Authorization", leaving.bearer())
            .send()
            .await
            .expect("signout");
        assert!(
            signout.status().is_success(),
            "{what}: signout on node B: {}",
            signout.status()
        );
        let refused = loop {
            let answer = http
                .get(nodes.url(0, "/api/test/user"))
                .header("Authorization", leaving.bearer())
                .send()
                .await
                .expect("node A answers");
            if answer.status() != 200 {
                break answer;
            }
            assert!(
                started.elapsed() - fault_at < FEED_STALE_AFTER + ANSWER_WITHIN,
                "{what}: node A still accepts a session signed out elsewhere {:?} after the fault",
                started.elapsed() - fault_at
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let refused_after = started.elapsed() - fault_at;
        assert_eq!(
            refused.status(),
            503,
            "{what}: the session node A cannot vouch for"
        );
        assert!(
            refused.headers().contains_key("retry-after"),
            "{what}: Retry-After on the 503"
        );
        assert!(
            refused_after <= FEED_STALE_AFTER + ANSWER_WITHIN,
            "{what}: refused only {refused_after:?} after the fault"
        );
        let ready = http
            .get(nodes.url(0, "/health/ready"))
            .send()
            .await
            .expect("ready");
        assert_eq!(ready.status(), 503, "{what}: node A is not ready");
        let body: serde_json::Value = ready.json().await.expect("a JSON body");
        assert_eq!(body["code"], "not_ready", "{what}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("Change feed not heard")),
            "{what}: readiness names the silent feed: {body}"
        );

        let until = fault_at + FAULT_LASTS;
        tokio::time::sleep(until.saturating_sub(started.elapsed())).await;
        stop.send_replace(true);
        for client in busy {
            client.await.expect("a busy client");
        }
        let samples = std::mem::take(&mut *samples.lock().expect("samples"));
        check_samples(&what, &samples, fault_at);

        // The path opens again: node A serves without a restart.
        path.set(Fault::None);
        let opened = Instant::now();
        loop {
            let status =
                get_status(&http, nodes.url(0, "/api/auth/sessions"), &staying.bearer()).await;
            if status == 200 {
                break;
            }
            assert!(
                opened.elapsed() < HOLD_AT_MOST,
                "{what}: node A still answers {status} {:?} after the database came back",
                opened.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "{what}: the signed-out session refused {refused_after:?} after the fault; \
             node A served again {:?} after the path opened",
            opened.elapsed()
        );
        let status = get_status(&http, nodes.url(0, "/api/test/user"), &leaving.bearer()).await;
        assert_eq!(
            status, 401,
            "{what}: the session signed out during the fault stays refused"
        );
        // Ready again at its next poll of the feed.
        loop {
            let ready = http
                .get(nodes.url(0, "/health/ready"))
                .send()
                .await
                .expect("ready");
            if ready.status() == 200 {
                break;
            }
            assert!(
                opened.elapsed() < HOLD_AT_MOST,
                "{what}: node A not ready {:?} after the database came back",
                opened.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    drop(nodes);
}

fn check_samples(what: &str, samples: &[Sample], fault_at: Duration) {
    let before: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.began + s.took < fault_at)
        .collect();
    assert!(
        before.len() >= BUSY_CLIENTS && before.iter().all(|s| s.status == 200),
        "{what}: before the fault node A served the busy clients: {before:?}"
    );
    let held = samples
        .iter()
        .filter(|s| s.took > HOLD_AT_MOST)
        .collect::<Vec<_>>();
    assert!(
        held.is_empty(),
        "{what}: requests held more than {HOLD_AT_MOST:?}: {held:?}"
    );
    let odd: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.status != 200 && s.status != 503)
        .collect();
    assert!(
        odd.is_empty(),
        "{what}: answers other than 200 and 503: {odd:?}"
    );
    let without_retry: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.status == 503 && !s.retry_after)
        .collect();
    assert!(
        without_retry.is_empty(),
        "{what}: 503 without Retry-After: {without_retry:?}"
    );
    // Arrived after the fault (a moment's margin for the switch to reach the path).
    let after: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.began > fault_at + Duration::from_millis(50))
        .collect();
    assert!(
        after.len() >= BUSY_CLIENTS,
        "{what}: the busy clients went on: {}",
        after.len()
    );
    let slow: Vec<&&Sample> = after
        .iter()
        .filter(|s| s.status != 503 || s.took > ANSWER_WITHIN)
        .collect();
    assert!(
        slow.is_empty(),
        "{what}: requests after the fault not answered 503 within {ANSWER_WITHIN:?}: {slow:?}"
    );
    let longest = samples.iter().map(|s| s.took).max().unwrap_or_default();
    eprintln!(
        "{what}: {} requests ({} after the fault, all 503 within {:?}); the longest took {longest:?}",
        samples.len(),
        after.len(),
        after.iter().map(|s| s.took).max().unwrap_or_default()
    );
}
