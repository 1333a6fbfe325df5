//! The provider's flows for every kind of client (issue 24, docs/API.md §5) on every
//! database: per-client settings, single sign-on across sites, pushed authorization
//! requests (RFC 9126) and the device authorization grant (RFC 8628), with their refusals.
use std::time::Duration;

use portcullis::domain::Role;
use portcullis::service::clients::{ClientSettings, NewClient};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::oidc::{
    authorize_url, check_id_token, code_for, exchange, location, query_of, token, userinfo, Rp, CB,
    VERIFIER,
};
use crate::on_every_database;

on_every_database!(
    client_settings_are_checked_enforced_and_heard_by_every_node,
    the_sso_cookie_lets_prompt_none_recognise_a_cross_site_browser,
    a_pushed_request_is_used_once_by_its_client_alone,
    the_device_grant_from_user_code_to_tokens,
    device_refusals_denial_expiry_and_guessing,
);

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn register_with(app: &TestApp, public: bool, settings: ClientSettings) -> Rp {
    let registered = portcullis::service::clients::register(
        &app.state().db,
        &app.clock,
        portcullis::service::admin::Actor::CommandLine { force: false },
        NewClient {
            name: "Flows app".into(),
            redirect_uris: vec![CB.into()],
            post_logout_uris: vec![],
            public,
            scopes: None,
            id_token_alg: None,
            settings,
        },
    )
    .await
    .unwrap();
    Rp {
        client_id: registered.client.client_id,
        secret: registered.secret,
    }
}

