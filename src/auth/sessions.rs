//! The session lifecycle: opened by a sign-in, kept alive by refresh-token rotation,
//! ended by signout, reuse detection, disabling or deletion.
use std::time::Duration;

use crate::auth::access_token::AccessTokens;
use crate::auth::notify::Notifier;
use crate::auth::refresh_token;
use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::domain::{SecondFactor, SigninMethod};
pub use crate::store::sessions::ClientGrant;
use crate::store::{self, sessions::RefreshRecord};

/// How long sessions and their refresh tokens live (docs/API.md §3).
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// Absolute: however often refreshed, a session ends then.
    pub session: Duration,
    /// Idle: a refresh token unused this long has expired.
    pub refresh_idle: Duration,
    /// How long a spent refresh token still yields the session's current successor.
    pub reuse_interval: Duration,
}

/// What the session lifecycle works with: where sessions are kept, the clock, the signer
/// of access tokens, the key successors are derived with, the lifetimes, and whom to tell
/// when a session ends.
pub struct Sessions<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub tokens: &'a AccessTokens,
    pub refresh_key: &'a [u8],
    pub lifetimes: Lifetimes,
    pub notify: Notifier<'a>,
}

/// A fresh access token and the session's current refresh token.
pub struct Issued {
    pub user_id: i64,
    pub session_id: String,
    pub access_token: String,
    pub refresh_token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("refresh token unknown or revoked")]
    Invalid,
    #[error("refresh token expired")]
    Expired,
    #[error("refresh token reused")]
    Reused { user_id: i64 },
    /// The grant is DPoP-bound and the proof was made with another key, or there was none.
    #[error("refresh token bound to another DPoP key")]
    WrongKey,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for RefreshError {
    fn from(e: DbError) -> Self {
        RefreshError::Internal(e.into())
    }
}

/// How far a chain of successors is followed within the reuse interval.
const MAX_CHAIN_WALK: usize = 16;

/// Opens a session for a user who just proved who they are.
pub async fn open(
    s: &Sessions<'_>,
    user_id: i64,
    method: SigninMethod,
    user_agent: Option<&str>,
    ip: &str,
) -> anyhow::Result<Issued> {
    open_with(s, user_id, (method, None), user_agent, ip, None, None).await
}

/// Opens the session of a sign-in that took a second step, recording which factor.
pub async fn open_after_second_step(
    s: &Sessions<'_>,
    user_id: i64,
    how: (SigninMethod, SecondFactor),
    user_agent: Option<&str>,
    ip: &str,
) -> anyhow::Result<Issued> {
    open_with(s, user_id, (how.0, Some(how.1)), user_agent, ip, None, None).await
}

/// Opens the session of an OpenID Connect client's grant: its tokens are the client's
/// (`AccessTokens::issue_oauth`), and only that client can refresh it. `access_ttl_secs`:
/// the client's own access token lifetime, when shorter than the server's.
pub async fn open_for_client(
    s: &Sessions<'_>,
    user_id: i64,
    method: SigninMethod,
    user_agent: Option<&str>,
    ip: &str,
    grant: ClientGrant<'_>,
    access_ttl_secs: Option<i64>,
) -> anyhow::Result<Issued> {
    let how = (method, None);
    open_with(
        s,
        user_id,
        how,
        user_agent,
        ip,
        Some(grant),
        access_ttl_secs,
    )
    .await
}

