//! GET /api/auth/forward (issue 15, docs/API.md §2): what a reverse proxy's `auth_request`
//! asks before it lets a request through, on every database.
use std::time::Duration;

use portcullis::domain::Role;
use serde_json::json;

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    a_live_session_passes_with_the_account_in_headers,
    no_session_or_an_ended_one_is_401_and_a_missing_role_403,
    forward_never_spends_a_refresh_token_and_resume_brings_the_browser_back,
);

const FORWARD: &str = "/api/auth/forward";

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

async fn a_live_session_passes_with_the_account_in_headers(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[Role::Moderator]).await;
    let response = get_as(&app, FORWARD, &alice).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-portcullis-user").as_deref(),
        Some("alice")
    );
    assert_eq!(
        header(&response, "x-portcullis-user-id"),
        Some(alice.body["id"].to_string())
    );
    assert_eq!(
        header(&response, "x-portcullis-roles").as_deref(),
        Some("user,moderator")
    );
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(response.text().await.unwrap(), "");

    // A browser's cookies do as well as a header.
    let response = app
        .get_with(FORWARD, ("Cookie", &alice.cookie_header()))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-portcullis-user").as_deref(),
        Some("alice")
    );

    // Roles: the one asked for, or admin, which passes every check.
    let response = get_as(&app, &format!("{FORWARD}?role=moderator"), &alice).await;
    assert_eq!(response.status(), 200);
    let root = app.user_session("root", &[Role::Admin]).await;
    let response = get_as(&app, &format!("{FORWARD}?role=moderator"), &root).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-portcullis-roles").as_deref(),
        Some("user,admin")
    );
    app.stop().await;
}

async fn no_session_or_an_ended_one_is_401_and_a_missing_role_403(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let response = app.get(FORWARD).await;
    assert_error(response, 401, "No token provided!", "unauthenticated").await;
    let response = app
        .get_with(FORWARD, ("Authorization", "Bearer not.a.token"))
        .await;
    assert_eq!(response.status(), 401);
    assert!(header(&response, "x-portcullis-user").is_none());

    let bob = app.user_session("bob", &[]).await;
    let response = get_as(&app, &format!("{FORWARD}?role=admin"), &bob).await;
    assert_eq!(response.status(), 403);
    assert!(header(&response, "x-portcullis-user").is_none());
    // Issue 25: any role an admin defines may be asked for, so a well-formed name that no
    // one holds (or that is not defined yet) is refused as not held, not as malformed.
    let response = get_as(&app, &format!("{FORWARD}?role=root"), &bob).await;
    assert_error(
        response,
        403,
        "The account lacks the role this asks for.",
        "forbidden",
    )
    .await;
    let response = get_as(&app, &format!("{FORWARD}?role=ro"), &bob).await;
    assert_error(
        response,
        400,
        "A role name is 3 to 20 characters of A-Z, a-z, 0-9, '.', '_' and '-'.",
        "invalid_request",
    )
    .await;
    let response = get_as(&app, &format!("{FORWARD}?other=1"), &bob).await;
    assert_eq!(response.status(), 400);

    let response = post_as(&app, "/api/auth/signout", &bob, json!({})).await;
    assert_eq!(response.status(), 200);
    let response = get_as(&app, FORWARD, &bob).await;
    assert_eq!(response.status(), 401, "an ended session no longer passes");
    app.stop().await;
}

/// Issue 22, item 2: a proxy drops the cookies on forward's answer, so forward must never
/// rotate the refresh token (the browser would keep the spent one, and its next use would
/// end the session as theft). A lapsed access cookie is a 401 there; `GET /api/auth/resume`,
/// a top-level navigation, refreshes the session and goes back.
async fn forward_never_spends_a_refresh_token_and_resume_brings_the_browser_back(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await;
    let cookies = alice.cookie_header();
    app.clock.advance(Duration::from_secs(16 * 60));
    for _ in 0..2 {
        let response = app.get_with(FORWARD, ("Cookie", &cookies)).await;
        assert_eq!(response.status(), 401);
        assert!(
            response.headers().get("set-cookie").is_none(),
            "forward sets no cookie"
        );
    }

    // Past the reuse interval, the refresh token is still unspent: resume refreshes it.
    app.clock.advance(Duration::from_secs(30));
    let resume = |query: &str, cookies: Option<&str>| {
        let mut request = app
            .client
            .get(app.url(&format!("/api/auth/resume?{query}")));
        if let Some(c) = cookies {
            request = request.header("Cookie", c);
        }
        request.send()
    };
    let back = resume("returnUrl=%2Fapp%2Fpage%3Fx%3D1", Some(&cookies))
        .await
        .unwrap();
    assert_eq!(back.status(), 302);
    assert_eq!(back.headers()["location"], "/app/page?x=1");
    let fresh = set_cookies(back.headers());
    let header: String = fresh
        .values()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    assert_eq!(
        fresh.len(),
        3,
        "new access, refresh and single sign-on cookies: {header}"
    );
    let response = app.get_with(FORWARD, ("Cookie", &header)).await;
    assert_eq!(response.status(), 200);
    let audit = portcullis::store::audit::list(&app.state().db, 500, None)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|r| r.event == "refresh"),
        "the resume refreshed"
    );
    assert!(
        !audit.iter().any(|r| r.event == "refresh_reuse"),
        "no false alarm"
    );

    // As nginx passes it: `$request_uri` unencoded, its whole query kept.
    let raw = resume("returnUrl=/app/page?a=1&b=2%20c", Some(&header))
        .await
        .unwrap();
    assert_eq!(raw.status(), 302);
    assert_eq!(raw.headers()["location"], "/app/page?a=1&b=2%20c");

    // Not signed in: the login page, and back afterwards; a foreign address is refused.
    let login = resume("returnUrl=%2Fapp%2F", None).await.unwrap();
    assert_eq!(login.status(), 302);
    assert_eq!(login.headers()["location"], "/login?returnUrl=%2Fapp%2F");
    for bad in [
        "returnUrl=https%3A%2F%2Fevil.example%2F",
        "returnUrl=%2F%2Fevil.example%2F",
        "returnUrl=%2F%5Cevil.example",
        "returnUrl=javascript%3Aalert(1)",
        "returnUrl=//evil.example/",
        "returnUrl=/\\evil.example",
        "",
    ] {
        let refused = resume(bad, Some(&header)).await.unwrap();
        assert_eq!(refused.status(), 400, "{bad}");
    }
    let own = resume(
        &format!(
            "returnUrl={}",
            urlencode(&format!("{}/app/", app.settings.public_base()))
        ),
        Some(&header),
    )
    .await
    .unwrap();
    assert_eq!(own.status(), 302, "the public URL's origin is allowed");
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
