//! Signing in with an upstream identity provider (issue 26, docs/API.md §2 "Signing in with a
//! provider"), on every database: the upstream is a second, real Portcullis on this machine
//! (its own SQLite database, its own port), configured as a generic OpenID Connect provider
//! of the first. The browser's part is played over HTTP: the start's redirect, the
//! upstream's authorization and consent for a signed-in person, and the callback with the
//! `state` cookie the start set. The login page's part is in the browser tests.
use portcullis::domain::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::oidc::query_of;
use crate::on_every_database;

on_every_database!(
    a_new_person_gets_an_account_and_comes_back_to_it,
    an_existing_email_is_never_linked_silently_only_by_its_signed_in_owner,
    bad_callbacks_end_on_the_login_page_with_nothing_made,
    the_signup_policy_and_disabled_accounts_hold,
    the_second_factor_rule_holds_unless_the_provider_is_trusted,
    the_last_way_to_sign_in_is_never_unlinked_by_its_account,
    an_openid_connect_clients_consent_continues_after_a_provider_sign_in,
);

/// The upstream Portcullis, on its own port, and the downstream one under test.
struct Pair {
    up: TestApp,
    down: TestApp,
    admin: String,
}

async fn spawn_at_own_url(
    db: DbKind,
    configure: impl FnOnce(&mut portcullis::config::Settings),
) -> TestApp {
    let port = free_port();
    TestApp::spawn_with(db, |s| {
        s.bind = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{port}");
        configure(s);
    })
    .await
}

async fn pair(db: DbKind, provider: Value) -> Pair {
    pair_with(db, provider, |_| {}).await
}

async fn pair_with(
    db: DbKind,
    provider: Value,
    configure: impl FnOnce(&mut portcullis::config::Settings),
) -> Pair {
    let up = spawn_at_own_url(DbKind::Sqlite, |_| {}).await;
    let down = spawn_at_own_url(db, configure).await;
    let callback = format!(
        "{}/api/auth/providers/up/callback",
        down.settings.public_base()
    );
    let registered = portcullis::service::clients::register(
        &up.state().db,
        &up.clock,
        portcullis::service::admin::Actor::CommandLine { force: false },
        portcullis::service::clients::NewClient {
            name: "Downstream Portcullis".into(),
            redirect_uris: vec![callback],
            post_logout_uris: vec![],
            public: false,
            scopes: None,
            id_token_alg: None,
            settings: Default::default(),
        },
    )
    .await
    .unwrap();
    let client_id = registered.client.client_id;
    let secret = registered.secret.unwrap();
    let mut body = json!({
        "displayName": "Upstream", "issuer": up.settings.public_base(), "clientId": client_id,
    });
    for (k, v) in provider.as_object().unwrap() {
        body[k] = v.clone();
    }
    portcullis::service::providers::create(
        ports(&down),
        portcullis::service::admin::Actor::CommandLine { force: false },
        portcullis::service::providers::NewProvider {
            id: "up".into(),
            kind: "oidc".into(),
            config: serde_json::from_value(body).unwrap(),
            client_secret: Some(secret.into()),
            enabled: true,
        },
    )
    .await
    .unwrap();
    // An admin, when accounts can sign in without a second factor.
    let admin = if down.settings.require_mfa_for().iter().next().is_none() {
        down.user_session("root", &[Role::Admin]).await.bearer()
    } else {
        String::new()
    };
    Pair { up, down, admin }
}

fn ports(app: &TestApp) -> portcullis::service::providers::Ports<'_> {
    let state = app.state();
    portcullis::service::providers::Ports {
        db: &state.db,
        clock: &app.clock,
        sealer: &state.provider_sealer,
    }
}

