//! Every JSON answer of every route says `application/json; charset=utf-8` (docs/API.md
//! conventions): the routes of the OpenAPI document, each called without credentials, as
//! an admin with an empty body, and the successes that need a real body.
use portcullis::domain::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::*;

/// Checks one answer: a JSON body must carry our Content-Type, and so must anything that
/// says it is JSON. Returns the status, for the caller's own checks.
async fn check(what: &str, response: Response) -> u16 {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("<not text>").to_string());
    let body = response.bytes().await.expect("body");
    let is_json = serde_json::from_slice::<Value>(&body).is_ok_and(|v| v.is_object());
    if is_json || content_type.as_deref().is_some_and(|c| c.contains("json")) {
        assert_eq!(
            content_type.as_deref(),
            Some(JSON_CONTENT_TYPE),
            "{what} answered {status} with a JSON body"
        );
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_answer_of_every_route_says_utf_8() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    app.create_user("root", &[Role::Admin]).await;
    let victim_id = app.create_user("victim", &[]).await;

    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue; // "parameters", "summary" and the like
            };
            operations.push((method, path.replace("{id}", &victim_id.to_string())));
        }
    }
    assert!(operations.len() >= 20, "{operations:?}");
    for (method, path) in &operations {
        let what = format!("{method} {path}");
        let url = app.url(path);
        let anonymous = app
            .client
            .request(method.clone(), &url)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        check(&format!("{what} without credentials"), anonymous).await;
        // A session of its own each time: signout and signout-all end theirs.
        let admin = app.signin("root", PASSWORD).await;
        let signed_in = app
            .client
            .request(method.clone(), &url)
            .header("Authorization", admin.bearer())
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        check(&format!("{what} as an admin"), signed_in).await;
        let not_json = app
            .client
            .request(method.clone(), &url)
            .header("Authorization", admin.bearer())
            .header("Content-Type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        check(&format!("{what} with a text body"), not_json).await;
    }

    // The successes that need a real body.
    let created = app.signup("newbie", "newbie@example.com", PASSWORD).await;
    assert_eq!(check("signup", created).await, 201);
    let signin = app.signin_raw("newbie", PASSWORD).await;
    assert_eq!(check("signin", signin).await, 200);
    let session = app.signin("newbie", PASSWORD).await;
    let refreshed = app
        .post(
            "/api/auth/refreshtoken",
            json!({"refreshToken": session.refresh.as_deref().unwrap()}),
        )
        .await;
    assert_eq!(check("refresh", refreshed).await, 200);
    // The sweep deleted the victim (DELETE /api/admin/users/{id}).
    let other_id = app.create_user("other", &[]).await;
    let admin = app.signin("root", PASSWORD).await;
    let patched = app
        .client
        .patch(app.url(&format!("/api/admin/users/{other_id}")))
        .header("Authorization", admin.bearer())
        .json(&json!({"roles": ["user", "moderator"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(check("PATCH a user", patched).await, 200);
    let changed = app
        .client
        .post(app.url("/api/auth/password"))
        .header("Authorization", admin.bearer())
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "another long passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(check("password change", changed).await, 200);
    let signout = app
        .client
        .post(app.url("/api/auth/signout"))
        .header("Authorization", admin.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(check("signout", signout).await, 200);
    // The router's own answers: an unknown API path, a wrong method, a body too large.
    check("unknown path", app.get("/api/nothing-here").await).await;
    let wrong_method = app
        .client
        .delete(app.url("/api/auth/signin"))
        .send()
        .await
        .unwrap();
    assert_eq!(check("wrong method", wrong_method).await, 405);
    let too_large = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("Content-Type", "application/json")
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(check("too large", too_large).await, 413);
    app.stop().await;
}