async fn open_with(
    s: &Sessions<'_>,
    user_id: i64,
    (method, second_factor): (SigninMethod, Option<SecondFactor>),
    user_agent: Option<&str>,
    ip: &str,
    grant: Option<ClientGrant<'_>>,
    access_ttl_secs: Option<i64>,
) -> anyhow::Result<Issued> {
    let now = s.clock.now_ms();
    let session_id = new_session_id();
    let refresh = refresh_token::generate();
    let expires_at = now + s.lifetimes.session.as_millis() as i64;
    store::sessions::create(
        s.db,
        store::sessions::NewSession {
            id: &session_id,
            user_id,
            method,
            second_factor,
            expires_at,
            user_agent: user_agent.map(|ua| truncate(ua, 512)),
            ip: Some(ip),
            refresh_hash: &refresh_token::hash(&refresh),
            refresh_expires_at: refresh_expiry(s, now, expires_at),
            client: grant,
        },
        now,
    )
    .await?;
    let ends = token_end(now, expires_at, access_ttl_secs);
    let access_token = access_token(s, user_id, &session_id, grant, now, ends)?;
    Ok(Issued {
        user_id,
        session_id,
        access_token,
        refresh_token: refresh,
    })
}

/// Rotates `presented` (docs/API.md §1, refresh): spends it and issues its successor, or,
/// within the reuse interval after it was spent, hands out the session's current refresh
/// token again; after that interval a spent token is reuse and ends the whole session.
pub async fn refresh(s: &Sessions<'_>, presented: &str) -> Result<Issued, RefreshError> {
    refresh_as(s, presented, None).await
}

/// As `refresh`, for the refresh token of `client`'s grant (`None`: a first-party one).
/// A token of another client, or of the other kind, is unknown here.
pub async fn refresh_as(
    s: &Sessions<'_>,
    presented: &str,
    client: Option<&str>,
) -> Result<Issued, RefreshError> {
    refresh_narrowed(s, presented, client, None, None, None).await
}

/// As `refresh_as`, with the new access token's scope narrowed to `scope` (RFC 6749 §6; the
/// caller checked it is within the grant's). The grant, and so its next refresh, keeps its
/// whole scope. `access_ttl_secs`: the client's own access token lifetime, as for
/// `open_for_client`. `dpop_jkt`: the key of the DPoP proof that came with it, which a
/// DPoP-bound grant's must be (RFC 9449 §5).
pub async fn refresh_narrowed(
    s: &Sessions<'_>,
    presented: &str,
    client: Option<&str>,
    scope: Option<&str>,
    access_ttl_secs: Option<i64>,
    dpop_jkt: Option<&str>,
) -> Result<Issued, RefreshError> {
    let scope = Narrowed {
        scope,
        access_ttl_secs,
    };
    if presented.is_empty() || presented.len() > refresh_token::MAX_LEN {
        return Err(RefreshError::Invalid);
    }
    let now = s.clock.now_ms();
    let mut record = find_live(s, presented, client).await?;
    if record.dpop_jkt.is_some() && record.dpop_jkt.as_deref() != dpop_jkt {
        return Err(RefreshError::WrongKey);
    }
    if record.spent_at.is_none() {
        check_expiry(&record, now)?;
        let successor = refresh_token::successor(s.refresh_key, presented);
        let rotated = store::sessions::rotate(
            s.db,
            record.id,
            &record.session_id,
            &refresh_token::hash(&successor),
            now,
            refresh_expiry(s, now, record.session_expires_at),
        )
        .await?;
        if rotated {
            return issue(s, &record, successor, now, scope);
        }
        // Another request spent it a moment ago; answer as that request's sibling.
        record = find_live(s, presented, client).await?;
    }
    let spent_at = record.spent_at.unwrap_or(now);
    let interval = s.lifetimes.reuse_interval.as_millis() as i64;
    if interval > 0 && now - spent_at <= interval {
        let mut token = presented.to_string();
        for _ in 0..MAX_CHAIN_WALK {
            token = refresh_token::successor(s.refresh_key, &token);
            let Some(next) =
                store::sessions::find_refresh(s.db, &refresh_token::hash(&token)).await?
            else {
                break;
            };
            if next.session_revoked {
                break;
            }
            if next.spent_at.is_none() {
                check_expiry(&next, now)?;
                return issue(s, &next, token, now, scope);
            }
        }
        return Err(RefreshError::Invalid);
    }
    end(s, &record.session_id).await?;
    Err(RefreshError::Reused {
        user_id: record.user_id,
    })
}

