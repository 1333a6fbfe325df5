//! Several nodes on one database behave as one service: tokens, revocations, role changes
//! and refresh rotation hold whichever node a request reaches.
use std::time::{Duration, Instant};

use futures::future::join_all;
use portcullis::domain::Role;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    a_token_from_one_node_is_accepted_by_another,
    a_signout_on_one_node_is_refused_by_the_other_within_a_second,
    a_demotion_on_one_node_applies_on_the_other_within_a_second,
    concurrent_refreshes_on_two_nodes_rotate_once,
    failed_signins_are_counted_across_nodes,
);

async fn two_nodes(kind: DbKind) -> (TestApp, TestApp) {
    two_nodes_with(kind, |_| {}).await
}

async fn two_nodes_with(
    kind: DbKind,
    configure: impl Fn(&mut portcullis::config::Settings),
) -> (TestApp, TestApp) {
    let db = TestDb::create(&kind).await;
    let second = db.shared();
    let a = TestApp::spawn_on(db, &configure).await;
    let b = TestApp::spawn_on(second, &configure).await;
    (a, b)
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

async fn a_token_from_one_node_is_accepted_by_another(db: DbKind) {
    let (a, b) = two_nodes(db).await;
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

async fn a_signout_on_one_node_is_refused_by_the_other_within_a_second(db: DbKind) {
    let (a, b) = two_nodes(db).await;
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
    eprintln!("signout reached the other node in {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    b.stop().await;
    a.stop().await;
}

async fn a_demotion_on_one_node_applies_on_the_other_within_a_second(db: DbKind) {
    let (a, b) = two_nodes(db).await;
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
    eprintln!("demotion reached the other node in {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    b.stop().await;
    a.stop().await;
}

async fn concurrent_refreshes_on_two_nodes_rotate_once(db: DbKind) {
    let (a, b) = two_nodes(db).await;
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

async fn failed_signins_are_counted_across_nodes(db: DbKind) {
    let (a, b) = two_nodes_with(db, |s| s.throttle_account_failures = 4).await;
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
    b.stop().await;
    a.stop().await;
}
