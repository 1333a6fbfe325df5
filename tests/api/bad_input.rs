//! Whatever a client sends, the answer is a 4xx in our JSON error shape (docs/API.md,
//! conventions): malformed or mistyped JSON, other content types, oversized bodies, tokens
//! of every shape, unknown routes and methods. Never a 5xx, never a leak.
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::on_every_database;

on_every_database!(
    malformed_json_is_a_400_json_error,
    a_json_route_refuses_other_content_types_with_415,
    a_body_over_64_kib_with_a_content_length_is_refused_with_413,
    a_streamed_body_over_64_kib_is_refused_with_413,
    tokens_of_every_shape_are_401_never_5xx,
    unknown_routes_are_404_json,
    a_wrong_method_is_405_json,
    mistyped_fields_are_400_json,
    unicode_and_control_characters_are_400_json,
);

/// Words that would mean an internal detail reached the client.
const LEAKS: [&str; 4] = ["panicked", "sqlx", "SELECT", "src/"];

/// Asserts the status and our error shape; returns the body.
async fn assert_json_error(response: reqwest::Response, status: u16, context: &str) -> Value {
    assert_eq!(response.status(), status, "{context}");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.expect("body");
    assert!(
        content_type.starts_with("application/json"),
        "{context}: errors are JSON, got {content_type:?}: {text}"
    );
    assert_no_leak(&text, context);
    let body: Value = serde_json::from_str(&text).expect("json error body");
    assert!(body["message"].is_string(), "{context}: {body}");
    assert!(body["code"].is_string(), "{context}: {body}");
    body
}

fn assert_no_leak(text: &str, context: &str) {
    for word in LEAKS {
        assert!(!text.contains(word), "{context}: {word:?} in {text}");
    }
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    request.send().await.expect("request")
}

const JSON: Option<&str> = Some("application/json");

async fn malformed_json_is_a_400_json_error(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let bodies = [
        r#"{"username": "alice", "password": "#,
        r#"{"username": "alice" "password": "x"}"#,
        r#"{'username': 'alice', 'password': 'x'}"#,
        r#"{"username": "alice", "password": "x",}"#,
        r#"{"username": "alice", "password": "x"} trailing"#,
        "not json at all",
        "{",
    ];
    for path in [
        "/api/auth/signin",
        "/api/auth/signup",
        "/api/auth/refreshtoken",
        "/api/auth/signout",
    ] {
        for body in bodies {
            let response = post_raw(&app, path, JSON, body).await;
            let context = format!("POST {path} {body}");
            assert_eq!(response.headers()["cache-control"], "no-store", "{context}");
            let error = assert_json_error(response, 400, &context).await;
            assert_eq!(error["code"], "invalid_request", "{context}");
        }
    }
    // An empty body where one is required is no exception.
    for path in ["/api/auth/signin", "/api/auth/signup"] {
        let response = post_raw(&app, path, JSON, "").await;
        assert_json_error(response, 400, &format!("empty body to {path}")).await;
    }
    app.stop().await;
}

async fn a_json_route_refuses_other_content_types_with_415(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let body = json!({"username": "alice", "password": PASSWORD}).to_string();
    for path in [
        "/api/auth/signin",
        "/api/auth/signup",
        "/api/auth/refreshtoken",
    ] {
        for content_type in [
            Some("text/plain"),
            None,
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
        ] {
            let response = post_raw(&app, path, content_type, body.clone()).await;
            let context = format!("POST {path} as {content_type:?}");
            assert_eq!(response.headers()["cache-control"], "no-store", "{context}");
            assert_json_error(response, 415, &context).await;
        }
    }
    // The same body as JSON is read (and is merely a failed sign-in).
    for content_type in ["application/json", "application/json; charset=utf-8"] {
        let response = post_raw(&app, "/api/auth/signin", Some(content_type), body.clone()).await;
        assert_eq!(response.status(), 401, "{content_type}");
    }
    app.stop().await;
}

/// A signin body of exactly `len` bytes.
fn signin_body_of(len: usize) -> Vec<u8> {
    let skeleton = json!({"username": "", "password": PASSWORD}).to_string();
    let username = "a".repeat(len - skeleton.len());
    let body = json!({"username": username, "password": PASSWORD}).to_string();
    assert_eq!(body.len(), len);
    body.into_bytes()
}

const LIMIT: usize = 64 * 1024;

