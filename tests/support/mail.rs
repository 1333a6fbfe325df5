//! The tests' SMTP server (tests/mail/catcher.py, aiosmtpd, installed by tests/mail/install
//! into target/mail-venv) as a child process on a free port, and the mails it caught.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;

use super::require_all_services;

fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/mail-venv/bin/python")
}

/// A mail as the server caught it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl Mail {
    /// The `token=` of the first link to `<public url>/<page>?token=` in the text part, checked
    /// to be in the HTML part too.
    pub fn token(&self, page: &str) -> String {
        let marker = format!("/{page}?token=");
        let start = self
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("no {marker} link in {:?}", self.text))
            + marker.len();
        let token: String = self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            self.html.contains(&format!("{marker}{token}")),
            "the HTML part has the same link: {}",
            self.html
        );
        token
    }
}

pub struct MailCatcher {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl MailCatcher {
    /// `None` (a skip, said on stderr) when the catcher is not installed, unless CI requires
    /// every service, when it is a failure.
    pub async fn start() -> Option<Self> {
        if !python().exists() {
            let why = "the tests' SMTP server is not installed: run tests/mail/install";
            assert!(!require_all_services(), "{why}");
            eprintln!("SKIPPED: {why}");
            return None;
        }
        let mut catcher = MailCatcher {
            port: super::free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        catcher.resume().await;
        Some(catcher)
    }

    /// `smtp://127.0.0.1:<port>`, for PORTCULLIS_SMTP_URL.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port, keeping what it caught before.
    pub async fn resume(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mail/catcher.py");
        let child = Command::new(python())
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the SMTP catcher runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the SMTP catcher did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server: connections to its port are refused until `resume`.
    pub fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every mail caught so far, in the order caught.
    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.dir.path())
            .expect("the catcher's folder")
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let path = e.path();
                let n = path.file_stem()?.to_str()?.parse().ok()?;
                (path.extension()? == "json").then_some((n, path))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| {
                let text = std::fs::read_to_string(&path).expect("a caught mail");
                let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                let raw = v["data"].as_str().unwrap_or_default().to_string();
                let parsed = MessageParser::default()
                    .parse(raw.as_bytes())
                    .expect("a mail the parser reads");
                Mail {
                    from: v["from"].as_str().unwrap_or_default().to_string(),
                    to: v["to"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect(),
                    subject: parsed.subject().unwrap_or_default().to_string(),
                    text: parsed.body_text(0).unwrap_or_default().into_owned(),
                    html: parsed.body_html(0).unwrap_or_default().into_owned(),
                    raw,
                }
            })
            .collect()
    }

    /// The mails to `to` whose subject is `subject`.
    pub fn mails_to(&self, to: &str, subject: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)) && m.subject == subject)
            .collect()
    }

    /// Waits up to `within` for the `n`-th mail to `to` with `subject`; returns it.
    pub async fn wait_for(&self, to: &str, subject: &str, n: usize, within: Duration) -> Mail {
        let deadline = Instant::now() + within;
        loop {
            let found = self.mails_to(to, subject);
            if found.len() >= n {
                return found[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{n} to {to} with subject {subject:?} within {within:?}; caught: {:?}",
                self.mails()
                    .iter()
                    .map(|m| (m.to.clone(), m.subject.clone()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for MailCatcher {
    fn drop(&mut self) {
        self.pause();
    }
}
