//! Registered OpenID Connect clients. Redirect URIs are kept as JSON arrays, compared
//! byte for byte by the service.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, long_text, Db, DbError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    /// SHA-256 (hex) of the secret; `None` for a public client.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub public: bool,
    pub created_at: Millis,
    /// `id_token_signed_response_alg` as registered; `None`: the default (RS256).
    pub id_token_alg: Option<String>,
}

const COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, post_logout_uris, scopes, \
     public, created_at, id_token_alg";

fn from_row(row: &sqlx::any::AnyRow) -> Result<ClientRecord, sqlx::Error> {
    let list = |i: usize| -> Result<Vec<String>, sqlx::Error> {
        serde_json::from_str(&long_text(row, i)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    let scopes: String = row.try_get(5)?;
    Ok(ClientRecord {
        client_id: row.try_get(0)?,
        name: row.try_get(1)?,
        secret_hash: row.try_get(2)?,
        redirect_uris: list(3)?,
        post_logout_uris: list(4)?,
        scopes: scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        public: row.try_get::<i64, _>(6)? != 0,
        created_at: row.try_get(7)?,
        id_token_alg: row.try_get(8)?,
    })
}

/// False when the client id is taken (ids are random: only a retry's twin could be).
pub async fn create(db: &Db, c: &ClientRecord) -> Result<bool, DbError> {
    let text = format!("INSERT INTO oauth_clients ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    let sql = db.sql(&text);
    let done = sqlx::query(&sql)
        .bind(&c.client_id)
        .bind(&c.name)
        .bind(c.secret_hash.as_deref())
        .bind(serde_json::to_string(&c.redirect_uris).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(&c.post_logout_uris).unwrap_or_else(|_| "[]".into()))
        .bind(c.scopes.join(" "))
        .bind(i64::from(c.public))
        .bind(c.created_at)
        .bind(c.id_token_alg.as_deref())
        .execute(&db.pool)
        .await;
    match done {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn find(db: &Db, client_id: &str) -> Result<Option<ClientRecord>, DbError> {
    let text = format!("SELECT {COLUMNS} FROM oauth_clients WHERE client_id = ?");
    let sql = db.sql(&text);
    let row = sqlx::query(&sql)
        .bind(client_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn list(db: &Db) -> Result<Vec<ClientRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM oauth_clients ORDER BY created_at, client_id");
    let rows = sqlx::query(&sql).fetch_all(&db.pool).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Removes the client with its consents; false when there was none.
pub async fn delete(db: &Db, client_id: &str) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let sql = db.sql("DELETE FROM oauth_consents WHERE client_id = ?");
    sqlx::query(&sql).bind(client_id).execute(&mut *tx).await?;
    let sql = db.sql("DELETE FROM oauth_clients WHERE client_id = ?");
    let gone = sqlx::query(&sql)
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(gone > 0)
}
