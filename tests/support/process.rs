//! Portcullis as a child process, for the test targets that start the real binary (api,
//! soak, deployment): a command run with input on stdin, a server waited for until it is
//! ready, and SIGTERM with a deadline.
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use super::PASSWORD;

/// Runs `command`, writing `stdin` to it when given; its status and both outputs.
pub fn run_with_stdin(mut command: Command, stdin: Option<&str>) -> Output {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("the binary reads its stdin");
    }
    child.wait_with_output().expect("the binary ends")
}

/// `portcullis user create` through `command` (a binary set up on a database), with the
/// email `<username>@<domain>`, the role given and PASSWORD on stdin; panics with the
/// command's stderr if it fails.
pub fn create_user_by_cli(mut command: Command, username: &str, domain: &str, role: &str) {
    let email = format!("{username}@{domain}");
    command.args(["user", "create", "--username", username, "--email", &email]);
    command.args(["--role", role, "--password-stdin"]);
    let out = run_with_stdin(command, Some(&format!("{PASSWORD}\n")));
    assert!(
        out.status.success(),
        "user create {username} --role {role}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for `url` to answer 200. Gives up at once if `child` has exited (showing `log`
/// when there is one), and after `within`.
pub async fn wait_ready(
    http: &reqwest::Client,
    url: &str,
    child: &mut Child,
    log: Option<&Path>,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(r) = http.get(url).send().await {
            if r.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = log
                .map(|path| std::fs::read_to_string(path).unwrap_or_default())
                .unwrap_or_default();
            panic!("the process behind {url} exited {status} before it was ready\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "{url} was not ready within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// SIGTERM, then the exit status within `within`.
pub fn terminate(child: &mut Child, within: Duration) -> Result<ExitStatus, String> {
    let pid = child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .map_err(|e| format!("kill -TERM: {e}"))?;
    if !sent.success() {
        return Err(format!("kill -TERM {pid} failed"));
    }
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                return Err(format!(
                    "the process did not stop within {within:?} of SIGTERM"
                ))
            }
            Err(e) => return Err(format!("waiting for the process: {e}")),
        }
    }
}
