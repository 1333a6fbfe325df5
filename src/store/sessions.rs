//! Server-side sessions and the refresh tokens that keep them alive.
//!
//! A session is one sign-in on one device. Its refresh tokens form a chain: each rotation
//! spends one row and inserts its successor, atomically, so concurrent refreshes with one
//! token rotate exactly once whichever node they reach.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::domain::{SecondFactor, SessionState, SigninMethod};

pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: i64,
    pub method: SigninMethod,
    pub second_factor: Option<SecondFactor>,
    pub expires_at: Millis,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub refresh_hash: &'a str,
    pub refresh_expires_at: Millis,
    /// Set for a session opened for an OpenID Connect client (its grant).
    pub client: Option<ClientGrant<'a>>,
}

#[derive(Clone, Copy, Debug)]
pub struct ClientGrant<'a> {
    pub client_id: &'a str,
    /// The DPoP key its tokens are bound to (RFC 9449 `cnf.jkt`), if any.
    pub dpop_jkt: Option<&'a str>,
    pub scope: &'a str,
}

/// One refresh token row with the state of its session.
#[derive(Clone, Debug)]
pub struct RefreshRecord {
    pub id: i64,
    pub session_id: String,
    pub user_id: i64,
    pub expires_at: Millis,
    pub spent_at: Option<Millis>,
    pub session_expires_at: Millis,
    pub session_revoked: bool,
    /// The client whose grant the session is, and its scopes; `None` for first-party.
    pub client_id: Option<String>,
    pub scope: Option<String>,
    /// The DPoP key the grant is bound to, if any.
    pub dpop_jkt: Option<String>,
}

pub async fn create(db: &Db, s: NewSession<'_>, now: Millis) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    let sql = db.sql(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, method, \
         second_factor, client_id, scope, dpop_jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(s.id)
        .bind(s.user_id)
        .bind(now)
        .bind(now)
        .bind(s.expires_at)
        .bind(s.user_agent)
        .bind(s.ip)
        .bind(s.method.name())
        .bind(s.second_factor.map(SecondFactor::name))
        .bind(s.client.map(|c| c.client_id))
        .bind(s.client.map(|c| c.scope))
        .bind(s.client.and_then(|c| c.dpop_jkt))
        .execute(&mut *tx)
        .await?;
    insert_refresh(db, &mut tx, s.id, s.refresh_hash, now, s.refresh_expires_at).await?;
    Ok(tx.commit().await?)
}