async fn patch_as(app: &TestApp, path: &str, session: &Session, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .header("Authorization", session.bearer())
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn claims_of(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn client_settings_are_checked_enforced_and_heard_by_every_node(db: DbKind) {
    let db = TestDb::create(&db).await;
    let second = db.shared();
    let app = TestApp::spawn_on(db, |_| {}).await;
    let other_node = TestApp::spawn_on(second, |_| {}).await;
    let admin = app.user_session("root", &[Role::Admin]).await;
    let alice = app.user_session("alice", &[]).await;

    // What registration refuses, each with a message naming the rule.
    for (body, words) in [
        (
            json!({"public": true, "grantTypes": ["authorization_code", "client_credentials"]}),
            "public client cannot use client_credentials",
        ),
        (json!({"grantTypes": ["password"]}), "unknown grant type"),
        (
            json!({"grantTypes": ["refresh_token"]}),
            "grant types must include",
        ),
        (json!({"accessTokenLifetime": 10}), "30 to 86400"),
        (
            json!({"backchannelLogoutUri": "http://rp.example/logout"}),
            "https, or http on a loopback",
        ),
        (
            json!({"backchannelLogoutUri": "https://rp.example/logout#x"}),
            "no fragment",
        ),
    ] {
        let mut full = json!({"name": "Bad", "redirectUris": [CB]});
        full.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let answer = post_as(&app, "/api/admin/clients", &admin, full.clone()).await;
        assert_eq!(answer.status(), 400, "{full}");
        let text = answer.text().await.unwrap();
        assert!(text.contains(words), "{full}: {text}");
    }
    // A device-only client needs no redirect URI; a code client does.
    let device_only = post_as(
        &app,
        "/api/admin/clients",
        &admin,
        json!({"name": "CLI", "redirectUris": [], "public": true, "grantTypes": [DEVICE_GRANT]}),
    )
    .await;
    assert_eq!(device_only.status(), 201);
    let no_uri = post_as(
        &app,
        "/api/admin/clients",
        &admin,
        json!({"name": "Web", "redirectUris": []}),
    )
    .await;
    assert_eq!(no_uri.status(), 400);

    // A first-party client with only the code grant and a one-minute access token.
    let created = post_as(
        &app,
        "/api/admin/clients",
        &admin,
        json!({"name": "Intranet", "redirectUris": [CB], "grantTypes": ["authorization_code"],
               "accessTokenLifetime": 60, "firstParty": true,
               "backchannelLogoutUri": "https://rp.example/backchannel"}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["grantTypes"], json!(["authorization_code"]));
    assert_eq!(created["accessTokenLifetime"], 60);
    assert_eq!(created["firstParty"], true);
    assert_eq!(created["requirePushedAuthorizationRequests"], false);
    assert_eq!(created["dpopBoundAccessTokens"], false);
    assert_eq!(
        created["backchannelLogoutUri"],
        "https://rp.example/backchannel"
    );
    let rp = Rp {
        client_id: created["clientId"].as_str().unwrap().into(),
        secret: created["clientSecret"].as_str().map(String::from),
    };

    // First-party: a signed-in user gets a code at once, never the consent page.
    let (status, to) = location(&app, &authorize_url(&rp, &[]), Some(&alice)).await;
    assert_eq!(status, 302);
    assert!(to.starts_with(CB), "no consent page: {to}");
    let code = query_of(&to)["code"].clone();
    let (status, tokens) = exchange(&app, &rp, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["expires_in"], 60);
    let access = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        60
    );
    // offline_access asked, but the client may not refresh: no refresh token.
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    // Grants it was not given are refused as such (RFC 6749 §5.2, unauthorized_client).
    let (status, body) = token(&app, &rp, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, body) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );

    // The other node has the client cached as it is now.
    let (status, to) = location(&other_node, &authorize_url(&rp, &[]), Some(&alice)).await;
    assert_eq!(status, 302);
    assert!(to.starts_with(CB), "{to}");

    // Changed by PATCH on this node; the other node hears of it within the feed's bound.
    let path = format!("/api/admin/clients/{}", rp.client_id);
    let changed = patch_as(
        &app,
        &path,
        &admin,
        json!({"firstParty": false, "grantTypes": null, "accessTokenLifetime": null,
               "backchannelLogoutUri": null, "requirePushedAuthorizationRequests": true}),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(
        changed["grantTypes"],
        json!(["authorization_code", "refresh_token", "client_credentials"]),
        "null: the defaults of a confidential client"
    );
    assert_eq!(changed["accessTokenLifetime"], Value::Null);
    assert_eq!(changed["backchannelLogoutUri"], Value::Null);
    assert_eq!(changed["firstParty"], false);
    assert_eq!(changed["requirePushedAuthorizationRequests"], true);
    let (status, to) = location(&app, &authorize_url(&rp, &[]), Some(&alice)).await;
    assert_eq!(status, 302);
    assert_eq!(
        query_of(&to)["error"],
        "invalid_request",
        "PAR required: {to}"
    );
    let mut heard = false;
    for _ in 0..40 {
        let (_, to) = location(&other_node, &authorize_url(&rp, &[]), Some(&alice)).await;
        if query_of(&to).get("error").map(String::as_str) == Some("invalid_request") {
            heard = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        heard,
        "the other node applies the change within the feed's bound"
    );
    let (status, body) = token(&app, &rp, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");

    // Only admins change clients; an unknown one is 404; a bad value 400 and nothing changes.
    assert_eq!(
        patch_as(&app, &path, &alice, json!({"firstParty": true}))
            .await
            .status(),
        403
    );
    let unknown = patch_as(
        &app,
        "/api/admin/clients/nope",
        &admin,
        json!({"firstParty": true}),
    );
    assert_eq!(unknown.await.status(), 404);
    let bad = patch_as(&app, &path, &admin, json!({"accessTokenLifetime": 999999})).await;
    assert_eq!(bad.status(), 400);
    let bad = patch_as(&app, &path, &admin, json!({"color": "red"})).await;
    assert_eq!(bad.status(), 400);
    let list: Value = get_as(&app, "/api/admin/clients", &admin)
        .await
        .json()
        .await
        .unwrap();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == rp.client_id.as_str())
        .unwrap();
    assert_eq!(listed["accessTokenLifetime"], Value::Null);

    let audit = portcullis::store::audit::list(&app.state().db, 100, None)
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.event == "client_updated"
            && e.client_id.as_deref() == Some(rp.client_id.as_str())));
    other_node.stop().await;
    app.stop().await;
}

/// The single sign-on cookie alone, as a navigation from another site brings it.
fn sso_only(session: &Session) -> String {
    let sso = &session.cookies["portcullis_sso"];
    format!("portcullis_sso={}", sso.value)
}

async fn authorize_with_cookie(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let to = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, to)
}

