//! What an authorization leaves behind between its steps (`oauth_pending`): requests
//! waiting for the user to sign in or consent, and codes waiting to be exchanged, both
//! found by the SHA-256 of a random token and spent by a conditional UPDATE (one winner);
//! and the consents users gave (`oauth_consents`).
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, long_text, Db, DbError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Request,
    Code,
    /// A request a client pushed (RFC 9126), waiting for the browser.
    Pushed,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Code => "code",
            Kind::Pushed => "pushed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PendingRecord {
    pub id: i64,
    pub client_id: String,
    pub user_id: Option<i64>,
    /// The request's parameters as the service serialised them.
    pub request: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
    /// For a code: the session its exchange opened.
    pub grant_session: Option<String>,
}

pub struct NewPending<'a> {
    pub kind: Kind,
    pub token_hash: &'a str,
    pub client_id: &'a str,
    pub user_id: Option<i64>,
    pub request: &'a str,
    pub expires_at: Millis,
}

pub async fn create(db: &Db, p: NewPending<'_>, now: Millis) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO oauth_pending (kind, token_hash, client_id, user_id, request, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(p.kind.name())
        .bind(p.token_hash)
        .bind(p.client_id)
        .bind(p.user_id)
        .bind(p.request)
        .bind(now)
        .bind(p.expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn find(db: &Db, kind: Kind, token_hash: &str) -> Result<Option<PendingRecord>, DbError> {
    let sql = db.sql(
        "SELECT id, client_id, user_id, request, created_at, expires_at, used_at, grant_session \
         FROM oauth_pending WHERE token_hash = ? AND kind = ?",
    );
    let Some(row) = sqlx::query(&sql)
        .bind(token_hash)
        .bind(kind.name())
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(PendingRecord {
        id: row.try_get(0)?,
        client_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        request: long_text(&row, 3)?,
        created_at: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        used_at: row.try_get(6)?,
        grant_session: row.try_get(7)?,
    }))
}

/// Spends it; false when another request did first.
pub async fn spend(db: &Db, id: i64, now: Millis) -> Result<bool, DbError> {
    let sql = db.sql("UPDATE oauth_pending SET used_at = ? WHERE id = ? AND used_at IS NULL");
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_grant_session(db: &Db, id: i64, session_id: &str) -> Result<(), DbError> {
    let sql = db.sql("UPDATE oauth_pending SET grant_session = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(session_id)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets requests and codes that expired before `before`.
pub async fn prune(db: &Db, requests_before: Millis, codes_before: Millis) -> Result<u64, DbError> {
    let sql =
        db.sql("DELETE FROM oauth_pending WHERE (kind = ? AND expires_at < ?) OR expires_at < ?");
    Ok(sqlx::query(&sql)
        .bind(Kind::Request.name())
        .bind(requests_before)
        .bind(codes_before)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

/// The scopes `user_id` allowed `client_id`, if any.
pub async fn consent(
    db: &Db,
    user_id: i64,
    client_id: &str,
) -> Result<Option<Vec<String>>, DbError> {
    let sql = db.sql("SELECT scopes FROM oauth_consents WHERE user_id = ? AND client_id = ?");
    let row = sqlx::query(&sql)
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }))
}

/// Records what the user allowed, replacing an earlier consent to the same client.
pub async fn remember_consent(
    db: &Db,
    user_id: i64,
    client_id: &str,
    scopes: &str,
    now: Millis,
) -> Result<(), DbError> {
    let update = db.sql(
        "UPDATE oauth_consents SET scopes = ?, created_at = ? WHERE user_id = ? AND client_id = ?",
    );
    let run_update = || {
        sqlx::query(&update)
            .bind(scopes)
            .bind(now)
            .bind(user_id)
            .bind(client_id)
            .execute(&db.pool)
    };
    if run_update().await?.rows_affected() > 0 {
        return Ok(());
    }
    let sql = db.sql(
        "INSERT INTO oauth_consents (user_id, client_id, scopes, created_at) VALUES (?, ?, ?, ?)",
    );
    let inserted = sqlx::query(&sql)
        .bind(user_id)
        .bind(client_id)
        .bind(scopes)
        .bind(now)
        .execute(&db.pool)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        // A second tab consented at the same moment: its row is there now.
        Err(e) if is_unique_violation(&e) => run_update().await.map(|_| ()).map_err(Into::into),
        Err(e) => Err(e.into()),
    }
}

#[derive(Clone, Debug)]
pub struct ConsentRecord {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: Millis,
}

pub async fn consents_of(db: &Db, user_id: i64) -> Result<Vec<ConsentRecord>, DbError> {
    let sql = db.sql(
        "SELECT c.client_id, k.name, c.scopes, c.created_at FROM oauth_consents c \
         JOIN oauth_clients k ON k.client_id = c.client_id WHERE c.user_id = ? \
         ORDER BY c.created_at DESC, c.client_id",
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| {
            let scopes: String = row.try_get(2)?;
            Ok(ConsentRecord {
                client_id: row.try_get(0)?,
                name: row.try_get(1)?,
                scopes: scopes
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                created_at: row.try_get(3)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

pub async fn forget_consent(db: &Db, user_id: i64, client_id: &str) -> Result<bool, DbError> {
    let sql = db.sql("DELETE FROM oauth_consents WHERE user_id = ? AND client_id = ?");
    let done = sqlx::query(&sql)
        .bind(user_id)
        .bind(client_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