async fn a_body_over_64_kib_with_a_content_length_is_refused_with_413(db: DbKind) {
    let app = TestApp::spawn(db).await;
    // Exactly 64 KiB is allowed: an implausible login, so a failed sign-in.
    let response = post_raw(&app, "/api/auth/signin", JSON, signin_body_of(LIMIT)).await;
    assert_eq!(response.status(), 401, "64 KiB is within the limit");

    for (len, content_type) in [
        (LIMIT + 1, JSON),
        (4 * LIMIT, JSON),
        // Refused for its size before its type is looked at.
        (LIMIT + 1, Some("text/plain")),
    ] {
        for path in ["/api/auth/signin", "/api/auth/signup"] {
            let response = post_raw(&app, path, content_type, signin_body_of(len)).await;
            let context = format!("{len} bytes of {content_type:?} to {path}");
            let error = assert_json_error(response, 413, &context).await;
            assert_eq!(error["code"], "payload_too_large", "{context}");
        }
    }
    // Nothing was read from it: no password was checked.
    assert_eq!(app.state().hasher.verifications(), 1);
    app.stop().await;
}

/// Sends a POST with a chunked body (no Content-Length) over a plain socket; returns the
/// status and the response body. reqwest is built here without its `stream` feature.
async fn post_chunked(app: &TestApp, path: &str, body: &[u8]) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(8 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before it has read everything: write and read at once.
    let write = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        let _ = writer.flush().await;
        writer
    });
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
            if complete_response(&response).is_some() {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server answered within 5 s");
    drop(write.await);
    complete_response(&response)
        .unwrap_or_else(|| panic!("a whole response: {}", String::from_utf8_lossy(&response)))
}

/// The status and body of an HTTP/1.1 response with a Content-Length, once all of it is in.
fn complete_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (body.len() >= length).then(|| (status, body[..length].to_string()))
}

async fn a_streamed_body_over_64_kib_is_refused_with_413(db: DbKind) {
    let app = TestApp::spawn(db).await;
    // The raw client is sound: a small chunked body is read like any other.
    let (status, body) = post_chunked(&app, "/api/auth/signin", &signin_body_of(200)).await;
    assert_eq!(status, 401, "{body}");

    for len in [LIMIT + 1, 4 * LIMIT] {
        for path in ["/api/auth/signin", "/api/auth/signup"] {
            let (status, text) = post_chunked(&app, path, &signin_body_of(len)).await;
            let context = format!("{len} streamed bytes to {path}");
            assert_eq!(status, 413, "{context}: {text}");
            assert_no_leak(&text, &context);
            let error: Value = serde_json::from_str(&text).expect("json error body");
            assert_eq!(error["code"], "payload_too_large", "{context}");
            assert!(error["message"].is_string(), "{context}");
        }
    }
    app.stop().await;
}

