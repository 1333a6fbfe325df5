//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a browser session
//! ends, each client that was given tokens on it and registered a `backchannel_logout_uri`
//! is owed a logout token (`store::backchannel`, filled by `auth::notify` as sessions end,
//! and by the prune for sessions that expired); this delivers them, one node per token, and
//! retries a client that does not answer 200.
use std::time::Duration;

use serde::Serialize;

use crate::clock::Millis;
use crate::db::DbError;
use crate::service::clients;
use crate::store::backchannel::{self, Claimed};

use super::Provider;

/// How long a claimed delivery is this node's; longer than a delivery may take.
const LEASE_MS: Millis = 30_000;
/// How long a client has to answer.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts before giving up: 2 s doubling, about eight and a half minutes in all (a logout
/// token lives two minutes, but each attempt signs a fresh one).
pub const MAX_ATTEMPTS: i64 = 8;
const FIRST_PAUSE_MS: Millis = 2_000;
/// A logout token's lifetime (§2.4: short; it is delivered at once).
const TOKEN_TTL_SECS: i64 = 120;
/// The event a logout token carries (§2.4).
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Serialize)]
struct LogoutClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    sub: String,
    sid: &'a str,
    events: serde_json::Value,
}

/// Where a delivery stands after one attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// There was nothing due.
    Nothing,
    Sent,
    /// The client is gone or no longer takes logout tokens.
    Skipped,
    WillRetry,
    GivenUp,
}

/// Claims the next due logout token and delivers it.
pub async fn deliver_next(
    p: &Provider<'_>,
    http: &reqwest::Client,
    node: &str,
) -> anyhow::Result<Delivered> {
    let db = p.sessions.db;
    let now = p.sessions.clock.now_ms();
    let Some(job) = backchannel::claim_next(db, node, now, LEASE_MS).await? else {
        return Ok(Delivered::Nothing);
    };
    let client = p.client(&job.client_id).await?;
    let Some((client, uri)) = client.and_then(|c| {
        let uri = c.backchannel_logout_uri.clone()?;
        Some((c, uri))
    }) else {
        backchannel::finish(db, job.id, "skipped", None, now).await?;
        return Ok(Delivered::Skipped);
    };
    let token = logout_token(p, &client, &job)?;
    let answer = http
        .post(&uri)
        .timeout(DELIVERY_TIMEOUT)
        .header("Cache-Control", "no-store")
        .form(&[("logout_token", token.as_str())])
        .send()
        .await;
    let error = match answer {
        Ok(response) if response.status().is_success() => None,
        Ok(response) => Some(format!("{uri} answered {}", response.status())),
        Err(e) => Some(format!("{uri}: {e}")),
    };
    let now = p.sessions.clock.now_ms();
    let Some(error) = error else {
        tracing::info!(client = %job.client_id, attempts = job.attempts, "logout token delivered");
        crate::metrics::backchannel("sent");
        backchannel::finish(db, job.id, "sent", None, now).await?;
        return Ok(Delivered::Sent);
    };
    if job.attempts >= MAX_ATTEMPTS {
        tracing::error!(client = %job.client_id, attempts = job.attempts, error, "logout token given up");
        crate::metrics::backchannel("failed");
        backchannel::finish(db, job.id, "failed", Some(&error), now).await?;
        return Ok(Delivered::GivenUp);
    }
    let pause = pause_after(job.attempts);
    tracing::warn!(client = %job.client_id, attempts = job.attempts, error, retry_in_ms = pause, "logout token not delivered; will retry");
    crate::metrics::backchannel("retried");
    backchannel::retry_later(db, job.id, node, now + pause, &error).await?;
    Ok(Delivered::WillRetry)
}

/// The pause after the `attempts`-th failed attempt, in milliseconds.
pub fn pause_after(attempts: i64) -> Millis {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(10);
    FIRST_PAUSE_MS * 2i64.pow(doublings)
}

/// A signed logout token (§2.4) for the client, about the user and the browser session,
/// in the algorithm of the client's ID tokens, typed `logout+jwt`.
fn logout_token(
    p: &Provider<'_>,
    client: &crate::store::oauth_clients::ClientRecord,
    job: &Claimed,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = p.sessions.clock.now_secs();
    p.sessions
        .tokens
        .sign_with("logout+jwt", clients::id_token_alg(client), now, |_| {
            LogoutClaims {
                iss: p.issuer,
                aud: &client.client_id,
                iat: now,
                exp: now + TOKEN_TTL_SECS,
                jti: uuid::Uuid::new_v4().to_string(),
                sub: job.user_id.to_string(),
                sid: &job.session_id,
                events: serde_json::json!({ LOGOUT_EVENT: {} }),
            }
        })
}

/// Sessions that ended without a word (expired, or gone with their user) owe their clients
/// logout tokens too: queued here, a batch at a time.
pub async fn announce_ended(p: &Provider<'_>) -> Result<usize, DbError> {
    let db = p.sessions.db;
    let now = p.sessions.clock.now_ms();
    let mut queued = 0;
    for session in backchannel::ended_unannounced(db, now, 200).await? {
        queued += backchannel::enqueue_for_session(db, &session, now).await?;
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_two_seconds() {
        assert_eq!(pause_after(1), 2_000);
        assert_eq!(pause_after(2), 4_000);
        let total: Millis = (1..MAX_ATTEMPTS).map(pause_after).sum();
        assert!(total > 4 * 60_000 && total < 10 * 60_000, "{total}");
    }
}
