//! Languages (issue 27, docs/API.md §1 "Languages"), on every database: the language an
//! account chooses is kept for it, and only en, de and es are taken. Which language a mail
//! speaks is tested with the mails (mail.rs).
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    an_account_chooses_its_language_and_keeps_it,
    the_consent_page_is_told_the_languages_ui_locales_asks_for,
);

const LOCALE: &str = "/api/auth/locale";

async fn put(app: &TestApp, auth: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = app.client.put(app.url(LOCALE)).json(&body);
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, auth: &str) -> Value {
    let response = app
        .client
        .get(app.url(LOCALE))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn an_account_chooses_its_language_and_keeps_it(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let alice = app.user_session("alice", &[]).await.bearer();
    let bob = app.user_session("bob", &[]).await.bearer();
    assert_eq!(get(&app, &alice).await, json!({"locale": null}));

    assert_eq!(
        put(&app, Some(&alice), json!({"locale": "de"})).await,
        (200, json!({"locale": "de"}))
    );
    assert_eq!(get(&app, &alice).await, json!({"locale": "de"}));
    assert_eq!(
        get(&app, &bob).await,
        json!({"locale": null}),
        "alice's alone"
    );

    for bad in [
        json!({"locale": "fr"}),
        json!({"locale": "DE"}),
        json!({"locale": 7}),
        json!({"lang": "de"}),
    ] {
        let (status, body) = put(&app, Some(&alice), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "invalid_request", "{bad}");
    }
    let (status, body) = put(&app, Some(&alice), json!({"locale": "fr"})).await;
    assert_eq!(
        (status, body["message"].clone()),
        (400, json!("locale must be en, de, es or null."))
    );
    assert_eq!(
        get(&app, &alice).await,
        json!({"locale": "de"}),
        "unchanged"
    );

    assert_eq!(
        put(&app, Some(&alice), json!({"locale": null})).await,
        (200, json!({"locale": null}))
    );
    assert_eq!(get(&app, &alice).await, json!({"locale": null}));
    let (status, _) = put(&app, None, json!({"locale": "es"})).await;
    assert_eq!(status, 401);
    app.stop().await;
}

/// OIDC Core §3.1.2.1: `ui_locales` reaches the web app's consent page, which speaks the first
/// language it knows; what does not look like a language tag is dropped on the way.
async fn the_consent_page_is_told_the_languages_ui_locales_asks_for(db: DbKind) {
    use crate::oidc::{authorize_url, location, query_of, register};
    let app = TestApp::spawn(db).await;
    let rp = register(&app, true, None).await;
    let alice = app.user_session("alice", &[]).await;

    let url = authorize_url(&rp, &[("ui_locales", "fr-CA de\"><b> es")]);
    let (status, to) = location(&app, &url, Some(&alice)).await;
    assert_eq!(status, 302);
    assert!(to.starts_with("/oauth/consent?request="), "{to}");
    let query = query_of(&to);
    assert_eq!(query["ui_locales"], "fr-CA es", "{to}");
    assert!(!query["request"].is_empty());

    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["ui_locales_supported"], json!(["en", "de", "es"]));

    let (_, plain) = location(&app, &authorize_url(&rp, &[]), Some(&alice)).await;
    assert!(!query_of(&plain).contains_key("ui_locales"), "{plain}");
    app.stop().await;
}
