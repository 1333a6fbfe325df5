//! The router's edges, in process: requests handed to `http::router::router` with tower's `oneshot`,
//! no socket, on a real SQLite database. Rejections keep our JSON shape, CORS answers only
//! listed origins, and a cross-site cookie request is refused before any handler runs.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use portcullis::app::AppState;
use portcullis::clock::Clock;
use portcullis::http::router::router;
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::*;

const ALLOWED: &str = "http://localhost:8081";

async fn state(db: &TestDb) -> AppState {
    let mut settings = test_settings(&db.url);
    settings.cors_origins = vec![ALLOWED.to_string()];
    AppState::build(settings, Clock::default())
        .await
        .expect("state builds")
}

async fn send(state: &AppState, mut request: Request<Body>) -> Response {
    // As a client's request reaches the router: HTTP/1.1 with its Host.
    if !request.headers().contains_key(header::HOST) {
        let host = axum::http::HeaderValue::from_static("localhost:8080");
        request.headers_mut().insert(header::HOST, host);
    }
    router(state.clone())
        .oneshot(request)
        .await
        .expect("the router always answers")
}

async fn json_of(response: Response) -> Value {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    serde_json::from_slice(&bytes).expect("a JSON body")
}

/// Status, our Content-Type, `code`, and `no-store`.
async fn assert_rejected(response: Response, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()[header::CONTENT_TYPE], JSON_CONTENT_TYPE);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let body = json_of(response).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

fn post_json(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn rejections_of_the_router_itself_are_json_errors() {
    let db = TestDb::create(&DbKind::Sqlite).await;
    let state = state(&db).await;

    let unknown = Request::get("/api/no-such-route")
        .body(Body::empty())
        .unwrap();
    assert_rejected(
        send(&state, unknown).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let wrong_method = Request::delete("/api/auth/signin")
        .body(Body::empty())
        .unwrap();
    assert_rejected(
        send(&state, wrong_method).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;

    let text = Request::post("/api/auth/signin")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("alice:secret"))
        .unwrap();
    assert_rejected(
        send(&state, text).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let malformed = post_json("/api/auth/signin", "{\"username\": ");
    assert_rejected(
        send(&state, malformed).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;

    let declared_too_large = Request::post("/api/auth/signup")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, 65 * 1024)
        .body(Body::from(vec![b' '; 65 * 1024]))
        .unwrap();
    let response = send(&state, declared_too_large).await;
    assert_eq!(response.headers()[header::CONNECTION], "close");
    assert_rejected(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    let no_token = Request::get("/api/test/user").body(Body::empty()).unwrap();
    let response = send(&state, no_token).await;
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert_rejected(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn cors_answers_only_the_listed_origins_never_a_wildcard() {
    let db = TestDb::create(&DbKind::Sqlite).await;
    let state = state(&db).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/auth/signin")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };

    let allowed = send(&state, preflight(ALLOWED)).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ALLOWED);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");

    let other = send(&state, preflight("http://evil.example")).await;
    assert!(other
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());

    // A simple request from the allowed origin gets its origin back, not `*`.
    let get = Request::get("/api/test/all")
        .header(header::ORIGIN, ALLOWED)
        .body(Body::empty())
        .unwrap();
    let response = send(&state, get).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        ALLOWED
    );
}

#[tokio::test]
async fn a_cross_site_request_with_our_cookies_is_refused_before_any_handler() {
    let db = TestDb::create(&DbKind::Sqlite).await;
    let state = state(&db).await;
    let signout_from = |origin: Option<&str>, site: Option<&str>| {
        let mut request = Request::post("/api/auth/signout")
            .header(header::COOKIE, "portcullis_refresh=whatever");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.body(Body::empty()).unwrap()
    };

    for (origin, site) in [
        (Some("http://evil.example"), None),
        (Some("null"), None),
        (None, Some("cross-site")),
        (None, Some("same-site")),
    ] {
        assert_rejected(
            send(&state, signout_from(origin, site)).await,
            StatusCode::FORBIDDEN,
            "csrf",
        )
        .await;
    }
    // The allowed origin, a same-origin browser and a non-browser client pass the guard
    // and get signout's own answer.
    for (origin, site) in [
        (Some(ALLOWED), None),
        (None, Some("same-origin")),
        (None, None),
    ] {
        let response = send(&state, signout_from(origin, site)).await;
        assert_eq!(response.status(), StatusCode::OK, "{origin:?} {site:?}");
    }
    // Without our cookies there is nothing to forge.
    let no_cookie = Request::post("/api/auth/signout")
        .header(header::ORIGIN, "http://evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&state, no_cookie).await.status(), StatusCode::OK);
}