async fn insert_refresh(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session_id: &str,
    hash: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO refresh_tokens (session_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(session_id)
        .bind(hash)
        .bind(now)
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn find_refresh(db: &Db, hash: &str) -> Result<Option<RefreshRecord>, DbError> {
    let sql = db.sql(
        "SELECT r.id, r.session_id, s.user_id, r.expires_at, r.spent_at, s.expires_at, s.revoked_at, \
         s.client_id, s.scope, s.dpop_jkt FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
         WHERE r.token_hash = ?",
    );
    let Some(row) = sqlx::query(&sql)
        .bind(hash)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(RefreshRecord {
        id: row.try_get(0)?,
        session_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        expires_at: row.try_get(3)?,
        spent_at: row.try_get(4)?,
        session_expires_at: row.try_get(5)?,
        session_revoked: row.try_get::<Option<i64>, _>(6)?.is_some(),
        client_id: row.try_get(7)?,
        scope: row.try_get(8)?,
        dpop_jkt: row.try_get(9)?,
    }))
}

/// Spends refresh token `spent_id` and inserts its successor, in one transaction. Returns
/// false, having changed nothing, when another request spent it first: the conditional
/// UPDATE is what makes concurrent refreshes rotate exactly once.
pub async fn rotate(
    db: &Db,
    spent_id: i64,
    session_id: &str,
    successor_hash: &str,
    now: Millis,
    successor_expires_at: Millis,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let sql = db.sql("UPDATE refresh_tokens SET spent_at = ? WHERE id = ? AND spent_at IS NULL");
    let claimed = sqlx::query(&sql)
        .bind(now)
        .bind(spent_id)
        .execute(&mut *tx)
        .await?;
    if claimed.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_refresh(
        db,
        &mut tx,
        session_id,
        successor_hash,
        now,
        successor_expires_at,
    )
    .await?;
    let sql = db.sql("UPDATE sessions SET last_used_at = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(now)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends a session; its refresh tokens and access tokens stop working. True if it was live.
pub async fn revoke(db: &Db, session_id: &str, now: Millis) -> Result<bool, DbError> {
    let sql = db.sql("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(session_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn state(db: &Db, session_id: &str) -> Result<Option<SessionState>, DbError> {
    let sql = db.sql("SELECT user_id, expires_at, revoked_at FROM sessions WHERE id = ?");
    let Some(row) = sqlx::query(&sql)
        .bind(session_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(SessionState {
        user_id: row.try_get(0)?,
        expires_at: row.try_get(1)?,
        revoked: row.try_get::<Option<i64>, _>(2)?.is_some(),
    }))
}

/// When the session was signed in (refreshes keep that time); `None` if it is unknown.
pub async fn signed_in_at(db: &Db, session_id: &str) -> Result<Option<Millis>, DbError> {
    let sql = db.sql("SELECT created_at FROM sessions WHERE id = ?");
    let row = sqlx::query(&sql)
        .bind(session_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// When and how a session was signed in: an ID token's `auth_time`, `amr` and `acr`.
pub struct Origin {
    pub signed_in_at: Millis,
    pub method: SigninMethod,
    pub second_factor: Option<SecondFactor>,
}

pub async fn origin(db: &Db, session_id: &str) -> Result<Option<Origin>, DbError> {
    let sql = db.sql("SELECT created_at, method, second_factor FROM sessions WHERE id = ?");
    let Some(row) = sqlx::query(&sql)
        .bind(session_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let method: Option<String> = row.try_get(1)?;
    let second: Option<String> = row.try_get(2)?;
    Ok(Some(Origin {
        signed_in_at: row.try_get(0)?,
        method: SigninMethod::from_stored(method.as_deref()),
        second_factor: SecondFactor::from_stored(second.as_deref()),
    }))
}

/// Ends every live session of a user, but `keep` (password change keeps the current one);
/// returns the ended ids so the caller can drop them from its cache.
pub async fn revoke_all_of_user(
    db: &Db,
    user_id: i64,
    keep: Option<&str>,
    now: Millis,
) -> Result<Vec<String>, DbError> {
    let keep = keep.unwrap_or("");
    let sql =
        db.sql("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND id <> ?");
    let ids: Vec<String> = sqlx::query(&sql)
        .bind(user_id)
        .bind(keep)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let sql = db.sql(
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id <> ?",
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(user_id)
        .bind(keep)
        .execute(&db.pool)
        .await?;
    Ok(ids)
}

/// Ends the user's sessions opened for `client_id` (its grants); returns their ids.
pub async fn revoke_client_grants(
    db: &Db,
    user_id: i64,
    client_id: &str,
    now: Millis,
) -> Result<Vec<String>, DbError> {
    let sql = db
        .sql("SELECT id FROM sessions WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL");
    let ids: Vec<String> = sqlx::query(&sql)
        .bind(user_id)
        .bind(client_id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let sql = db.sql(
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND client_id = ? \
         AND revoked_at IS NULL",
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(user_id)
        .bind(client_id)
        .execute(&db.pool)
        .await?;
    Ok(ids)
}

/// Sessions neither revoked nor past their absolute end, across all users.
pub async fn count_live(db: &Db, now: Millis) -> Result<i64, DbError> {
    let sql = db.sql("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?");
    sqlx::query(&sql)
        .bind(now)
        .fetch_one(&db.pool)
        .await?
        .try_get(0)
        .map_err(DbError::from)
}

#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub id: String,
    pub created_at: Millis,
    pub last_used_at: Millis,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub method: SigninMethod,
    pub second_factor: Option<SecondFactor>,
}

/// The user's sessions that are neither revoked nor past their absolute end, newest first.
pub async fn list_live(db: &Db, user_id: i64, now: Millis) -> Result<Vec<SessionRecord>, DbError> {
    let sql = db.sql(
        "SELECT id, created_at, last_used_at, user_agent, ip, method, second_factor FROM sessions \
         WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id",
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(now)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(SessionRecord {
                id: row.try_get(0)?,
                created_at: row.try_get(1)?,
                last_used_at: row.try_get(2)?,
                user_agent: row.try_get(3)?,
                ip: row.try_get(4)?,
                method: SigninMethod::from_stored(row.try_get::<Option<String>, _>(5)?.as_deref()),
                second_factor: SecondFactor::from_stored(
                    row.try_get::<Option<String>, _>(6)?.as_deref(),
                ),
            })
        })
        .collect()
}