/// Ends a session at once, in the database and in this node's cache.
pub async fn end(s: &Sessions<'_>, session_id: &str) -> anyhow::Result<bool> {
    let ended = store::sessions::revoke(s.db, session_id, s.clock.now_ms()).await?;
    s.notify.session_ended(session_id).await;
    Ok(ended)
}

async fn find_live(
    s: &Sessions<'_>,
    presented: &str,
    client: Option<&str>,
) -> Result<RefreshRecord, RefreshError> {
    let record = store::sessions::find_refresh(s.db, &refresh_token::hash(presented))
        .await?
        .ok_or(RefreshError::Invalid)?;
    if record.session_revoked || record.client_id.as_deref() != client {
        return Err(RefreshError::Invalid);
    }
    // A disabled or deleted user's sessions are revoked with them; this also covers a
    // change made by another node that this node's cache has not seen.
    match store::users::auth_state(s.db, record.user_id).await? {
        Some(user) if !user.disabled => Ok(record),
        _ => Err(RefreshError::Invalid),
    }
}

fn check_expiry(record: &RefreshRecord, now: i64) -> Result<(), RefreshError> {
    if now >= record.expires_at || now >= record.session_expires_at {
        Err(RefreshError::Expired)
    } else {
        Ok(())
    }
}

/// What a refresh gives a client less of than its grant: scope, and token lifetime.
#[derive(Clone, Copy)]
struct Narrowed<'a> {
    scope: Option<&'a str>,
    access_ttl_secs: Option<i64>,
}

fn issue(
    s: &Sessions<'_>,
    record: &RefreshRecord,
    refresh: String,
    now: i64,
    narrowed: Narrowed<'_>,
) -> Result<Issued, RefreshError> {
    let grant = record.client_id.as_deref().map(|client_id| ClientGrant {
        client_id,
        dpop_jkt: record.dpop_jkt.as_deref(),
        scope: narrowed
            .scope
            .unwrap_or(record.scope.as_deref().unwrap_or_default()),
    });
    let ends = token_end(now, record.session_expires_at, narrowed.access_ttl_secs);
    let access_token = access_token(s, record.user_id, &record.session_id, grant, now, ends)?;
    Ok(Issued {
        user_id: record.user_id,
        session_id: record.session_id.clone(),
        access_token,
        refresh_token: refresh,
    })
}

/// The first-party token of a session, or its client's for a grant.
fn access_token(
    s: &Sessions<'_>,
    user_id: i64,
    session_id: &str,
    grant: Option<ClientGrant<'_>>,
    now: i64,
    session_expires_at: i64,
) -> anyhow::Result<String> {
    let (now, ends) = (now / 1000, session_expires_at / 1000);
    Ok(match grant {
        None => s.tokens.issue(user_id, session_id, now, ends)?,
        Some(g) => {
            s.tokens
                .issue_oauth(
                    &user_id.to_string(),
                    g.client_id,
                    g.scope,
                    Some(session_id),
                    g.dpop_jkt,
                    (now, ends),
                )?
                .0
        }
    })
}

/// When an access token issued now must expire at the latest: the session's end, or
/// sooner for a client with a shorter lifetime of its own.
fn token_end(now: i64, session_expires_at: i64, access_ttl_secs: Option<i64>) -> i64 {
    access_ttl_secs.map_or(session_expires_at, |ttl| {
        session_expires_at.min(now + ttl * 1000)
    })
}

/// Idle lifetime from now, never past the session's absolute end.
fn refresh_expiry(s: &Sessions<'_>, now: i64, session_expires_at: i64) -> i64 {
    (now + s.lifetimes.refresh_idle.as_millis() as i64).min(session_expires_at)
}

fn new_session_id() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn truncate(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
