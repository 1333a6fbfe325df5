//! deploy/nginx/forward-auth.conf run for real: nginx's `auth_request` asks
//! `GET /api/auth/forward` before it serves a static app, so signed-out visitors go to the
//! login page, signed-in ones see the app, and only admins its admin part.
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
async fn nginx_auth_request_puts_a_static_app_behind_portcullis() {
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

    let (port, listen) = (free_port(), free_port());
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
        .replace("${APP_ROOT}", &path.join("app").display().to_string());
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

    // Signed out: to the login page, with the way back.
    let response = http.get(format!("{front}/app/")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login?returnUrl=/app/");

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
            let body: Value = response.json().await.unwrap();
            format!("Bearer {}", body["accessToken"].as_str().unwrap())
        }
    };
    let alice = signin("alice").await;
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

    let root = signin("root").await;
    let response = http
        .get(format!("{front}/app/admin/"))
        .header("Authorization", &root)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "the admin part\n");

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