async fn upstream_person(p: &Pair, username: &str, verified: bool) -> Session {
    let id = p.up.create_user(username, &[]).await;
    if verified {
        let db = &p.up.state().db;
        sqlx::query(&db.sql("UPDATE users SET email_verified_at = 1 WHERE id = ?"))
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    p.up.signin(username, PASSWORD).await
}

fn path_of(url: &str, base: &str) -> String {
    url.strip_prefix(base).unwrap_or(url).to_string()
}

/// The start: the state cookie, and the upstream authorization URL.
async fn start(p: &Pair, return_to: Option<&str>) -> (String, String) {
    let path = match return_to {
        Some(to) => format!("/api/auth/providers/up/start?returnTo={}", urlencode(to)),
        None => "/api/auth/providers/up/start".into(),
    };
    let response = p.down.client.get(p.down.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let to = location_header(&response);
    let cookies = set_cookies(response.headers());
    let state = cookies["portcullis_upstream"].clone();
    assert_eq!(state.attributes.get("httponly"), Some(&String::new()));
    assert_eq!(
        state.attributes.get("samesite").map(String::as_str),
        Some("Lax")
    );
    assert_eq!(
        state.attributes.get("path").map(String::as_str),
        Some("/api/auth/providers")
    );
    assert!(to.starts_with(&p.up.settings.public_base()), "{to}");
    (state.value, to)
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The upstream's part: authorize for the signed-in person, consent, and the redirect back.
async fn upstream_answer(p: &Pair, authorize: &str, person: &Session) -> String {
    let path = path_of(authorize, &p.up.settings.public_base());
    let response =
        p.up.client
            .get(p.up.url(&path))
            .header("Authorization", person.bearer())
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 302);
    let to = location_header(&response);
    let to = if to.starts_with("/oauth/consent") {
        let request = query_of(&to)["request"].clone();
        let answer = post_as(
            &p.up,
            &format!("/api/oauth/requests/{request}"),
            person,
            json!({"approve": true}),
        )
        .await;
        assert_eq!(answer.status(), 200);
        answer.json::<Value>().await.unwrap()["redirectTo"]
            .as_str()
            .unwrap()
            .to_string()
    } else {
        to
    };
    assert!(to.contains("/api/auth/providers/up/callback?"), "{to}");
    to
}

/// The callback as the browser with `state_cookie` makes it: its status and Location, and
/// the cookies it set.
async fn callback(
    p: &Pair,
    callback_url: &str,
    state_cookie: Option<&str>,
) -> (String, std::collections::HashMap<String, SetCookie>) {
    let path = path_of(callback_url, &p.down.settings.public_base());
    let mut request = p.down.client.get(p.down.url(&path));
    if let Some(state) = state_cookie {
        request = request.header("Cookie", format!("portcullis_upstream={state}"));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 303);
    (location_header(&response), set_cookies(response.headers()))
}

/// A whole sign-in; where the browser lands and the cookies it got.
async fn sign_in(
    p: &Pair,
    person: &Session,
) -> (String, std::collections::HashMap<String, SetCookie>) {
    let (state, authorize) = start(p, Some("/profile")).await;
    let back = upstream_answer(p, &authorize, person).await;
    callback(p, &back, Some(&state)).await
}

/// GET `path` at the downstream with the access cookie a sign-in set; the JSON body.
async fn get_as(
    p: &Pair,
    cookies: &std::collections::HashMap<String, SetCookie>,
    path: &str,
) -> Value {
    let access = &cookies["portcullis_access"].value;
    let response = p
        .down
        .client
        .get(p.down.url(path))
        .header("Cookie", format!("portcullis_access={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn me(p: &Pair, cookies: &std::collections::HashMap<String, SetCookie>) -> Value {
    get_as(p, cookies, "/api/auth/me").await
}

/// A request with a bearer token: its status and JSON body (null when none).
async fn send(app: &TestApp, method: reqwest::Method, path: &str, bearer: &str) -> (u16, Value) {
    let response = app
        .client
        .request(method, app.url(path))
        .header("Authorization", bearer)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn count(p: &Pair, table: &str) -> i64 {
    use sqlx::Row;
    let db = &p.down.state().db;
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn newest_audit(p: &Pair) -> Value {
    let response = p
        .down
        .client
        .get(p.down.url("/api/admin/audit?limit=1"))
        .header("Authorization", &p.admin)
        .send()
        .await
        .unwrap();
    response.json::<Value>().await.unwrap()["items"][0].clone()
}

async fn a_new_person_gets_an_account_and_comes_back_to_it(db: DbKind) {
    let p = pair(db, json!({"signup": "open"})).await;
    // A downstream account named as the person is upstream: the new one is named apart.
    p.down.create_user("ada", &[]).await;
    let ada = upstream_person(&p, "ada", true).await;
    // The upstream's ada has ada@example.com, which downstream's ada has too: make the
    // downstream one's differ, so that this is a new person, not a shared email.
    let db = &p.down.state().db;
    sqlx::query(&db.sql(
        "UPDATE users SET email = 'other@example.com', email_lower = 'other@example.com' \
         WHERE username = 'ada'",
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    let users_before = count(&p, "users").await;

    let (landed, cookies) = sign_in(&p, &ada).await;
    assert_eq!(landed, "/profile");
    for name in ["portcullis_access", "portcullis_refresh", "portcullis_sso"] {
        assert!(!cookies[name].value.is_empty(), "{name}");
    }
    assert_eq!(
        cookies["portcullis_upstream"].value, "",
        "the state is spent"
    );
    let first = me(&p, &cookies).await;
    assert_eq!(first["username"], "ada2", "{first}");
    assert_eq!(first["email"], "ada@example.com");
    assert_eq!(first["emailVerified"], true);
    assert_eq!(count(&p, "users").await, users_before + 1);
    assert_eq!(count(&p, "user_identities").await, 1);
    let audited = newest_audit(&p).await;
    assert_eq!(audited["event"], "signin_provider");
    assert_eq!(audited["outcome"], "ok");

    // The same identity again: the same account, nothing new.
    let (_, cookies) = sign_in(&p, &ada).await;
    let again = me(&p, &cookies).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(count(&p, "users").await, users_before + 1);
    // The session says how it was signed in.
    let sessions = get_as(&p, &cookies, "/api/auth/sessions").await;
    let current = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap();
    assert_eq!(current["method"], "provider");
    // The account has no password anyone knows.
    let status = p.down.signin_raw("ada2", PASSWORD).await.status();
    assert_eq!(status, 401);
    p.up.stop().await;
    p.down.stop().await;
}

async fn an_existing_email_is_never_linked_silently_only_by_its_signed_in_owner(db: DbKind) {
    let p = pair(db, json!({"signup": "open"})).await;
    let grace_id = p.down.create_user("grace", &[]).await;
    let upstream_grace = upstream_person(&p, "grace", true).await;

    // Same verified email, no link: refused, nothing made.
    let (landed, cookies) = sign_in(&p, &upstream_grace).await;
    assert_eq!(landed, "/login?error=provider_link_required");
    assert!(!cookies.contains_key("portcullis_access"));
    assert_eq!(count(&p, "user_identities").await, 0);
    let audited = newest_audit(&p).await;
    assert_eq!(audited["event"], "signin_provider");
    assert_eq!(audited["outcome"], "failed");
    assert_eq!(audited["detail"], "provider up: provider_link_required");

    // The owner signs in, and links.
    let grace = p.down.signin("grace", PASSWORD).await;
    let response = post_as(
        &p.down,
        "/api/auth/providers/up/link",
        &grace,
        json!({"returnTo": "/profile"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let state = set_cookies(response.headers())["portcullis_upstream"]
        .value
        .clone();
    let body: Value = response.json().await.unwrap();
    let authorize = body["redirectTo"].as_str().unwrap().to_string();
    let back = upstream_answer(&p, &authorize, &upstream_grace).await;
    let (landed, cookies) = callback(&p, &back, Some(&state)).await;
    assert_eq!(landed, "/profile");
    assert!(
        !cookies.contains_key("portcullis_access"),
        "a link signs nobody in"
    );
    assert_eq!(count(&p, "user_identities").await, 1);
    assert_eq!(newest_audit(&p).await["event"], "provider_linked");

    // Now the provider signs in to grace's own account.
    let (landed, cookies) = sign_in(&p, &upstream_grace).await;
    assert_eq!(landed, "/profile");
    assert_eq!(me(&p, &cookies).await["id"], grace_id);

    // Grace has a password: she may unlink, and the provider then no longer signs her in.
    let grace_bearer = p.down.signin("grace", PASSWORD).await.bearer();
    let listed = send(
        &p.down,
        reqwest::Method::GET,
        "/api/auth/identities",
        &grace_bearer,
    )
    .await;
    assert_eq!(listed.0, 200);
    let items = listed.1["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["provider"], "up");
    assert_eq!(items[0]["providerName"], "Upstream");
    assert_eq!(items[0]["email"], "grace@example.com");
    let path = format!("/api/auth/identities/{}", items[0]["id"]);
    assert_eq!(
        send(&p.down, reqwest::Method::DELETE, &path, &grace_bearer)
            .await
            .0,
        204
    );
    assert_eq!(newest_audit(&p).await["event"], "provider_unlinked");
    let (landed, _) = sign_in(&p, &upstream_grace).await;
    assert_eq!(landed, "/login?error=provider_link_required");

    // Another site cannot start a link with the browser's cookies (CSRF): 403, no state.
    let grace = p.down.signin("grace", PASSWORD).await;
    let cross_site = p
        .down
        .client
        .post(p.down.url("/api/auth/providers/up/link"))
        .header("Cookie", grace.cookie_header())
        .header("Origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert!(!set_cookies(cross_site.headers()).contains_key("portcullis_upstream"));
    let body: Value = cross_site.json().await.unwrap();
    assert_eq!(body["code"], "csrf");

    // Linking needs a recent sign-in (or the password), as adding a factor does: a stolen
    // session alone cannot add a way in that outlives it.
    p.down
        .clock
        .advance(std::time::Duration::from_secs(11 * 60));
    let grace = p.down.signin("grace", PASSWORD).await;
    p.down
        .clock
        .advance(std::time::Duration::from_secs(11 * 60));
    let response = post_as(&p.down, "/api/auth/providers/up/link", &grace, json!({})).await;
    assert_eq!(response.status(), 403);
    assert!(!set_cookies(response.headers()).contains_key("portcullis_upstream"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "reauthentication_required");
    // With the password it may.
    let response = post_as(
        &p.down,
        "/api/auth/providers/up/link",
        &grace,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), 200);
    p.up.stop().await;
    p.down.stop().await;
}

async fn bad_callbacks_end_on_the_login_page_with_nothing_made(db: DbKind) {
    let p = pair(db, json!({"signup": "open"})).await;
    let ada = upstream_person(&p, "ada", true).await;
    let users_before = count(&p, "users").await;

    // A callback without the browser's state cookie (another browser was sent it): the
    // state binds the answer to the browser that asked (RFC 6749 §10.12, RFC 9700 §4.7.1).
    let (state, authorize) = start(&p, None).await;
    let back = upstream_answer(&p, &authorize, &ada).await;
    let (landed, _) = callback(&p, &back, None).await;
    assert_eq!(landed, "/login?error=provider_state_invalid");
    // … and that state is spent: the right browser cannot use it after.
    let (landed, _) = callback(&p, &back, Some(&state)).await;
    assert_eq!(landed, "/login?error=provider_state_invalid");

    // A good one, replayed: the state is spent by the first (and the code with it, which
    // the upstream would refuse too, RFC 6749 §4.1.2).
    let (state, authorize) = start(&p, None).await;
    let back = upstream_answer(&p, &authorize, &ada).await;
    let (landed, _) = callback(&p, &back, Some(&state)).await;
    assert_eq!(landed, "/");
    let users_after_one = count(&p, "users").await;
    assert_eq!(users_after_one, users_before + 1);
    let (landed, cookies) = callback(&p, &back, Some(&state)).await;
    assert_eq!(landed, "/login?error=provider_state_invalid");
    assert!(!cookies.contains_key("portcullis_access"));

    // A forged state.
    let (state, authorize) = start(&p, None).await;
    let back = upstream_answer(&p, &authorize, &ada).await;
    let forged = back.replace(
        &format!("state={}", query_of(&back)["state"]),
        "state=forged",
    );
    let (landed, _) = callback(&p, &forged, Some("forged")).await;
    assert_eq!(landed, "/login?error=provider_state_invalid");
    let _ = state;

    // Another issuer's answer: a mix-up, which the client MUST refuse (RFC 9207 §2.4).
    let (state, authorize) = start(&p, None).await;
    let back = upstream_answer(&p, &authorize, &ada).await;
    let iss = query_of(&back)["iss"].clone();
    let mixed = back.replace(&urlencode(&iss), &urlencode("https://evil.example"));
    assert_ne!(mixed, back);
    let (landed, _) = callback(&p, &mixed, Some(&state)).await;
    assert_eq!(landed, "/login?error=provider_issuer_mismatch");

    // The person declined at the provider; a code that is not the provider's (it refuses
    // it at the token endpoint, RFC 6749 §5.2).
    for answer in ["error=access_denied", "code=made-up"] {
        let (state, _) = start(&p, None).await;
        let hand_made = format!(
            "/api/auth/providers/up/callback?{answer}&state={state}&iss={}",
            urlencode(&p.up.settings.public_base())
        );
        let (landed, _) = callback(&p, &hand_made, Some(&state)).await;
        assert_eq!(landed, "/login?error=provider_refused", "{answer}");
    }

    // An unknown provider, and a turned-off one, do not start.
    let response = p
        .down
        .client
        .get(p.down.url("/api/auth/providers/nobody/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(location_header(&response), "/login?error=provider_unknown");
    let off = p
        .down
        .client
        .patch(p.down.url("/api/admin/providers/up"))
        .header("Authorization", &p.admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    let response = p
        .down
        .client
        .get(p.down.url("/api/auth/providers/up/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(location_header(&response), "/login?error=provider_unknown");
    let buttons: Value = p
        .down
        .client
        .get(p.down.url("/api/auth/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(buttons["items"], json!([]));

    // An unreachable provider: a clear code at once, not a hang.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let changed = p
        .down
        .client
        .patch(p.down.url("/api/admin/providers/up"))
        .header("Authorization", &p.admin)
        .json(&json!({"enabled": true, "issuer": closed}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let began = std::time::Instant::now();
    let response = p
        .down
        .client
        .get(p.down.url("/api/auth/providers/up/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        location_header(&response),
        "/login?error=provider_unavailable"
    );
    assert!(began.elapsed() < std::time::Duration::from_secs(6));

    assert_eq!(count(&p, "users").await, users_after_one);
    assert_eq!(count(&p, "user_identities").await, 1);
    p.up.stop().await;
    p.down.stop().await;
}

async fn the_signup_policy_and_disabled_accounts_hold(db: DbKind) {
    // The default: only accounts that exist.
    let p = pair(db, json!({})).await;
    let ada = upstream_person(&p, "ada", true).await;
    let users_before = count(&p, "users").await;
    let (landed, _) = sign_in(&p, &ada).await;
    assert_eq!(landed, "/login?error=provider_no_account");

    // Listed domains: example.com is not listed.
    let patch = |body: Value| {
        p.down
            .client
            .patch(p.down.url("/api/admin/providers/up"))
            .header("Authorization", &p.admin)
            .json(&body)
            .send()
    };
    let status = patch(json!({"signup": "domains", "allowedDomains": ["acme.example"]}))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let (landed, _) = sign_in(&p, &ada).await;
    assert_eq!(landed, "/login?error=provider_no_account");

    // Listed, but the provider does not vouch for the email.
    let bob = upstream_person(&p, "bob", false).await;
    let status = patch(json!({"allowedDomains": ["example.com"]}))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let (landed, _) = sign_in(&p, &bob).await;
    assert_eq!(landed, "/login?error=provider_no_account");
    let status = patch(json!({"signup": "open"})).await.unwrap().status();
    assert_eq!(status, 200);
    let (landed, _) = sign_in(&p, &bob).await;
    assert_eq!(landed, "/login?error=provider_email_missing");
    assert_eq!(count(&p, "users").await, users_before);

    // Ada gets her account; once it is disabled, the provider does not sign her in.
    let (landed, cookies) = sign_in(&p, &ada).await;
    assert_eq!(landed, "/profile");
    let id = me(&p, &cookies).await["id"].as_i64().unwrap();
    let disabled = p
        .down
        .client
        .patch(p.down.url(&format!("/api/admin/users/{id}")))
        .header("Authorization", &p.admin)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    let (landed, cookies) = sign_in(&p, &ada).await;
    assert_eq!(landed, "/login?error=provider_account_refused");
    assert!(!cookies.contains_key("portcullis_access"));
    p.up.stop().await;
    p.down.stop().await;
}

async fn the_second_factor_rule_holds_unless_the_provider_is_trusted(db: DbKind) {
    let p = pair_with(db, json!({"signup": "open"}), |s| {
        s.require_mfa_for = vec![Some(Role::User)];
    })
    .await;
    let ada = upstream_person(&p, "ada", true).await;
    // Every account must have a second factor: the provider's sign-in is a first one.
    let (landed, cookies) = sign_in(&p, &ada).await;
    assert!(landed.starts_with("/login#"), "{landed}");
    assert!(!cookies.contains_key("portcullis_access"));
    let fragment: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(landed.trim_start_matches("/login#").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(fragment["enrolment"], "1");
    assert_eq!(fragment["returnTo"], "/profile");
    assert!(fragment["mfa"].len() >= 32, "{fragment:?}");

    // Trusted for both factors: signed in, and the session says so.
    let mut settings = serde_json::Map::new();
    settings.insert("trustedForMfa".into(), json!(true));
    portcullis::service::providers::update(
        ports(&p.down),
        portcullis::service::admin::Actor::CommandLine { force: false },
        "up",
        portcullis::service::providers::ProviderChange {
            settings,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (landed, cookies) = sign_in(&p, &ada).await;
    assert_eq!(landed, "/profile");
    let signed_in = me(&p, &cookies).await;
    assert_eq!(signed_in["username"], "ada");
    let sessions = get_as(&p, &cookies, "/api/auth/sessions").await;
    let methods: Vec<&Value> = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["method"])
        .collect();
    assert_eq!(methods, [&json!("provider_mfa")]);
    p.up.stop().await;
    p.down.stop().await;
}

async fn the_last_way_to_sign_in_is_never_unlinked_by_its_account(db: DbKind) {
    let p = pair(db, json!({"signup": "open"})).await;
    let ada = upstream_person(&p, "ada", true).await;
    let (_, cookies) = sign_in(&p, &ada).await;
    let id = me(&p, &cookies).await["id"].as_i64().unwrap();
    let bearer = format!("Bearer {}", cookies["portcullis_access"].value);
    let (status, listed) = send(
        &p.down,
        reqwest::Method::GET,
        "/api/auth/identities",
        &bearer,
    )
    .await;
    assert_eq!(status, 200);
    let identity = listed["items"][0]["id"].as_i64().unwrap();
    // No password anyone knows, no passkey, no other identity: it stays.
    let path = format!("/api/auth/identities/{identity}");
    let (status, refused) = send(&p.down, reqwest::Method::DELETE, &path, &bearer).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "last_signin_method");
    let (status, _) = send(
        &p.down,
        reqwest::Method::DELETE,
        "/api/auth/identities/999999",
        &bearer,
    )
    .await;
    assert_eq!(status, 404);
    // A session that signed in more than 10 minutes ago (a stolen one, say) unlinks nothing
    // without the password (that account has none anyone knows).
    p.down
        .clock
        .advance(std::time::Duration::from_secs(11 * 60));
    let (status, stale) = send(&p.down, reqwest::Method::DELETE, &path, &bearer).await;
    assert_eq!(status, 403, "{stale}");
    assert_eq!(stale["code"], "reauthentication_required");

    // An admin sees it and may remove it (ending a link that should not be).
    let admin_path = format!("/api/admin/users/{id}/identities");
    let (status, seen) = send(&p.down, reqwest::Method::GET, &admin_path, &p.admin).await;
    assert_eq!(status, 200);
    assert_eq!(seen["items"][0]["id"], identity);
    let (status, _) = send(&p.down, reqwest::Method::GET, &admin_path, &bearer).await;
    assert_eq!(status, 403, "not for the account itself");
    let (status, _) = send(
        &p.down,
        reqwest::Method::DELETE,
        &format!("{admin_path}/{identity}"),
        &p.admin,
    )
    .await;
    assert_eq!(status, 204);
    let audited = newest_audit(&p).await;
    assert_eq!(audited["event"], "provider_unlinked");
    assert_eq!(audited["subjectId"], id);
    assert_ne!(audited["actorId"], id);
    let (_, listed) = send(
        &p.down,
        reqwest::Method::GET,
        "/api/auth/identities",
        &bearer,
    )
    .await;
    assert_eq!(listed["items"], json!([]));
    // The identity is unknown again: with its email now an account's, it must be linked.
    let (landed, _) = sign_in(&p, &ada).await;
    assert_eq!(landed, "/login?error=provider_link_required");
    p.up.stop().await;
    p.down.stop().await;
}

async fn an_openid_connect_clients_consent_continues_after_a_provider_sign_in(db: DbKind) {
    let p = pair(db, json!({"signup": "open"})).await;
    let rp = crate::oidc::register(&p.down, false, None).await;
    // A relying party sends a browser with no session: the consent page, which signs in first.
    let (status, consent) =
        crate::oidc::location(&p.down, &crate::oidc::authorize_url(&rp, &[]), None).await;
    assert_eq!(status, 302);
    assert!(consent.starts_with("/oauth/consent?request="), "{consent}");
    let request = query_of(&consent)["request"].clone();
    // The login page's "Continue with Upstream" carries the consent page as returnTo.
    let ada = upstream_person(&p, "ada", true).await;
    let (state, authorize) = start(&p, Some(&consent)).await;
    let back = upstream_answer(&p, &authorize, &ada).await;
    let (landed, cookies) = callback(&p, &back, Some(&state)).await;
    assert_eq!(landed, consent, "back to the consent page, signed in");
    // Signed in, the person allows the client: the code goes to the relying party.
    let access = &cookies["portcullis_access"].value;
    let response = p
        .down
        .client
        .post(p.down.url(&format!("/api/oauth/requests/{request}")))
        .header("Cookie", format!("portcullis_access={access}"))
        .json(&json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let to = answer["redirectTo"].as_str().unwrap();
    assert!(to.starts_with(crate::oidc::CB), "{to}");
    assert!(query_of(to).contains_key("code"), "{to}");
    p.up.stop().await;
    p.down.stop().await;
}
