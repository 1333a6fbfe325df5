//! Ending sessions in bulk: a user's every session (but perhaps the one asking), each
//! told to every node, so a revoked access token fails on whichever node gets it next.
use crate::auth::notify::Notifier;
use crate::clock::Millis;
use crate::db::Db;
use crate::store;

/// Ends every live session of `user_id` except `keep`; returns how many ended.
pub async fn end_all_of_user(
    db: &Db,
    notify: &Notifier<'_>,
    user_id: i64,
    keep: Option<&str>,
    now: Millis,
) -> Result<usize, sqlx::Error> {
    let ended = store::sessions::revoke_all_of_user(db, user_id, keep, now).await?;
    for sid in &ended {
        notify.session_ended(sid).await;
    }
    Ok(ended.len())
}
