//! Several nodes on one database behave as one service: tokens, revocations, role changes
//! and refresh rotation hold whichever node a request reaches. Each test runs with the
//! database as the only shared store, and again with Redis carrying cache events and
//! throttle counters (`PORTCULLIS_REDIS_URL`), where it also checks that Redis, not the
//! database, carried them.
use std::time::{Duration, Instant};

use futures::future::join_all;
use portcullis::domain::Role;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;

/// What the nodes share besides the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Database,
    Redis,
}

macro_rules! through_database_and_redis {
    ($($name:ident),* $(,)?) => {
        mod through_database {
            use crate::helpers::DbKind;
            $(pub async fn $name(db: DbKind) {
                super::$name(db, super::Link::Database).await
            })*
            crate::on_every_database!($($name),*);
        }
        mod through_redis {
            use crate::helpers::DbKind;
            $(pub async fn $name(db: DbKind) {
                if crate::helpers::test_redis_url().is_none() {
                    eprintln!("not run with Redis: PORTCULLIS_TEST_REDIS_URL is unset");
                    return;
                }
                super::$name(db, super::Link::Redis).await
            })*
            crate::on_every_database!($($name),*);
        }
    };
}

through_database_and_redis!(
    a_token_from_one_node_is_accepted_by_another,
    a_signout_on_one_node_is_refused_by_the_other_within_a_second,
    a_demotion_on_one_node_applies_on_the_other_within_a_second,
    concurrent_refreshes_on_two_nodes_rotate_once,
    failed_signins_are_counted_across_nodes,
    rights_changed_on_one_node_apply_on_the_other_within_a_second,
);

on_every_database!(
    nodes_making_their_first_key_together_share_one,
    an_unreachable_redis_leaves_the_database_to_do_both_jobs,
    admins_on_two_nodes_cannot_remove_the_last_admin_together,
    a_redis_partition_still_ends_sessions_everywhere_within_a_second,
);

/// Nodes started together on an empty database each look for a signing key, find none and
/// make one: they must take turns, or each would sign with a key the others never loaded
/// (until their next reload) and refuse the others' tokens.
async fn nodes_making_their_first_key_together_share_one(kind: DbKind) {
    use portcullis::auth::{key_store, keys};
    let db = TestDb::create(&kind).await;
    let mut nodes = Vec::new();
    for _ in 0..4 {
        let node = portcullis::db::Db::connect(&db.url).await.expect("connect");
        portcullis::db::migrate(&node).await.expect("migrate");
        nodes.push(node);
    }
    let sealer = keys::Sealer::new(None);
    let now = portcullis::clock::Clock::default().now_ms();
    let rings = join_all(
        nodes
            .iter()
            .map(|node| key_store::ensure(node, &sealer, now)),
    )
    .await;
    let kids: Vec<Vec<String>> = rings
        .into_iter()
        .map(|ring| {
            let ring = ring.expect("keys");
            ring.keys().iter().map(|k| k.kid.clone()).collect()
        })
        .collect();
    assert_eq!(kids[0].len(), 3, "one key of each algorithm made: {kids:?}");
    assert!(
        kids.iter().all(|k| *k == kids[0]),
        "every node has it: {kids:?}"
    );
}

async fn two_nodes(kind: DbKind, link: Link) -> (TestApp, TestApp) {
    two_nodes_with(kind, link, |_| {}).await
}

async fn two_nodes_with(
    kind: DbKind,
    link: Link,
    configure: impl Fn(&mut portcullis::config::Settings),
) -> (TestApp, TestApp) {
    let configure = |s: &mut portcullis::config::Settings| {
        if link == Link::Redis {
            s.redis_url = test_redis_url().map(Into::into);
        }
        configure(s);
    };
    let db = TestDb::create(&kind).await;
    let second = db.shared();
    let a = TestApp::spawn_on(db, configure).await;
    let b = TestApp::spawn_on(second, configure).await;
    (a, b)
}

async fn rows(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    sqlx::query_scalar(&sql)
        .fetch_one(&app.state().db.pool)
        .await
        .unwrap()
}

/// With Redis the events table stays empty (Redis carried them); without, it holds them.
async fn assert_events_went_through(app: &TestApp, link: Link) {
    let events = rows(app, "cache_events").await;
    match link {
        Link::Redis => assert_eq!(events, 0, "events went through the database"),
        Link::Database => assert!(events > 0, "no event in the database"),
    }
}

/// Polls `check` on a node until it holds, returning how long that took (at most 3 s).
async fn time_until(check: impl AsyncFn() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the change never reached the other node");
}

async fn status_of(app: &TestApp, path: &str, bearer: &str) -> u16 {
    app.get_with(path, ("Authorization", bearer))
        .await
        .status()
        .as_u16()
}

