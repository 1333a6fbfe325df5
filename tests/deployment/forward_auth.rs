//! deploy/nginx/forward-auth.conf run for real: nginx's `auth_request` asks
//! `GET /api/auth/forward` before it serves a static app or proxies to one (the file's own
//! stand-in backend, which echoes the `X-Portcullis-*` headers it receives). Signed-out
//! visitors, and browsers whose access cookie lapsed, go to `GET /api/auth/resume` (then to
//! the login page, or straight back); signed-in ones see the apps, only admins the admin
//! part; the proxied app sees the real account whatever headers the client forged.
use std::fs::File;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

const NGINX: &str = "/usr/sbin/nginx";
const CONF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/deploy/nginx/forward-auth.conf"
);

struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // nginx's workers are in its process group.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn create_user(db_url: &str, name: &str, role: &str) {
    let mut child = binary_on(db_url)
        .args([
            "user",
            "create",
            "--username",
            name,
            "--email",
            &format!("{name}@example.com"),
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn nginx_auth_request_puts_a_static_and_a_proxied_app_behind_portcullis() {
    if !std::path::Path::new(NGINX).exists() {
        assert!(
            !require_all_services(),
            "/usr/sbin/nginx is missing (apt-get install nginx-light)"
        );
        eprintln!("SKIPPED: /usr/sbin/nginx is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let db_url = format!("sqlite://{}/p.db?mode=rwc", path.display());
    std::fs::create_dir_all(path.join("app/admin")).unwrap();
    std::fs::write(path.join("app/index.html"), "the app\n").unwrap();
    std::fs::write(path.join("app/admin/index.html"), "the admin part\n").unwrap();
    create_user(&db_url, "alice", "user");
    create_user(&db_url, "root", "admin");

    let (port, listen, backend) = (free_port(), free_port(), free_port());
    let log = File::create(path.join("node.log")).unwrap();
    let mut processes = Processes(vec![binary_on(&db_url)
        .arg("serve")
        .env("PORTCULLIS_BIND", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()]);
    let conf = std::fs::read_to_string(CONF)
        .unwrap()
        .replace("${LISTEN_PORT}", &listen.to_string())
        .replace("${PORTCULLIS_PORT}", &port.to_string())
        .replace("${APP_ROOT}", &path.join("app").display().to_string())
        .replace("${BACKEND_PORT}", &backend.to_string());
    assert!(!conf.contains("${"), "a placeholder was left unfilled");
    std::fs::write(path.join("nginx.conf"), conf).unwrap();
    processes.0.push(
        Command::new(NGINX)
            .process_group(0)
            .arg("-p")
            .arg(path)
            .arg("-c")
            .arg(path.join("nginx.conf"))
            .arg("-e")
            .arg(path.join("nginx-error.log"))
            .arg("-g")
            .arg(format!("daemon off; pid {}/nginx.pid;", path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(path.join("nginx-stderr.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let front = format!("http://127.0.0.1:{listen}");
    let [node, nginx] = &mut processes.0[..] else {
        unreachable!()
    };
    wait_ready(
        &http,
        &format!("http://127.0.0.1:{port}/health/ready"),
        node,
        None,
        Duration::from_secs(20),
    )
    .await;
    wait_ready(
        &http,
        &format!("{front}/health/ready"),
        nginx,
        None,
        Duration::from_secs(20),
    )
    .await;

    // Signed out: to Portcullis' resume page, which sends the browser to the login page,
    // with the way back.
    let response = http.get(format!("{front}/app/")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "/api/auth/resume?returnUrl=/app/"
    );
    let response = http
        .get(format!("{front}/api/auth/resume?returnUrl=/app/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login?returnUrl=%2Fapp%2F");
    // Forged identity headers let no one in either.
    let response = forged(http.get(format!("{front}/backend/")), "root", 2, "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        302,
        "forged headers alone are no sign-in"
    );
    assert_eq!(
        response.headers()["location"],
        "/api/auth/resume?returnUrl=/backend/"
    );

    let signin = |name: &'static str| {
        let http = http.clone();
        let front = front.clone();
        async move {
            let response = http
                .post(format!("{front}/api/auth/signin"))
                .json(&json!({"username": name, "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            Session::from_response(response).await
        }
    };
    let (alice_session, root_session) = (signin("alice").await, signin("root").await);
    let (alice, root) = (alice_session.bearer(), root_session.bearer());
    let alice_id = alice_session.body["id"].as_i64().unwrap();
    let root_id = root_session.body["id"].as_i64().unwrap();
    assert_ne!(alice_id, root_id);
    let response = http
        .get(format!("{front}/app/"))
        .header("Authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-portcullis-user"], "alice");
    assert_eq!(response.headers()["x-portcullis-roles"], "user");
    assert_eq!(response.text().await.unwrap(), "the app\n");
    let response = http
        .get(format!("{front}/app/admin/"))
        .header("Authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "a user is no admin");

    // The proxied app gets the account from Portcullis, not what the client sent: every
    // forged X-Portcullis-* header (sent twice, even) is replaced.
    let echo = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        serde_json::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("the backend's echo is not JSON ({e}): {text}"))
    };
    let response = forged(
        http.get(format!("{front}/backend/page?a=1")),
        "root",
        root_id,
        "user,admin",
    )
    .header("Authorization", &alice)
    .send()
    .await
    .unwrap();
    assert_eq!(
        echo(response).await,
        json!({"user": "alice", "userId": alice_id.to_string(), "roles": "user"})
    );

    let response = forged(
        http.get(format!("{front}/backend/")),
        "alice",
        alice_id,
        "user",
    )
    .header("Authorization", &root)
    .send()
    .await
    .unwrap();
    let seen = echo(response).await;
    assert_eq!(seen["user"], "root");
    assert_eq!(seen["userId"], root_id.to_string());
    assert!(
        seen["roles"]
            .as_str()
            .unwrap()
            .split(',')
            .any(|r| r == "admin"),
        "{seen}"
    );
    let response = http
        .get(format!("{front}/app/admin/"))
        .header("Authorization", &root)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "the admin part\n");

    // A browser with cookies. Its access cookie (Path=/) reaches the apps; its refresh
    // cookie (Path=/api) only Portcullis.
    let cookies = signin("alice").await.cookies;
    let access = &cookies["portcullis_access"].value;
    let refresh = &cookies["portcullis_refresh"].value;
    let response = http
        .get(format!("{front}/backend/"))
        .header("Cookie", format!("portcullis_access={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(echo(response).await["user"], "alice");
    // Forward never spends a refresh token (nginx would drop the new cookies): a client
    // that sends it along anyway is sent to resume, and no cookie comes back.
    let response = http
        .get(format!("{front}/backend/"))
        .header("Cookie", format!("portcullis_refresh={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "forward must not refresh");
    assert_eq!(
        response.headers()["location"],
        "/api/auth/resume?returnUrl=/backend/"
    );
    assert!(response.headers().get("set-cookie").is_none());
    // Once the access cookie lapsed the browser sends none to the app: to resume, where the
    // refresh cookie renews the session, and straight back with the new cookies.
    let response = http
        .get(format!("{front}/backend/x?y=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let resume = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(resume, "/api/auth/resume?returnUrl=/backend/x?y=1");
    let response = http
        .get(format!("{front}{resume}"))
        .header("Cookie", format!("portcullis_refresh={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/backend/x?y=1");
    let renewed = set_cookies(response.headers());
    let new_access = &renewed["portcullis_access"].value;
    assert!(!new_access.is_empty() && new_access != access);
    assert!(!renewed["portcullis_refresh"].value.is_empty());
    assert_ne!(&renewed["portcullis_refresh"].value, refresh);
    let response = forged(
        http.get(format!("{front}/backend/x?y=1")),
        "root",
        root_id,
        "user,admin",
    )
    .header("Cookie", format!("portcullis_access={new_access}"))
    .send()
    .await
    .unwrap();
    assert_eq!(
        echo(response).await,
        json!({"user": "alice", "userId": alice_id.to_string(), "roles": "user"})
    );

    // A session ended is let in no more.
    let response = http
        .post(format!("{front}/api/auth/signout"))
        .header("Authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = http
        .get(format!("{front}/app/"))
        .header("Authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
}

/// Identity headers a client might forge to pass as `name` (each twice: nginx must replace
/// every one, and a backend may read either).
fn forged(
    request: reqwest::RequestBuilder,
    name: &str,
    id: i64,
    roles: &str,
) -> reqwest::RequestBuilder {
    request
        .header("X-Portcullis-User", name)
        .header("X-Portcullis-User", "mallory")
        .header("X-Portcullis-User-Id", id.to_string())
        .header("X-Portcullis-User-Id", "999")
        .header("X-Portcullis-Roles", roles)
        .header("X-Portcullis-Roles", "moderator")
}