async fn the_sso_cookie_lets_prompt_none_recognise_a_cross_site_browser(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register_with(&app, false, ClientSettings::default()).await;
    let alice = app.user_session("alice", &[]).await;

    // Set at sign-in beside the token cookies: HttpOnly, Lax, for the authorization
    // endpoint only.
    let sso = &alice.cookies["portcullis_sso"];
    assert_eq!(
        sso.attributes.get("samesite").map(String::as_str),
        Some("Lax")
    );
    assert_eq!(
        sso.attributes.get("path").map(String::as_str),
        Some("/api/oauth/authorize")
    );
    assert!(sso.attributes.contains_key("httponly"));
    assert_eq!(
        alice.cookies["portcullis_access"].attributes["samesite"], "Strict",
        "the API's own cookies stay Strict"
    );
    // The rest of the API does not take it as a credential.
    let me = app
        .get_with("/api/auth/me", ("Cookie", &sso_only(&alice)))
        .await;
    assert_eq!(me.status(), 401);

    let silent = authorize_url(&rp, &[("prompt", "none")]);
    // No consent yet: consent_required (the browser is known), never a page (OpenID
    // Connect Core §3.1.2.1: with prompt=none the OP MUST NOT display any page).
    let (status, to) = authorize_with_cookie(&app, &silent, &sso_only(&alice)).await;
    assert_eq!(status, 302);
    assert_eq!(query_of(&to)["error"], "consent_required", "{to}");
    // Consented once; then a silent request from another site gets a code.
    code_for(&app, &rp, &alice, &[]).await;
    let (status, to) = authorize_with_cookie(&app, &silent, &sso_only(&alice)).await;
    assert_eq!(status, 302);
    let q = query_of(&to);
    assert!(to.starts_with(CB) && q.contains_key("code"), "{to}");
    let (status, tokens) = exchange(&app, &rp, &q["code"], Some(VERIFIER)).await;
    assert_eq!(status, 200);
    let id = check_id_token(&app, &rp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(id["sub"], alice.body["id"].to_string());
    // A plain request is answered with the code at once as well.
    let (_, to) = authorize_with_cookie(&app, &authorize_url(&rp, &[]), &sso_only(&alice)).await;
    assert!(query_of(&to).contains_key("code"), "{to}");

    // A cookie the server did not make, or another session's id under the MAC, is nobody.
    let value = alice.cookies["portcullis_sso"].value.clone();
    let (sid, mac) = value.rsplit_once('.').unwrap();
    for forged in [
        format!("portcullis_sso={sid}"),
        format!("portcullis_sso={sid}x.{mac}"),
        format!("portcullis_sso={sid}.{}", "A".repeat(mac.len())),
    ] {
        let (_, to) = authorize_with_cookie(&app, &silent, &forged).await;
        assert_eq!(query_of(&to)["error"], "login_required", "{forged}");
    }
    // Signed out: the cookie is cleared, and the old one names an ended session.
    let out = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Cookie", alice.cookie_header())
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    let cleared = set_cookies(out.headers());
    assert_eq!(cleared["portcullis_sso"].value, "");
    let (_, to) = authorize_with_cookie(&app, &silent, &sso_only(&alice)).await;
    assert_eq!(query_of(&to)["error"], "login_required", "{to}");
    app.stop().await;
}

async fn push(app: &TestApp, rp: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    let mut request = app.client.post(app.url("/api/oauth/par"));
    let mut form = form.to_vec();
    match &rp.secret {
        Some(secret) => request = request.basic_auth(&rp.client_id, Some(secret)),
        None if form.iter().any(|(k, _)| *k == "client_id") => {}
        None => form.push(("client_id", &rp.client_id)),
    }
    let response = request.form(&form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The authorization request's parameters, as a form to push.
fn request_form(rp: &Rp, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    query_of(&authorize_url(rp, extra)).into_iter().collect()
}

fn pushed_url(rp: &Rp, request_uri: &str) -> String {
    let mut url = url::Url::parse("http://x/api/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &rp.client_id)
        .append_pair("request_uri", request_uri);
    format!("{}?{}", url.path(), url.query().unwrap())
}

async fn a_pushed_request_is_used_once_by_its_client_alone(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let rp = register_with(&app, false, ClientSettings::default()).await;
    let other = register_with(&app, false, ClientSettings::default()).await;
    let alice = app.user_session("alice", &[]).await;
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        format!("{}/api/oauth/par", app.settings.public_base())
    );

    let form = request_form(&rp, &[]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, pushed) = push(&app, &rp, &pairs).await;
    assert_eq!(status, 201, "{pushed}");
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().unwrap().to_string();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    // Another client cannot use it, and trying does not spend it (RFC 9126 §4: the
    // request_uri is bound to the client that pushed it).
    let (status, _) = location(&app, &pushed_url(&other, &request_uri), Some(&alice)).await;
    assert_eq!(status, 400);
    // Its client can, once: the parameters are the pushed ones (the query's are ignored;
    // RFC 9126 §4: the request_uri is one-time use).
    let mut url = pushed_url(&rp, &request_uri);
    url.push_str("&scope=openid&state=not-this");
    let (status, to) = location(&app, &url, Some(&alice)).await;
    assert_eq!(status, 302);
    assert!(to.starts_with("/oauth/consent?request="), "{to}");
    let request = query_of(&to)["request"].clone();
    let view: Value = get_as(&app, &format!("/api/oauth/requests/{request}"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        view["scopes"],
        json!(["openid", "profile", "email", "roles", "offline_access"])
    );
    let answer: Value = post_as(
        &app,
        &format!("/api/oauth/requests/{request}"),
        &alice,
        json!({"approve": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    let q = query_of(answer["redirectTo"].as_str().unwrap());
    assert_eq!(q["state"], "the-state");
    let (status, _) = exchange(&app, &rp, &q["code"], Some(VERIFIER)).await;
    assert_eq!(status, 200);
    let (status, _) = location(&app, &pushed_url(&rp, &request_uri), Some(&alice)).await;
    assert_eq!(status, 400, "a request_uri works once");

    // One that expired is refused.
    let (_, pushed) = push(&app, &rp, &pairs).await;
    app.clock.advance(Duration::from_secs(61));
    let late = pushed["request_uri"].as_str().unwrap();
    let (status, _) = location(&app, &pushed_url(&rp, late), Some(&alice)).await;
    assert_eq!(status, 400);

    // The push is checked as the authorization endpoint would, answered in OAuth's shape.
    let mut wrong_uri = pairs.clone();
    wrong_uri.retain(|(k, _)| *k != "redirect_uri");
    wrong_uri.push(("redirect_uri", "https://evil.example/cb"));
    let (status, body) = push(&app, &rp, &wrong_uri).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // RFC 9126 §2.1: the request_uri parameter MUST NOT be pushed.
    let mut nested = pairs.clone();
    nested.push(("request_uri", "urn:x"));
    let (status, body) = push(&app, &rp, &nested).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let mut bad_scope = pairs.clone();
    bad_scope.retain(|(k, _)| *k != "scope");
    bad_scope.push(("scope", "openid admin"));
    let (status, body) = push(&app, &rp, &bad_scope).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let impostor = Rp {
        client_id: rp.client_id.clone(),
        secret: Some("wrong".into()),
    };
    let (status, body) = push(&app, &impostor, &pairs).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // A client that must push (RFC 9126 §6, require_pushed_authorization_requests): a plain
    // request goes back with invalid_request; pushed, it works.
    let strict = register_with(
        &app,
        true,
        ClientSettings {
            require_par: true,
            ..ClientSettings::default()
        },
    )
    .await;
    let (status, to) = location(&app, &authorize_url(&strict, &[]), Some(&alice)).await;
    assert_eq!(status, 302);
    let q = query_of(&to);
    assert!(to.starts_with(CB), "{to}");
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "the-state");
    let form = request_form(&strict, &[]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, pushed) = push(&app, &strict, &pairs).await;
    assert_eq!(status, 201, "{pushed}");
    let (status, to) = location(
        &app,
        &pushed_url(&strict, pushed["request_uri"].as_str().unwrap()),
        Some(&alice),
    )
    .await;
    assert_eq!(status, 302);
    assert!(to.starts_with("/oauth/consent?request="), "{to}");
    app.stop().await;
}

async fn start_device(app: &TestApp, rp: &Rp, scope: &str) -> (u16, Value) {
    let mut form = vec![("scope", scope)];
    let mut request = app.client.post(app.url("/api/oauth/device_authorization"));
    match &rp.secret {
        Some(secret) => request = request.basic_auth(&rp.client_id, Some(secret)),
        None => form.push(("client_id", &rp.client_id)),
    }
    let response = request.form(&form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn poll(app: &TestApp, rp: &Rp, device_code: &str) -> (u16, Value) {
    token(
        app,
        rp,
        &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
    )
    .await
}

async fn enter_code(app: &TestApp, session: &Session, code: &str) -> reqwest::Response {
    post_as(app, "/api/oauth/device", session, json!({"userCode": code})).await
}

fn device_client() -> ClientSettings {
    ClientSettings {
        grant_types: Some(vec![DEVICE_GRANT.into(), "refresh_token".into()]),
        ..ClientSettings::default()
    }
}

async fn the_device_grant_from_user_code_to_tokens(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let tv = register_with(&app, true, device_client()).await;
    let alice = app.user_session("alice", &[]).await;
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let issuer = app.settings.public_base();
    assert_eq!(
        discovery["device_authorization_endpoint"],
        format!("{issuer}/api/oauth/device_authorization")
    );
    assert!(discovery["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!(DEVICE_GRANT)));

    let (status, started) = start_device(&app, &tv, "openid profile offline_access").await;
    assert_eq!(status, 200, "{started}");
    let user_code = started["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(user_code
        .chars()
        .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    assert_eq!(started["verification_uri"], format!("{issuer}/device"));
    assert_eq!(
        started["verification_uri_complete"],
        format!("{issuer}/device?user_code={user_code}")
    );
    assert_eq!(started["expires_in"], 600);
    assert_eq!(started["interval"], 5);
    let device_code = started["device_code"].as_str().unwrap();

    // Polled before the user answers: pending; polled again too soon: slow down, and the
    // interval MUST grow by 5 s (RFC 8628 §3.5).
    let (status, body) = poll(&app, &tv, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (status, body) = poll(&app, &tv, device_code).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("slow_down")));

    // The verification page's lookup needs a signed-in user; the code may be typed loosely.
    let anonymous = app
        .post("/api/oauth/device", json!({"userCode": user_code}))
        .await;
    assert_eq!(anonymous.status(), 401);
    let typed = user_code.replace('-', " ").to_lowercase();
    let entered = enter_code(&app, &alice, &typed).await;
    assert_eq!(entered.status(), 200);
    let request = entered.json::<Value>().await.unwrap()["request"]
        .as_str()
        .unwrap()
        .to_string();
    // The consent page is told a device asks, and is never told it may skip asking (RFC
    // 8628 §5.4, remote phishing).
    let view: Value = get_as(&app, &format!("/api/oauth/requests/{request}"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["device"], true);
    assert_eq!(view["alreadyAllowed"], false);
    assert_eq!(
        view["scopes"],
        json!(["openid", "profile", "offline_access"])
    );
    // Only the user who typed the code may answer its request.
    let bob = app.user_session("bob", &[]).await;
    let stolen = post_as(
        &app,
        &format!("/api/oauth/requests/{request}"),
        &bob,
        json!({"approve": true}),
    )
    .await;
    assert_eq!(stolen.status(), 404);
    let answer = post_as(
        &app,
        &format!("/api/oauth/requests/{request}"),
        &alice,
        json!({"approve": true}),
    )
    .await;
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["redirectTo"], "/device?result=approved");
    // The code was answered: typing it again finds nothing.
    assert_eq!(enter_code(&app, &alice, user_code).await.status(), 404);

    // The device, polling at its (now longer) interval, gets the tokens, once.
    app.clock.advance(Duration::from_secs(11));
    let (status, tokens) = poll(&app, &tv, device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile offline_access");
    assert!(tokens["refresh_token"].is_string());
    let id = check_id_token(&app, &tv, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(id["sub"], alice.body["id"].to_string());
    assert_eq!(id["amr"], json!(["pwd"]));
    assert!(id["auth_time"].is_i64());
    let (status, info) = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info["preferred_username"], "alice");
    let (status, again) = poll(&app, &tv, device_code).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Its refresh token works as any grant's.
    let (status, refreshed) = token(
        &app,
        &tv,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");

    // The grant is a session of the user's, beside the browser's, which it can end.
    let sessions: Value = get_as(&app, "/api/auth/sessions", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2, "{sessions}");
    app.stop().await;
}

async fn device_refusals_denial_expiry_and_guessing(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let tv = register_with(&app, true, device_client()).await;
    let web = register_with(&app, false, ClientSettings::default()).await;
    let alice = app.user_session("alice", &[]).await;

    // A client not given the grant may neither start nor poll it.
    let (status, body) = start_device(&app, &web, "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, body) = poll(&app, &web, "whatever").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // Scopes are checked; the client must authenticate as at the token endpoint.
    let (status, body) = start_device(&app, &tv, "openid admin").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let nobody = Rp {
        client_id: "nobody".into(),
        secret: None,
    };
    let (status, body) = start_device(&app, &nobody, "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // Denied: the device hears access_denied.
    let (_, started) = start_device(&app, &tv, "openid").await;
    let device_code = started["device_code"].as_str().unwrap().to_string();
    let entered: Value = enter_code(&app, &alice, started["user_code"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let request = entered["request"].as_str().unwrap();
    let answer: Value = post_as(
        &app,
        &format!("/api/oauth/requests/{request}"),
        &alice,
        json!({"approve": false}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(answer["redirectTo"], "/device?result=denied");
    let (status, body) = poll(&app, &tv, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );
    // Another client's device code is unknown to this one.
    let other_tv = register_with(&app, true, device_client()).await;
    let (status, body) = poll(&app, &other_tv, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Expired after ten minutes: expired_token (RFC 8628 §3.5), and its user code is gone
    // from the page.
    let (_, started) = start_device(&app, &tv, "openid").await;
    app.clock.advance(Duration::from_secs(601));
    let (status, body) = poll(&app, &tv, started["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );
    let late = enter_code(&app, &alice, started["user_code"].as_str().unwrap()).await;
    assert_error(
        late,
        404,
        "That code is not valid or has expired. Check the code on your device.",
        "device_code_unknown",
    )
    .await;

    // Guesses are bounded per address: ten a minute, then 429 with Retry-After (RFC 8628
    // §5.1: the server MUST rate-limit user code attempts).
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            enter_code(&app, &alice, "BCDF-GHJK")
                .await
                .status()
                .as_u16(),
        );
    }
    let limited = enter_code(&app, &alice, "BCDF-GHJK").await;
    assert_eq!(limited.status(), 429, "{statuses:?}");
    assert!(limited.headers().contains_key("retry-after"));
    assert!(statuses.iter().take(8).all(|s| *s == 404), "{statuses:?}");
    app.stop().await;
}
