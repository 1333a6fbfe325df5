//! Passkey sign-ins per second against a running server, for scripts/bench: each worker
//! signs up an account, registers a software passkey (tests/support/authenticator.rs) and
//! then signs in with it over and over, `…/signin/start` then `…/signin/finish`, on one
//! connection. One client thread, as wrk -t1 is for the password figure. Prints
//! "sign-ins/s median_ms p99_ms failures".
//!   passkey_signin BASE_URL SECONDS [WORKERS]
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "../tests/support/authenticator.rs"]
mod authenticator;
use authenticator::SoftPasskey;

const PASSWORD: &str = "correct horse battery staple";

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Result<(u16, Value), Failure> {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// An account with a registered passkey, and the passkey.
async fn enrol(client: &reqwest::Client, base: &str, n: usize) -> Result<SoftPasskey, Failure> {
    let name = format!("pk{n}_{}", std::process::id());
    let signup =
        json!({"username": name, "email": format!("{name}@bench.example"), "password": PASSWORD});
    post(client, format!("{base}/api/auth/signup"), None, signup).await?;
    let (_, session) = post(
        client,
        format!("{base}/api/auth/signin"),
        None,
        json!({"username": name, "password": PASSWORD}),
    )
    .await?;
    let token = session["accessToken"].as_str().ok_or("no access token")?;
    let url = format!("{base}/api/auth/passkeys/register/start");
    let (_, options) = post(client, url, Some(token), json!({})).await?;
    let mut key = SoftPasskey::localhost();
    let credential = key.register(&options);
    let url = format!("{base}/api/auth/passkeys/register/finish");
    let (status, body) = post(
        client,
        url,
        Some(token),
        json!({ "credential": credential }),
    )
    .await?;
    if status != 201 {
        return Err(format!("registering a passkey: {status} {body}").into());
    }
    Ok(key)
}

async fn worker(base: String, mut key: SoftPasskey, until: Instant) -> (Vec<Duration>, u64) {
    let client = reqwest::Client::new();
    let (mut times, mut failures) = (Vec::new(), 0);
    while Instant::now() < until {
        let began = Instant::now();
        let start = post(
            &client,
            format!("{base}/api/auth/passkeys/signin/start"),
            None,
            json!({}),
        );
        let ok = match start.await {
            Ok((200, options)) => {
                let credential = key.sign(&options);
                let url = format!("{base}/api/auth/passkeys/signin/finish");
                matches!(
                    post(&client, url, None, json!({ "credential": credential })).await,
                    Ok((200, _))
                )
            }
            _ => false,
        };
        if ok {
            times.push(began.elapsed());
        } else {
            failures += 1;
        }
    }
    (times, failures)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .ok_or("usage: passkey_signin BASE_URL SECONDS [WORKERS]")?;
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let workers: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);
    let client = reqwest::Client::new();
    let mut keys = Vec::new();
    for n in 0..workers {
        keys.push(enrol(&client, &base, n).await?);
    }
    let until = Instant::now() + Duration::from_secs(seconds);
    let began = Instant::now();
    let tasks: Vec<_> = keys
        .into_iter()
        .map(|key| tokio::spawn(worker(base.clone(), key, until)))
        .collect();
    let (mut times, mut failures) = (Vec::new(), 0);
    for task in tasks {
        let (t, f) = task.await?;
        times.extend(t);
        failures += f;
    }
    let elapsed = began.elapsed().as_secs_f64();
    times.sort();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:.1} {:.2} {:.2} {}",
        times.len() as f64 / elapsed,
        at(0.5),
        at(0.99),
        failures
    );
    Ok(())
}
