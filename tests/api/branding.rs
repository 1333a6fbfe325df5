//! Branding (issue 27, docs/API.md §2 "Branding"), on every database: what every page reads
//! before anyone signs in, what only admins change (checked, audited, from the API and the
//! command line), and the logo Portcullis serves itself, as the image it says it is and
//! never as a document that could run a script.
use portcullis::domain::Role;
use reqwest::Method as M;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::oidc::{authorize_url, location, query_of, register};
use crate::on_every_database;

on_every_database!(
    the_defaults_are_served_to_anyone,
    an_admin_sets_name_colour_and_footer_link_and_it_is_audited,
    bad_branding_is_refused_with_the_rule,
    only_admins_change_branding,
    a_logo_is_stored_served_as_its_type_and_removed,
    logos_that_are_not_what_they_say_are_refused,
    another_site_cannot_set_the_logo_with_an_admins_cookies,
    the_command_line_sets_branding_and_a_logo,
    a_client_has_its_own_logo_on_its_consent_request,
);

const BRANDING: &str = "/api/admin/branding";
const LOGO: &str = "/api/admin/branding/logo";
/// The smallest PNG there is: a 1x1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

async fn send(
    app: &TestApp,
    method: M,
    path: &str,
    as_: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(auth) = as_ {
        request = request.header("Authorization", auth);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn upload(app: &TestApp, admin: &str, content_type: &str, bytes: &[u8]) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(LOGO))
        .header("Authorization", admin)
        .header("Content-Type", content_type)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn public(app: &TestApp) -> Value {
    let (status, body) = send(app, M::GET, "/api/branding", None, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn newest_audit(app: &TestApp, admin: &str) -> Value {
    let (_, page) = send(app, M::GET, "/api/admin/audit?limit=1", Some(admin), None).await;
    page["items"][0].clone()
}

async fn the_defaults_are_served_to_anyone(db: DbKind) {
    let app = TestApp::spawn(db).await;
    assert_eq!(
        public(&app).await,
        json!({"productName": "Portcullis", "primaryColor": null, "logoUrl": null, "footerLink": null})
    );
    let logo = app
        .client
        .get(app.url("/api/branding/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 404);
    app.stop().await;
}

async fn an_admin_sets_name_colour_and_footer_link_and_it_is_audited(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let wanted = json!({
        "productName": "  Acme ID ", "primaryColor": "#7A1FA2",
        "footerLink": {"text": "Privacy", "url": "https://example.com/privacy"},
    });
    let (status, body) = send(&app, M::PUT, BRANDING, Some(&admin), Some(wanted)).await;
    assert_eq!(status, 200, "{body}");
    let expected = json!({
        "productName": "Acme ID", "primaryColor": "#7a1fa2", "logoUrl": null,
        "footerLink": {"text": "Privacy", "url": "https://example.com/privacy"},
    });
    assert_eq!(body, expected);
    assert_eq!(public(&app).await, expected);
    let audited = newest_audit(&app, &admin).await;
    assert_eq!(audited["event"], "branding_changed", "{audited}");
    assert_eq!(
        audited["detail"],
        "branding: productName primaryColor footerLink"
    );
    assert_eq!(audited["actorUsername"], "root");

    // A PUT is the whole branding: what it leaves out goes back to the default.
    let (status, body) = send(
        &app,
        M::PUT,
        BRANDING,
        Some(&admin),
        Some(json!({"productName": "Acme ID"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["primaryColor"], Value::Null);
    assert_eq!(body["footerLink"], Value::Null);
    assert_eq!(
        newest_audit(&app, &admin).await["detail"],
        "branding: primaryColor footerLink"
    );
    let (status, body) = send(&app, M::PUT, BRANDING, Some(&admin), Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["productName"], "Portcullis");
    app.stop().await;
}

async fn bad_branding_is_refused_with_the_rule(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let cases = [
        (
            json!({"productName": ""}),
            "productName must be 1 to 60 characters.",
        ),
        (
            json!({"productName": "x".repeat(61)}),
            "productName must be 1 to 60 characters.",
        ),
        (
            json!({"primaryColor": "purple"}),
            "primaryColor must be a colour as #rrggbb.",
        ),
        (
            json!({"footerLink": {"text": "Home", "url": "javascript:alert(1)"}}),
            "footerLink.url must be an http or https URL of at most 2000 characters.",
        ),
        (
            json!({"footerLink": {"text": "", "url": "https://example.com"}}),
            "footerLink.text must be 1 to 60 characters.",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = send(&app, M::PUT, BRANDING, Some(&admin), Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["message"], message, "{body}");
        assert_eq!(answer["code"], "invalid_request", "{body}");
    }
    let (status, answer) = send(
        &app,
        M::PUT,
        BRANDING,
        Some(&admin),
        Some(json!({"productName": "Acme", "logo": "x"})),
    )
    .await;
    assert_eq!(status, 400, "unknown fields are refused: {answer}");
    assert_eq!(
        public(&app).await["productName"],
        "Portcullis",
        "nothing changed"
    );
    app.stop().await;
}

async fn only_admins_change_branding(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let user = app.user_session("alice", &[]).await.bearer();
    let moderator = app.user_session("mod", &[Role::Moderator]).await.bearer();
    let body = json!({"productName": "Mine now"});
    for (who, status) in [
        (None, 401),
        (Some(user.as_str()), 403),
        (Some(moderator.as_str()), 403),
    ] {
        let (got, answer) = send(&app, M::PUT, BRANDING, who, Some(body.clone())).await;
        assert_eq!(got, status, "{answer}");
        let (got, _) = send(&app, M::DELETE, LOGO, who, None).await;
        assert_eq!(got, status);
    }
    let (got, _) = upload(&app, &user, "image/png", PNG).await;
    assert_eq!(got, 403);
    assert_eq!(public(&app).await["productName"], "Portcullis");
    app.stop().await;
}

async fn a_logo_is_stored_served_as_its_type_and_removed(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let (status, body) = upload(&app, &admin, "image/png", PNG).await;
    assert_eq!(status, 200, "{body}");
    let url = body["logoUrl"].as_str().expect("a logo URL").to_string();
    assert!(url.starts_with("/api/branding/logo?v="), "{url}");
    assert_eq!(public(&app).await["logoUrl"], url.as_str());
    assert_eq!(
        newest_audit(&app, &admin).await["detail"],
        format!("branding: logo (image/png, {} bytes)", PNG.len())
    );

    let served = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    let header = |name: &str| served.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "image/png");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-security-policy").contains("sandbox"));
    assert_eq!(
        header("cache-control"),
        "public, max-age=31536000, immutable",
        "the versioned URL changes with the logo"
    );
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    let unversioned = app
        .client
        .get(app.url("/api/branding/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(unversioned.headers()["cache-control"], "no-cache");

    // An SVG is served sandboxed: opened on its own, its script cannot run in our origin.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script><rect width="10" height="10"/></svg>"#;
    let (status, body) = upload(&app, &admin, "image/svg+xml", svg).await;
    assert_eq!(status, 200, "{body}");
    let served = app
        .client
        .get(app.url(body["logoUrl"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    let csp = served.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );

    let (status, body) = send(&app, M::DELETE, LOGO, Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["logoUrl"], Value::Null);
    assert_eq!(
        newest_audit(&app, &admin).await["detail"],
        "branding: logo removed"
    );
    let gone = app
        .client
        .get(app.url("/api/branding/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    // Removing none is no change.
    let (status, _) = send(&app, M::DELETE, LOGO, Some(&admin), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        newest_audit(&app, &admin).await["detail"],
        "branding: logo removed"
    );
    app.stop().await;
}

async fn logos_that_are_not_what_they_say_are_refused(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let (status, body) = upload(&app, &admin, "text/html", b"<script>alert(1)</script>").await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["code"], "unsupported_media_type");
    let (status, body) = upload(&app, &admin, "image/jpeg", PNG).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "logo_invalid");
    let (status, body) = upload(&app, &admin, "image/svg+xml", b"<html><script>x</script>").await;
    assert_eq!(status, 400, "{body}");
    let big = [PNG, &vec![0u8; 64 * 1024][..]].concat();
    let (status, body) = upload(&app, &admin, "image/png", &big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(public(&app).await["logoUrl"], Value::Null, "nothing stored");
    app.stop().await;
}

async fn the_command_line_sets_branding_and_a_logo(db: DbKind) {
    let db = TestDb::create(&db).await;
    let run = |args: &[&str]| {
        let out = binary_on(&db.url).args(args).output().expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, stderr) = run(&["migrate"]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = run(&[
        "branding",
        "set",
        "--product-name",
        "Acme ID",
        "--primary-color",
        "#7a1fa2",
        "--footer-text",
        "Privacy",
        "--footer-url",
        "https://example.com/privacy",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("product name: Acme ID"), "{stdout}");
    // What is not named stays.
    let (ok, stdout, stderr) = run(&["branding", "set", "--primary-color", "none"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("product name: Acme ID"), "{stdout}");
    assert!(stdout.contains("primary colour: none"), "{stdout}");
    assert!(
        stdout.contains("footer link: Privacy <https://example.com/privacy>"),
        "{stdout}"
    );
    // A refusal is one line with the rule, and changes nothing.
    let (ok, _, stderr) = run(&["branding", "set", "--primary-color", "purple"]);
    assert!(!ok);
    assert!(
        stderr.contains("primaryColor must be a colour as #rrggbb."),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.png");
    std::fs::write(&logo, PNG).unwrap();
    let (ok, stdout, stderr) = run(&["branding", "logo", logo.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("logo: set"), "{stdout}");
    let fake = dir.path().join("logo.jpg");
    std::fs::write(&fake, PNG).unwrap();
    let (ok, _, stderr) = run(&["branding", "logo", fake.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("not an image of type image/jpeg"),
        "{stderr}"
    );

    let app = TestApp::spawn_on(db, |_| {}).await;
    let body = public(&app).await;
    assert_eq!(body["productName"], "Acme ID");
    assert_eq!(body["primaryColor"], Value::Null);
    assert!(body["logoUrl"].is_string(), "{body}");
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let (_, page) = send(
        &app,
        M::GET,
        "/api/admin/audit?limit=10",
        Some(&admin),
        None,
    )
    .await;
    let from_cli: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["event"] == "branding_changed")
        .collect();
    assert_eq!(from_cli.len(), 3, "{page}");
    assert!(from_cli
        .iter()
        .all(|i| i["via"] == "cli" && i["actorId"].is_null()));
    app.stop().await;
}

async fn a_client_has_its_own_logo_on_its_consent_request(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await.bearer();
    let rp = register(&app, true, None).await;
    let path = format!("/api/admin/clients/{}/logo", rp.client_id);
    let response = app
        .client
        .put(app.url(&path))
        .header("Authorization", &admin)
        .header("Content-Type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let item: Value = response.json().await.unwrap();
    let url = item["logoUrl"].as_str().expect("a logo URL").to_string();
    assert!(
        url.starts_with(&format!("/api/branding/clients/{}/logo?v=", rp.client_id)),
        "{url}"
    );
    let audited = newest_audit(&app, &admin).await;
    assert_eq!(audited["event"], "client_updated");
    assert_eq!(audited["clientId"], rp.client_id.as_str());
    let (_, list) = send(&app, M::GET, "/api/admin/clients", Some(&admin), None).await;
    assert_eq!(list[0]["logoUrl"], url.as_str(), "{list}");

    // Anyone may fetch it, as the product's: the image it is, sandboxed.
    let served = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(served.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // The consent request names it, for a visitor not signed in yet (the login page).
    let (status, to) = location(&app, &authorize_url(&rp, &[]), None).await;
    assert_eq!(status, 302, "{to}");
    let request = query_of(&to)["request"].clone();
    let (status, view) = send(
        &app,
        M::GET,
        &format!("/api/oauth/requests/{request}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["client"]["logoUrl"], url.as_str(), "{view}");

    let user = app.user_session("alice", &[]).await.bearer();
    let (status, _) = send(&app, M::DELETE, &path, Some(&user), None).await;
    assert_eq!(status, 403, "admins only");
    let (status, item) = send(&app, M::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 200);
    assert_eq!(item["logoUrl"], Value::Null);
    let (_, view) = send(
        &app,
        M::GET,
        &format!("/api/oauth/requests/{request}"),
        None,
        None,
    )
    .await;
    assert_eq!(view["client"]["logoUrl"], Value::Null);
    let (status, _) = send(
        &app,
        M::DELETE,
        "/api/admin/clients/nobody/logo",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // A deleted client's logo goes with it.
    let response = app
        .client
        .put(app.url(&path))
        .header("Authorization", &admin)
        .header("Content-Type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _) = send(
        &app,
        M::DELETE,
        &format!("/api/admin/clients/{}", rp.client_id),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let gone = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    app.stop().await;
}

/// A stolen admin cookie used from another site (cross-site request forgery): the guard
/// refuses it before the route; a request from no browser at all needs the token itself.
async fn another_site_cannot_set_the_logo_with_an_admins_cookies(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    for (method, path) in [(M::PUT, LOGO), (M::PUT, BRANDING)] {
        let response = app
            .client
            .request(method, app.url(path))
            .header("Cookie", admin.cookie_header())
            .header("Origin", "http://evil.example")
            .header("Content-Type", "image/svg+xml")
            .body(r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "csrf", "{path}");
    }
    assert_eq!(public(&app).await["logoUrl"], Value::Null, "nothing stored");
    // The same admin's own page (same origin) may.
    let response = app
        .client
        .put(app.url(LOGO))
        .header("Cookie", admin.cookie_header())
        .header("Origin", app.url(""))
        .header("Content-Type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.stop().await;
}
