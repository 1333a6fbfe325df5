#![allow(dead_code)]
use std::collections::HashMap;
use std::sync::Arc;

use portcullis::auth::password::{Argon2Cost, PasswordHasher};
use portcullis::clock::Clock;
use portcullis::config::Settings;
use portcullis::domain::{Role, RoleSet};
use portcullis::server::Server;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use sqlx::Connection;

#[path = "authenticator.rs"]
mod authenticator;
#[path = "faulty_path.rs"]
mod faulty_path;
#[path = "mail.rs"]
mod mail;
#[path = "process.rs"]
mod process;
#[allow(unused_imports)] // not every test target uses passkeys
pub use authenticator::*;
#[allow(unused_imports)] // not every test target cuts a connection
pub use faulty_path::*;
#[allow(unused_imports)] // not every test target sends mail
pub use mail::*;
pub use process::*;

/// Runs each named `async fn name(db: DbKind)` once per database:
/// `name::sqlite`, `name::mysql`, `name::postgres`. An attribute first (`#[ignore = "…"]`)
/// goes on each of them.
#[macro_export]
macro_rules! on_every_database {
    (#[$attr:meta] $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[$attr]
            async fn sqlite() {
                super::$name($crate::helpers::DbKind::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[$attr]
            async fn mysql() {
                match $crate::helpers::DbKind::mysql() {
                    Some(db) => super::$name(db).await,
                    None => eprintln!("not run on MySQL: PORTCULLIS_TEST_MYSQL_URL is unset"),
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[$attr]
            async fn postgres() {
                match $crate::helpers::DbKind::postgres() {
                    Some(db) => super::$name(db).await,
                    None => eprintln!("not run on PostgreSQL: PORTCULLIS_TEST_POSTGRES_URL is unset"),
                }
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {
        $crate::on_every_database!(#[cfg(all())] $($name),*);
    };
}

#[derive(Clone, Debug)]
pub enum DbKind {
    Sqlite,
    /// The server URL (any database on it); each test creates and drops its own.
    MySql(String),
    Postgres(String),
}

/// Held by the tests that measure how the password hashing pool admits a burst or a flood
/// (its admission goes by the measured hashing rate): two of them at once on the same cores
/// would each see the other's hashes as a slow machine.
pub async fn hashing_alone() -> tokio::sync::MutexGuard<'static, ()> {
    static HASHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HASHING.lock().await
}

/// PORTCULLIS_TEST_REQUIRE_ALL_DATABASES says nothing may be skipped (as in CI): no
/// database, Redis or the tests' SMTP server.
pub fn require_all_services() -> bool {
    std::env::var_os("PORTCULLIS_TEST_REQUIRE_ALL_DATABASES").is_some()
}

/// The URL in `var`, if set. Unset is a skip, or a failure when
/// `require_all_services()`.
fn service_url(var: &str) -> Option<String> {
    let url = std::env::var(var).ok().filter(|u| !u.is_empty());
    if url.is_none() && require_all_services() {
        panic!("{var} is unset and PORTCULLIS_TEST_REQUIRE_ALL_DATABASES forbids skipping");
    }
    url
}

impl DbKind {
    pub fn mysql() -> Option<Self> {
        service_url("PORTCULLIS_TEST_MYSQL_URL").map(DbKind::MySql)
    }
    pub fn postgres() -> Option<Self> {
        service_url("PORTCULLIS_TEST_POSTGRES_URL").map(DbKind::Postgres)
    }
}

/// Redis for the runs with `PORTCULLIS_REDIS_URL` (e.g. redis://127.0.0.1:6379). Nodes
/// namespace their keys by database, so tests on their own databases never collide.
pub fn test_redis_url() -> Option<String> {
    service_url("PORTCULLIS_TEST_REDIS_URL")
}

/// A database of the test's own, dropped when the test ends (even when it fails).
pub struct TestDb {
    pub url: String,
    drop_sql: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn unique_name() -> String {
    format!("pc_test_{}", uuid::Uuid::new_v4().simple())
}

fn with_database(server_url: &str, db: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server_url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{root}/{db}{query}")
}

impl TestDb {
    pub async fn create(kind: &DbKind) -> Self {
        sqlx::any::install_default_drivers();
        match kind {
            DbKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/portcullis.db", dir.path().display());
                TestDb {
                    url,
                    drop_sql: None,
                    _dir: Some(dir),
                }
            }
            DbKind::MySql(server) | DbKind::Postgres(server) => {
                let name = unique_name();
                let mut conn = sqlx::AnyConnection::connect(server)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("cannot reach the test database server {server}: {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let drop = if matches!(kind, DbKind::Postgres(_)) {
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                } else {
                    format!("DROP DATABASE IF EXISTS {name}")
                };
                TestDb {
                    url: with_database(server, &name),
                    drop_sql: Some((server.clone(), drop)),
                    _dir: None,
                }
            }
        }
    }
}

impl TestDb {
    /// The same database for a second server (another node); only the first one drops it.
    pub fn shared(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            drop_sql: None,
            _dir: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, sql)) = self.drop_sql.take() else {
            return;
        };
        // Drop may run inside a runtime; a thread of its own may block on another one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&server).await {
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The built binary with none of the caller's PORTCULLIS_ settings nor DATABASE_URL, so
/// a developer's environment cannot change what a test starts.
pub fn clean_binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PORTCULLIS_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command
}

/// `clean_binary()` on the database `db_url`, with cheap hashing and warnings only.
pub fn binary_on(db_url: &str) -> std::process::Command {
    let mut command = clean_binary();
    command
        .env("DATABASE_URL", db_url)
        .env("PORTCULLIS_ARGON2", TEST_ARGON2)
        .env("RUST_LOG", "warn");
    command
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("its address")
        .port()
}

/// Cheap hashing for tests that are not about hashing; tests about it use the default.
pub const TEST_ARGON2: &str = "m=1024,t=1,p=1";

pub fn test_settings(db_url: &str) -> Settings {
    let mut s = Settings::defaults();
    s.bind = "127.0.0.1:0".parse().expect("addr");
    s.database_url = db_url.into();
    s.jwt_secret = None;
    s.argon2 = Argon2Cost::parse(TEST_ARGON2).expect("cost");
    s.redis_url = None;
    s
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub settings: Settings,
    server: Option<Server>,
    pub db: TestDb,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn spawn(kind: DbKind) -> Self {
        Self::spawn_with(kind, |_| {}).await
    }

    pub async fn spawn_with(kind: DbKind, configure: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::create(&kind).await;
        Self::spawn_on(db, configure).await
    }

    /// Starts a server on a database the test prepared itself.
    pub async fn spawn_on(db: TestDb, configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&db.url);
        configure(&mut settings);
        let clock = Clock::default();
        let server = Server::start(settings.clone(), clock.clone())
            .await
            .expect("server starts");
        let base = format!("http://{}", server.addr);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base,
            client,
            clock,
            settings,
            server: Some(server),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Where `/metrics` is served, when `metrics_bind` was set.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().and_then(|s| s.metrics_addr)
    }

    pub fn state(&self) -> &portcullis::app::AppState {
        &self.server.as_ref().expect("running").state
    }

    /// Stops the server (graceful) and returns once it has ended.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("clean stop");
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with(&self, path: &str, header: (&str, &str)) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header(header.0, header.1)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn signup(&self, username: &str, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/auth/signup",
            json!({"username": username, "email": email, "password": password}),
        )
        .await
    }

    pub async fn signin_raw(&self, username: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/auth/signin",
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Creates the account directly in the store, with `roles`.
    pub async fn create_user(&self, username: &str, roles: &[Role]) -> i64 {
        let state = self.state();
        let hasher =
            Arc::new(PasswordHasher::new(Argon2Cost::parse(TEST_ARGON2).unwrap()).unwrap());
        let hash = hasher.hash(PASSWORD.into()).await.unwrap();
        let roles: RoleSet = roles.iter().copied().chain([Role::User]).collect();
        portcullis::store::users::create(
            &state.db,
            portcullis::store::users::NewUser {
                username: &portcullis::domain::Username::parse(username).expect("valid username"),
                email: &portcullis::domain::Email::parse(&format!("{username}@example.com"))
                    .expect("valid email"),
                password_hash: &hash,
                roles,
            },
            self.clock.now_ms(),
        )
        .await
        .expect("user created")
    }

    /// Creates the account and signs in.
    pub async fn user_session(&self, username: &str, roles: &[Role]) -> Session {
        self.create_user(username, roles).await;
        self.signin(username, PASSWORD).await
    }

    pub async fn signin(&self, username: &str, password: &str) -> Session {
        let response = self.signin_raw(username, password).await;
        assert_eq!(
            response.status(),
            200,
            "signin of {username} should succeed"
        );
        Session::from_response(response).await
    }
}

/// What a signin handed out: the body's tokens (when delivered) and the cookies.
#[derive(Debug, Clone)]
pub struct Session {
    pub body: Value,
    pub access: Option<String>,
    pub refresh: Option<String>,
    pub cookies: HashMap<String, SetCookie>,
}

impl Session {
    pub async fn from_response(response: reqwest::Response) -> Self {
        let cookies = set_cookies(response.headers());
        let body: Value = response.json().await.expect("json body");
        Session {
            access: body["accessToken"].as_str().map(String::from),
            refresh: body["refreshToken"].as_str().map(String::from),
            body,
            cookies,
        }
    }

    pub fn bearer(&self) -> String {
        format!(
            "Bearer {}",
            self.access.as_deref().expect("access token in body")
        )
    }

    /// The Cookie header a browser would send to /api.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .values()
            .filter(|c| !c.value.is_empty())
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// Attribute names in lower case, with their values ("" for flags).
    pub attributes: HashMap<String, String>,
}

pub fn set_cookies(headers: &HeaderMap) -> HashMap<String, SetCookie> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|line| {
            let mut parts = line.split(';').map(str::trim);
            let (name, value) = parts
                .next()
                .unwrap_or_default()
                .split_once('=')
                .unwrap_or_default();
            let attributes = parts
                .map(|a| match a.split_once('=') {
                    Some((k, v)) => (k.to_ascii_lowercase(), v.to_string()),
                    None => (a.to_ascii_lowercase(), String::new()),
                })
                .collect();
            (
                name.to_string(),
                SetCookie {
                    name: name.to_string(),
                    value: value.to_string(),
                    attributes,
                },
            )
        })
        .collect()
}

/// The Content-Type of every JSON answer (docs/API.md conventions).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Asserts the status, JSON `message` and `code` of an error response; returns the body.
pub async fn assert_error(
    response: reqwest::Response,
    status: u16,
    message: &str,
    code: &str,
) -> Value {
    assert_eq!(response.status(), status, "status");
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        JSON_CONTENT_TYPE,
        "errors are JSON"
    );
    let body: Value = response.json().await.expect("json error body");
    assert_eq!(body["message"], message, "message in {body}");
    assert_eq!(body["code"], code, "code in {body}");
    body
}

/// The keys of a JSON object, to compare a body's shape with the contract's.
pub fn keys(body: &Value) -> std::collections::HashSet<&str> {
    body.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// True for "2026-11-25T17:12:39.123Z": RFC 3339, UTC, milliseconds.
pub fn is_rfc3339_millis(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

/// A GET with the session's access token as a Bearer header.
pub async fn get_as(app: &TestApp, path: &str, session: &Session) -> reqwest::Response {
    app.get_with(path, ("Authorization", &session.bearer()))
        .await
}

/// A DELETE with the session's access token as a Bearer header.
#[allow(dead_code)] // not every test target deletes
pub async fn delete_as(app: &TestApp, path: &str, session: &Session) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .header("Authorization", session.bearer())
        .send()
        .await
        .expect("request")
}

/// A POST of `body` with the session's access token as a Bearer header.
pub async fn post_as(
    app: &TestApp,
    path: &str,
    session: &Session,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("Authorization", session.bearer())
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// Presents the session's refresh token; returns the status and the body.
pub async fn refresh_status(app: &TestApp, session: &Session) -> (u16, Value) {
    let response = app
        .post(
            "/api/auth/refreshtoken",
            json!({"refreshToken": session.refresh.as_deref().unwrap()}),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The access token is refused as invalid and the refresh token as unknown.
pub async fn assert_session_ended(app: &TestApp, session: &Session) {
    assert_error(
        get_as(app, "/api/test/user", session).await,
        401,
        "Unauthorized!",
        "invalid_token",
    )
    .await;
    let (status, body) = refresh_status(app, session).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "refresh_token_invalid", "{body}");
}

/// Both session cookies are cleared: empty, Max-Age=0, on their own paths.
pub fn assert_cleared(response: &reqwest::Response) {
    let cookies = set_cookies(response.headers());
    for (name, path) in [("portcullis_access", "/"), ("portcullis_refresh", "/api")] {
        let cookie = cookies
            .get(name)
            .unwrap_or_else(|| panic!("{name} is cleared: {cookies:?}"));
        assert_eq!(cookie.value, "", "{cookie:?}");
        assert_eq!(
            cookie.attributes.get("max-age").map(String::as_str),
            Some("0"),
            "{cookie:?}"
        );
        assert_eq!(
            cookie.attributes.get("path").map(String::as_str),
            Some(path),
            "{cookie:?}"
        );
    }
}

/// A response's `Location`, or "" when it has none.
pub fn location_header(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}