async fn a_token_from_one_node_is_accepted_by_another(db: DbKind, link: Link) {
    let (a, b) = two_nodes(db, link).await;
    let session = a.user_session("roamer", &[]).await;
    assert_eq!(
        status_of(&b, "/api/test/user", &session.bearer()).await,
        200
    );
    let refreshed = b
        .post(
            "/api/auth/refreshtoken",
            json!({"refreshToken": session.refresh}),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    b.stop().await;
    a.stop().await;
}

async fn a_signout_on_one_node_is_refused_by_the_other_within_a_second(db: DbKind, link: Link) {
    let (a, b) = two_nodes(db, link).await;
    let session = a.user_session("leaver", &[]).await;
    let bearer = session.bearer();
    // The other node has the session cached as live.
    assert_eq!(status_of(&b, "/api/test/user", &bearer).await, 200);
    let signout = a
        .client
        .post(a.url("/api/auth/signout"))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(signout.status(), 200);
    let took = time_until(async || status_of(&b, "/api/test/user", &bearer).await == 401).await;
    eprintln!("signout reached the other node in {took:?} ({link:?})");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_events_went_through(&a, link).await;
    b.stop().await;
    a.stop().await;
}

async fn a_demotion_on_one_node_applies_on_the_other_within_a_second(db: DbKind, link: Link) {
    let (a, b) = two_nodes(db, link).await;
    let admin = a.user_session("chief", &[Role::Admin]).await;
    let moderator = a.user_session("deputy", &[Role::Moderator]).await;
    let id = moderator.body["id"].as_i64().unwrap();
    assert_eq!(
        status_of(&b, "/api/test/mod", &moderator.bearer()).await,
        200
    );
    let demote = a
        .client
        .patch(a.url(&format!("/api/admin/users/{id}")))
        .header("Authorization", admin.bearer())
        .json(&json!({"roles": ["user"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(demote.status(), 200);
    let took =
        time_until(async || status_of(&b, "/api/test/mod", &moderator.bearer()).await == 403).await;
    eprintln!("demotion reached the other node in {took:?} ({link:?})");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_events_went_through(&a, link).await;
    b.stop().await;
    a.stop().await;
}

async fn concurrent_refreshes_on_two_nodes_rotate_once(db: DbKind, link: Link) {
    let (a, b) = two_nodes(db, link).await;
    let session = a.user_session("twins", &[]).await;
    let token = session.refresh.clone().unwrap();
    let calls = (0..12).map(|i| {
        let node = if i % 2 == 0 { &a } else { &b };
        node.post("/api/auth/refreshtoken", json!({"refreshToken": token}))
    });
    let mut successors = std::collections::BTreeSet::new();
    for response in join_all(calls).await {
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        successors.insert(body["refreshToken"].as_str().unwrap().to_string());
    }
    assert_eq!(
        successors.len(),
        1,
        "one rotation, one successor: {successors:?}"
    );
    b.stop().await;
    a.stop().await;
}

async fn failed_signins_are_counted_across_nodes(db: DbKind, link: Link) {
    let (a, b) = two_nodes_with(db, link, |s| s.throttle_account_failures = 4).await;
    a.create_user("guarded", &[]).await;
    // Alternate nodes: neither sees the limit alone, together they reach it.
    for (i, login) in ["guarded", "guarded@example.com", "GUARDED", "guarded"]
        .iter()
        .enumerate()
    {
        let node = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            node.signin_raw(login, "not the password").await.status(),
            401
        );
    }
    assert_eq!(a.signin_raw("guarded", PASSWORD).await.status(), 429);
    assert_eq!(b.signin_raw("guarded", PASSWORD).await.status(), 429);
    // Unknown usernames are counted across nodes the same way.
    for i in 0..4 {
        let node = if i % 2 == 0 { &b } else { &a };
        assert_eq!(
            node.signin_raw("ghost-user", "not the password")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        a.signin_raw("ghost-user", "not the password")
            .await
            .status(),
        429
    );
    let windows = rows(&a, "throttle_windows").await;
    match link {
        Link::Redis => assert_eq!(windows, 0, "counted in the database, not Redis"),
        Link::Database => assert!(windows > 0),
    }
    b.stop().await;
    a.stop().await;
}

/// Redis configured but not answering (nothing listens on port 1): both nodes still
/// serve, a signout still reaches the other node within a second (events fall back to
/// the table), and failures are still counted across nodes (in the database).
async fn an_unreachable_redis_leaves_the_database_to_do_both_jobs(db: DbKind) {
    let (a, b) = two_nodes_with(db, Link::Database, |s| {
        s.redis_url = Some("redis://127.0.0.1:1".into());
        s.throttle_account_failures = 2;
    })
    .await;
    let session = a.user_session("stranded", &[]).await;
    let bearer = session.bearer();
    assert_eq!(status_of(&b, "/api/test/user", &bearer).await, 200);
    let signout = a
        .client
        .post(a.url("/api/auth/signout"))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(signout.status(), 200);
    let took = time_until(async || status_of(&b, "/api/test/user", &bearer).await == 401).await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(rows(&a, "cache_events").await > 0);

    a.create_user("fallback", &[]).await;
    assert_eq!(a.signin_raw("fallback", "wrong").await.status(), 401);
    assert_eq!(b.signin_raw("fallback", "wrong").await.status(), 401);
    assert_eq!(a.signin_raw("fallback", PASSWORD).await.status(), 429);
    b.stop().await;
    a.stop().await;
}

async fn set_roles_as(node: &TestApp, admin: &Session, id: i64, roles: &[&str]) -> u16 {
    node.client
        .patch(node.url(&format!("/api/admin/users/{id}")))
        .header("Authorization", admin.bearer())
        .json(&json!({ "roles": roles }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Two admins, one on each node, each removing the other (or themselves) at the same
/// moment: one change wins and one admin always remains, round after round.
async fn admins_on_two_nodes_cannot_remove_the_last_admin_together(db: DbKind) {
    let (a, b) = two_nodes(db, Link::Database).await;
    let mut x = a.user_session("admin-0", &[Role::Admin]).await;
    let mut y = b.user_session("admin-1", &[Role::Admin]).await;
    for round in 0..6 {
        let (x_id, y_id) = (
            x.body["id"].as_i64().unwrap(),
            y.body["id"].as_i64().unwrap(),
        );
        // Even rounds: each removes the other; odd rounds: each removes themselves.
        let (x_target, y_target) = if round % 2 == 0 {
            (y_id, x_id)
        } else {
            (x_id, y_id)
        };
        let (on_a, on_b) = tokio::join!(
            set_roles_as(&a, &x, x_target, &["user"]),
            set_roles_as(&b, &y, y_target, &["user"]),
        );
        let mut statuses = [on_a, on_b];
        statuses.sort();
        let refused = if round % 2 == 0 { 403 } else { 409 };
        assert_eq!(
            statuses,
            [200, refused],
            "round {round}: {on_a} on a, {on_b} on b"
        );
        let admins = portcullis::store::users::count_active_admins_except(&a.state().db, -1)
            .await
            .unwrap();
        assert_eq!(admins, 1, "round {round}");
        // The survivor makes a new admin on the other node for the next round.
        let survivor = if (on_a == 200) == (round % 2 == 0) {
            x
        } else {
            y
        };
        let fresh = b.user_session(&format!("admin-{}", round + 2), &[]).await;
        let fresh_id = fresh.body["id"].as_i64().unwrap();
        assert_eq!(
            set_roles_as(&a, &survivor, fresh_id, &["user", "admin"]).await,
            200
        );
        (x, y) = (survivor, fresh);
    }
    b.stop().await;
    a.stop().await;
}

async fn until_subscribed(nodes: &[&TestApp]) {
    let started = Instant::now();
    while !nodes
        .iter()
        .all(|n| n.state().redis.as_ref().unwrap().is_subscribed())
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never subscribed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn signout(node: &TestApp, session: &Session) {
    let response = node
        .client
        .post(node.url("/api/auth/signout"))
        .header("Authorization", session.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Redis goes silent (a partition: connections stay open, nothing answers) and comes back.
/// Meanwhile sessions still end on every node within a second and failures are still
/// counted across nodes; afterwards events travel through Redis again.
async fn a_redis_partition_still_ends_sessions_everywhere_within_a_second(db: DbKind) {
    let Some(redis) = test_redis_url() else {
        eprintln!("not run: PORTCULLIS_TEST_REDIS_URL is unset");
        return;
    };
    let relay = FaultyPath::start(&server_address(&redis)).await;
    let (a, b) = two_nodes_with(db, Link::Database, |s| {
        s.redis_url = Some(format!("redis://127.0.0.1:{}", relay.port).into());
        s.throttle_account_failures = 2;
    })
    .await;
    until_subscribed(&[&a, &b]).await;

    let before = a.user_session("islander", &[]).await;
    assert_eq!(status_of(&b, "/api/test/user", &before.bearer()).await, 200);
    relay.set(Fault::Blackhole);
    let started = Instant::now();
    signout(&a, &before).await;
    time_until(async || status_of(&b, "/api/test/user", &before.bearer()).await == 401).await;
    let took = started.elapsed();
    eprintln!("signout during a redis partition reached the other node in {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    a.create_user("cut-off", &[]).await;
    assert_eq!(a.signin_raw("cut-off", "wrong").await.status(), 401);
    assert_eq!(b.signin_raw("cut-off", "wrong").await.status(), 401);
    assert_eq!(a.signin_raw("cut-off", PASSWORD).await.status(), 429);

    relay.set(Fault::None);
    until_subscribed(&[&a, &b]).await;
    // Past the back-off after the failures above, publishing goes to Redis again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let events = rows(&a, "cache_events").await;
    let after = a.user_session("homecoming", &[]).await;
    assert_eq!(status_of(&b, "/api/test/user", &after.bearer()).await, 200);
    signout(&a, &after).await;
    let took =
        time_until(async || status_of(&b, "/api/test/user", &after.bearer()).await == 401).await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(
        rows(&a, "cache_events").await,
        events,
        "went through the database"
    );
    b.stop().await;
    a.stop().await;
}

/// Issue 25: a group membership, a role's permissions and an API key changed on one node
/// grant or refuse on the other within the change feed's bound.
async fn rights_changed_on_one_node_apply_on_the_other_within_a_second(db: DbKind, link: Link) {
    let (a, b) = two_nodes(db, link).await;
    let admin = a.user_session("chief", &[Role::Admin]).await.bearer();
    let send = async |method: reqwest::Method,
                      path: &str,
                      bearer: &str,
                      body: Option<serde_json::Value>| {
        let mut request = a
            .client
            .request(method, a.url(path))
            .header("Authorization", bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (
            status,
            response
                .json::<serde_json::Value>()
                .await
                .unwrap_or_default(),
        )
    };
    use reqwest::Method as M;
    assert_eq!(
        send(
            M::POST,
            "/api/admin/permissions",
            &admin,
            Some(json!({"name": "ledger:write"}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        send(
            M::POST,
            "/api/admin/roles",
            &admin,
            Some(json!({"name": "booker", "permissions": ["ledger:write"]}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        send(
            M::POST,
            "/api/admin/groups",
            &admin,
            Some(json!({"name": "finance", "roles": ["booker"]}))
        )
        .await
        .0,
        201
    );
    let member = a.user_session("member", &[]).await;
    let id = member.body["id"].as_i64().unwrap();
    let bearer = member.bearer();
    let check = "/api/auth/forward?permission=ledger:write";
    // The other node has the member cached, without the permission.
    assert_eq!(status_of(&b, check, &bearer).await, 403);
    let members = format!("/api/admin/groups/finance/members/{id}");
    assert_eq!(send(M::PUT, &members, &admin, None).await.0, 204);
    let took = time_until(async || status_of(&b, check, &bearer).await == 200).await;
    eprintln!("a membership reached the other node in {took:?} ({link:?})");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // A key made on one node works on the other; its permission goes with the role's.
    let (status, key) = send(
        M::POST,
        "/api/auth/api-keys",
        &bearer,
        Some(json!({"name": "k", "permissions": ["ledger:write"]})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let key_bearer = format!("Bearer {}", key["key"].as_str().unwrap());
    assert_eq!(status_of(&b, check, &key_bearer).await, 200);
    assert_eq!(
        send(
            M::PATCH,
            "/api/admin/roles/booker",
            &admin,
            Some(json!({"permissions": []}))
        )
        .await
        .0,
        200
    );
    let took = time_until(async || status_of(&b, check, &bearer).await == 403).await;
    eprintln!("a role's permissions reached the other node in {took:?} ({link:?})");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(status_of(&b, check, &key_bearer).await, 403);
    assert_eq!(
        send(
            M::PATCH,
            "/api/admin/roles/booker",
            &admin,
            Some(json!({"permissions": ["ledger:write"]}))
        )
        .await
        .0,
        200
    );
    time_until(async || status_of(&b, check, &key_bearer).await == 200).await;
    // Revoked on one node: refused on the other.
    let key_id = key["id"].as_i64().unwrap();
    assert_eq!(
        send(
            M::DELETE,
            &format!("/api/auth/api-keys/{key_id}"),
            &bearer,
            None
        )
        .await
        .0,
        204
    );
    let took = time_until(async || status_of(&b, "/api/test/user", &key_bearer).await == 401).await;
    eprintln!("a key's revocation reached the other node in {took:?} ({link:?})");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // Out of the group on one node: refused on the other.
    assert_eq!(send(M::DELETE, &members, &admin, None).await.0, 204);
    let took = time_until(async || status_of(&b, check, &bearer).await == 403).await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_events_went_through(&a, link).await;
    b.stop().await;
    a.stop().await;
}
