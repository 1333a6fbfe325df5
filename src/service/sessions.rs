//! Sessions renewed and ended on request: a refresh-token rotation, a signout, one of an
//! account's own sessions ended, all of them ended. Each is audited here, whichever route
//! or middleware asked. Ending a user's every session tells every node, so a revoked
//! access token fails on whichever node gets it next.
use crate::audit::{self, Event};
use crate::auth::notify::Notifier;
use crate::auth::refresh_token;
use crate::auth::sessions::{self, Issued, RefreshError, Sessions};
use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::service::Client;
use crate::store;

/// Rotates a refresh token (`auth::sessions::refresh`) and audits the outcome, reuse
/// included; an internal failure is not an attempt worth recording.
pub async fn refresh(
    s: &Sessions<'_>,
    client: Client<'_>,
    presented: &str,
) -> Result<Issued, RefreshError> {
    let result = sessions::refresh(s, presented).await;
    let (event, ok, subject) = match &result {
        Ok(issued) => (Event::Refresh, true, Some(issued.user_id)),
        Err(RefreshError::Reused { user_id }) => (Event::RefreshReuse, false, Some(*user_id)),
        Err(RefreshError::Internal(_)) => return result,
        Err(_) => (Event::Refresh, false, None),
    };
    let entry = client.entry(subject, subject, None);
    audit::record(s.db, s.clock, event, ok, &entry).await;
    result
}

/// Ends the session a signout names: the one of the access token (expired or not, as long
/// as its signature holds), else the one of the refresh token. Naming none is no error:
/// signing out is always possible.
pub async fn signout(
    s: &Sessions<'_>,
    client: Client<'_>,
    access_token: Option<&str>,
    refresh: Option<&str>,
) -> anyhow::Result<()> {
    let by_access = access_token
        .and_then(|token| {
            s.tokens
                .verify_ignoring_expiry(token, s.clock.now_secs())
                .ok()
        })
        .map(|claims| (claims.sid.clone(), claims.id));
    let session = match (by_access, refresh) {
        (Some(found), _) => Some(found),
        (None, Some(token)) if !token.is_empty() && token.len() <= refresh_token::MAX_LEN => {
            store::sessions::find_refresh(s.db, &refresh_token::hash(token))
                .await?
                .map(|r| (r.session_id, r.user_id))
        }
        (None, _) => None,
    };
    if let Some((sid, user_id)) = session {
        if sessions::end(s, &sid).await? {
            let entry = client.entry(Some(user_id), Some(user_id), None);
            audit::record(s.db, s.clock, Event::Signout, true, &entry).await;
        }
    }
    Ok(())
}

/// Ends one of `user_id`'s own live sessions. False when there is no such session of
/// theirs (another user's is the same as none).
pub async fn end_own(
    s: &Sessions<'_>,
    client: Client<'_>,
    user_id: i64,
    session_id: &str,
) -> anyhow::Result<bool> {
    // Session ids are 22 base64url characters; anything else names no session (and a NUL
    // must never reach PostgreSQL).
    let well_formed = session_id.len() <= 64
        && session_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let owned = well_formed
        && store::sessions::state(s.db, session_id)
            .await?
            .is_some_and(|state| state.user_id == user_id && !state.revoked);
    if !owned || !sessions::end(s, session_id).await? {
        return Ok(false);
    }
    let entry = client.entry(Some(user_id), Some(user_id), None);
    audit::record(s.db, s.clock, Event::SessionEnded, true, &entry).await;
    Ok(true)
}

/// Ends every session of `user_id`, the asking one included.
pub async fn signout_all(
    notify: &Notifier<'_>,
    client: Client<'_>,
    user_id: i64,
) -> Result<usize, DbError> {
    let (db, clock) = (notify.db, notify.clock);
    let ended = end_all_of_user(db, notify, user_id, None, clock.now_ms()).await?;
    let entry = client.entry(Some(user_id), Some(user_id), None);
    audit::record(db, clock, Event::SignoutAll, true, &entry).await;
    Ok(ended)
}

/// Ends every live session of `user_id` except `keep`; returns how many ended.
pub async fn end_all_of_user(
    db: &Db,
    notify: &Notifier<'_>,
    user_id: i64,
    keep: Option<&str>,
    now: Millis,
) -> Result<usize, DbError> {
    let ended = store::sessions::revoke_all_of_user(db, user_id, keep, now).await?;
    for sid in &ended {
        notify.session_ended(sid).await;
    }
    Ok(ended.len())
}