async fn tokens_of_every_shape_are_401_never_5xx(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let garbage: String = (0..10 * 1024)
        .map(|i| char::from(b"AZaz09-_.~+/="[i % 13]))
        .collect();
    let authorization: Vec<HeaderValue> = [
        "".to_string(),
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Bearer a.b".to_string(),
        "Bearer a.b.c".to_string(),
        "Bearer ...".to_string(),
        "Bearer a.b.c.d".to_string(),
        format!("Bearer {garbage}"),
        "Basic xyz".to_string(),
        "Basic YWxpY2U6cGFzc3dvcmQ=".to_string(),
        "bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA".to_string(),
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEifQ.AAAA".to_string(),
        "Bearer W10.W10.W10".to_string(),
    ]
    .into_iter()
    .map(|v| HeaderValue::from_str(&v).unwrap())
    .chain([
        HeaderValue::from_bytes(b"Bearer \xff\xfe\x80\x81.\xc3\x28.\xa0\xa1").unwrap(),
        HeaderValue::from_bytes(b"\xff\xfe\xfd").unwrap(),
    ])
    .collect();
    let access_token: Vec<HeaderValue> = [
        "".to_string(),
        "a.b".to_string(),
        "...".to_string(),
        "a.b.c.d".to_string(),
        garbage.clone(),
        "Bearer xyz".to_string(),
        "null".to_string(),
        "undefined".to_string(),
    ]
    .into_iter()
    .map(|v| HeaderValue::from_str(&v).unwrap())
    .chain([HeaderValue::from_bytes(b"\xff\xfe\x80\x81.\xc3\x28.\xa0\xa1").unwrap()])
    .collect();

    let cases = authorization
        .iter()
        .map(|v| ("authorization", v))
        .chain(access_token.iter().map(|v| ("x-access-token", v)));
    for (header, value) in cases {
        let context = format!("{header}: {:?}", String::from_utf8_lossy(value.as_bytes()));
        for route in ["/api/test/user", "/api/test/mod", "/api/test/admin"] {
            let response = app
                .client
                .get(app.url(route))
                .header(header, value.clone())
                .send()
                .await
                .unwrap();
            let error = assert_json_error(response, 401, &format!("{route} {context}")).await;
            // An empty or scheme-only header may read as "no token"; anything else is a bad one.
            match (&error["code"], &error["message"]) {
                (code, message) if code == "invalid_token" => {
                    assert_eq!(message, "Unauthorized!", "{context}")
                }
                (code, message) if code == "unauthenticated" => {
                    assert_eq!(message, "No token provided!", "{context}");
                    let blank = String::from_utf8_lossy(value.as_bytes())
                        .trim()
                        .trim_start_matches("Bearer")
                        .is_empty();
                    assert!(blank, "{context} carries something: it is a bad token");
                }
                _ => panic!("{context}: {error}"),
            }
        }
        // The public route ignores them; signout always succeeds; signup treats them as
        // anonymous.
        let public = app
            .client
            .get(app.url("/api/test/all"))
            .header(header, value.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(public.status(), 200, "{context}");
        let signout = app
            .client
            .post(app.url("/api/auth/signout"))
            .header(header, value.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(signout.status(), 200, "{context}");
    }
    let signup = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("Authorization", format!("Bearer {garbage}"))
        .json(&json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    app.stop().await;
}

async fn unknown_routes_are_404_json(db: DbKind) {
    let app = TestApp::spawn(db).await;
    for (method, path) in [
        ("GET", "/api/nothing-here"),
        ("POST", "/api/auth/login"),
        ("GET", "/api/test/superuser"),
        ("GET", "/api/test/all/extra"),
        ("DELETE", "/api/nope/1"),
        ("GET", "/api/auth/signin%00"),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_json_error(response, 404, &format!("{method} {path}")).await;
    }
    app.stop().await;
}

async fn a_wrong_method_is_405_json(db: DbKind) {
    let app = TestApp::spawn(db).await;
    for (method, path) in [
        ("GET", "/api/auth/signin"),
        ("GET", "/api/auth/signup"),
        ("PUT", "/api/auth/refreshtoken"),
        ("DELETE", "/api/auth/signout"),
        ("POST", "/api/test/all"),
        ("PATCH", "/api/test/admin"),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_json_error(response, 405, &format!("{method} {path}")).await;
    }
    app.stop().await;
}

async fn mistyped_fields_are_400_json(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let mut deep = String::new();
    for _ in 0..10_000 {
        deep.push('[');
    }
    for _ in 0..10_000 {
        deep.push(']');
    }
    let nested = format!(r#"{{"username": {deep}, "password": "x"}}"#);
    let signin = [
        json!({"username": null, "password": PASSWORD}).to_string(),
        json!({"username": "alice", "password": null}).to_string(),
        json!({"username": 42, "password": PASSWORD}).to_string(),
        json!({"username": "alice", "password": 12345678}).to_string(),
        json!({"username": true, "password": PASSWORD}).to_string(),
        json!({"username": ["alice"], "password": PASSWORD}).to_string(),
        json!({"username": {"$ne": ""}, "password": {"$ne": ""}}).to_string(),
        json!(["alice", PASSWORD]).to_string(),
        json!([]).to_string(),
        json!([{"username": "alice", "password": PASSWORD}]).to_string(),
        "null".to_string(),
        "42".to_string(),
        r#""alice""#.to_string(),
        json!({}).to_string(),
        json!({"username": "alice"}).to_string(),
        json!({"username": "alice", "password": PASSWORD, "remember": true}).to_string(),
        nested.clone(),
        deep.clone(),
    ];
    let signup = [
        json!({"username": null, "email": "a@example.com", "password": PASSWORD}).to_string(),
        json!({"username": "alice", "email": null, "password": PASSWORD}).to_string(),
        json!({"username": "alice", "email": 7, "password": PASSWORD}).to_string(),
        json!({"username": "alice", "email": "a@example.com", "password": PASSWORD, "roles": null, "x": 1}).to_string(),
        json!({"username": "alice", "email": "a@example.com", "password": PASSWORD, "roles": [1]}).to_string(),
        json!({"username": "alice", "email": "a@example.com", "password": PASSWORD, "roles": {"admin": true}}).to_string(),
        json!(["alice", "a@example.com", PASSWORD]).to_string(),
        json!(["alice", "a@example.com", PASSWORD, ["admin"]]).to_string(),
        nested.replace("\"password\"", "\"email\": \"a@example.com\", \"password\""),
        deep.clone(),
    ];
    let refresh = [
        json!({"refreshToken": 5}).to_string(),
        json!({"refreshToken": ["x"]}).to_string(),
        json!({"refreshToken": {"$gt": ""}}).to_string(),
        json!({"token": "x"}).to_string(),
        json!(["some-token"]).to_string(),
        deep.clone(),
    ];
    let cases = signin
        .iter()
        .map(|b| ("/api/auth/signin", b))
        .chain(signup.iter().map(|b| ("/api/auth/signup", b)))
        .chain(refresh.iter().map(|b| ("/api/auth/refreshtoken", b)));
    for (path, body) in cases {
        let response = post_raw(&app, path, JSON, body.clone()).await;
        let shown: String = body.chars().take(80).collect();
        let context = format!("{path} {shown}");
        let error = assert_json_error(response, 400, &context).await;
        assert_eq!(error["code"], "invalid_request", "{context}");
    }
    // None of it created an account or checked a password.
    assert_eq!(app.state().hasher.verifications(), 0);
    assert_eq!(
        app.signup("alice", "a@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    app.stop().await;
}

async fn unicode_and_control_characters_are_400_json(db: DbKind) {
    let app = TestApp::spawn(db).await;
    let signup = |username: &str, email: &str| {
        json!({"username": username, "email": email, "password": PASSWORD})
            .to_string()
            .into_bytes()
    };
    let raw_control = br#"{"username": "al	ice", "email": "a@example.com", "password": "correct horse battery staple"}"#
        .iter()
        .map(|b| if *b == b'\t' { 0x01 } else { *b })
        .collect::<Vec<u8>>();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("accented username", signup("ålïce", "a@example.com")),
        ("cyrillic look-alike", signup("аlice", "a@example.com")),
        ("zero-width joiner", signup("ali\u{200d}ce", "a@example.com")),
        ("right-to-left override", signup("ali\u{202e}ce", "a@example.com")),
        ("emoji", signup("alice🦀", "a@example.com")),
        ("NUL in username", signup("ali\u{0}ce", "a@example.com")),
        ("newline in username", signup("alice\n", "a@example.com")),
        ("NUL in email", signup("alice", "a\u{0}@example.com")),
        ("CRLF in email", signup("alice", "a@example.com\r\nBcc: x@y.z")),
        ("escape in email", signup("alice", "a\u{1b}[31m@example.com")),
        ("raw control character in a string", raw_control),
        (
            "invalid UTF-8",
            b"{\"username\": \"al\xff\xfeice\", \"email\": \"a@example.com\", \"password\": \"correct horse battery staple\"}".to_vec(),
        ),
        (
            "lone surrogate escape",
            br#"{"username": "al\ud800ice", "email": "a@example.com", "password": "correct horse battery staple"}"#.to_vec(),
        ),
        (
            "byte order mark",
            [&b"\xef\xbb\xbf"[..], &signup("alice", "a@example.com")].concat(),
        ),
    ];
    for (why, body) in cases {
        let response = post_raw(&app, "/api/auth/signup", JSON, body).await;
        let error = assert_json_error(response, 400, why).await;
        assert_eq!(error["code"], "invalid_request", "{why}: {error}");
    }
    // Sign-in takes any string as a login: one that cannot exist is a failed sign-in.
    for login in [
        "ali\u{0}ce",
        "ålïce",
        "a\u{0}@example.com",
        "\u{202e}\u{200d}🦀",
    ] {
        let response = app.signin_raw(login, PASSWORD).await;
        let error = assert_json_error(response, 401, &format!("signin as {login:?}")).await;
        assert_eq!(error["code"], "invalid_credentials", "{login:?}");
    }
    for (why, body) in [
        (
            "raw control character",
            b"{\"username\": \"al\x01ice\", \"password\": \"x\"}".to_vec(),
        ),
        (
            "invalid UTF-8",
            b"{\"username\": \"al\xffice\", \"password\": \"x\"}".to_vec(),
        ),
        (
            "lone surrogate escape",
            br#"{"username": "alice", "password": "\udc00x"}"#.to_vec(),
        ),
    ] {
        let response = post_raw(&app, "/api/auth/signin", JSON, body).await;
        let error = assert_json_error(response, 400, why).await;
        assert_eq!(error["code"], "invalid_request", "{why}");
    }
    app.stop().await;
}

on_every_database!(path_traversal_never_serves_a_file_from_disk);

/// `/api/../../etc/passwd` reaches the server as `/etc/passwd` (clients resolve dot
/// segments), which is no API path: whatever answers, it is never the file.
async fn path_traversal_never_serves_a_file_from_disk(db: DbKind) {
    let app = TestApp::spawn(db).await;
    for path in [
        "/api/../../etc/passwd",
        "/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let response = app.get(path).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(!body.contains("root:"), "{path} served a file");
        assert!(status == 200 || status == 404, "{path}: {status}");
    }
    app.stop().await;
}

/// One raw HTTP request (`head` without its final blank line) over a plain socket; the
/// status and the whole head and body of the answer.
async fn raw_request(app: &TestApp, head: &str) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered within 5 s")
        .expect("read");
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Issue 22, item 8 (RFC 9112 §3.2): two `Host` headers, none in HTTP/1.1, or one that is
/// no host, is a 400 in our JSON shape; HTTP/1.0 may leave it out.
#[tokio::test]
async fn a_request_without_exactly_one_host_is_a_400() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let (status, text) =
        raw_request(&app, &format!("GET /api/test/all HTTP/1.1\r\nHost: {addr}")).await;
    assert_eq!(status, 200, "{text}");
    for head in [
        format!("GET /api/test/all HTTP/1.1\r\nHost: {addr}\r\nHost: evil.example"),
        format!("GET /api/test/all HTTP/1.1\r\nHost: {addr}\r\nHost: {addr}"),
        "GET /api/test/all HTTP/1.1\r\nAccept: */*".to_string(),
        "GET /api/test/all HTTP/1.1\r\nHost: a b".to_string(),
        "GET /api/test/all HTTP/1.1\r\nHost: user@example.com".to_string(),
    ] {
        let (status, text) = raw_request(&app, &head).await;
        assert_eq!(status, 400, "{head:?}: {text}");
        assert!(
            text.contains("\"code\":\"invalid_request\""),
            "{head:?}: {text}"
        );
        assert!(
            text.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{text}"
        );
    }
    let (status, text) = raw_request(&app, "GET /api/test/all HTTP/1.0").await;
    assert_eq!(status, 200, "HTTP/1.0 may omit Host: {text}");
    app.stop().await;
}

/// Issue 22, item 9: `nosniff` on every answer, no framing of HTML pages (the API docs
/// included), HSTS on an `https://` public URL unless turned off.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    for path in [
        "/api/test/all",
        "/api/no-such-route",
        "/api/docs",
        "/api/openapi.json",
        "/health/live",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(
            headers.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert!(
            headers.get("strict-transport-security").is_none(),
            "{path}: no HSTS on http://"
        );
    }
    let docs = app.get("/api/docs").await;
    assert!(docs.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(docs.headers()["x-frame-options"], "DENY");
    let policy = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(
        policy.contains("default-src 'self'"),
        "the page's own policy is kept: {policy}"
    );
    app.stop().await;

    let https = TestApp::spawn_with(DbKind::Sqlite, |s| {
        s.public_url = "https://auth.example.com".into()
    })
    .await;
    let response = https.get("/api/test/all").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    https.stop().await;
    let behind_proxy = TestApp::spawn_with(DbKind::Sqlite, |s| {
        s.public_url = "https://auth.example.com".into();
        s.hsts = false;
    })
    .await;
    let response = behind_proxy.get("/api/test/all").await;
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_none());
    behind_proxy.stop().await;
}

/// A body nobody reads (a GET with one, a route or a refusal that takes none) must not cost
/// the client its kept-alive connection: hyper used to close it now and then instead of
/// reading the next request, and a client's next POST on it failed (seen 3 to 30 requests
/// in). Every one of these answers over one connection.
#[tokio::test]
async fn a_body_nobody_reads_keeps_the_connection_alive() {
    let app =
        TestApp::spawn_with(DbKind::Sqlite, |s| s.anonymous_starts_per_minute = 100_000).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let requests = [
        ("GET", "/api/test/all", 200),
        ("POST", "/api/auth/passkeys/signin/start", 200),
        ("DELETE", "/api/test/all", 405),
        ("POST", "/api/auth/signout-all", 401),
    ];
    for round in 0..60 {
        let (method, path, status) = requests[round % requests.len()];
        let body = "{\"unread\": true}";
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        // The body a moment after the head, as clients that write them apart send it: the
        // server may answer before it has arrived.
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(2)).await;
        stream.write_all(body.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        let mut buf = [0u8; 8192];
        let got = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Some((status, _)) = complete_response(&answer) {
                    return Some(status);
                }
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await
        .expect("answered within 5 s");
        assert_eq!(
            got,
            Some(status),
            "request {round} ({method} {path}) on the same connection: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    app.stop().await;
}
