//! Registered OpenID Connect clients. Redirect URIs are kept as JSON arrays, compared
//! byte for byte by the service.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, long_text, long_text_null, Db, DbError};

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
    /// The grants it may use, as registered; `None`: the defaults of its kind
    /// (`service::clients::grant_types`).
    pub grant_types: Option<Vec<String>>,
    /// Its access tokens' lifetime in seconds; `None`: the server's.
    pub access_token_ttl: Option<i64>,
    pub backchannel_logout_uri: Option<String>,
    pub require_par: bool,
    pub require_dpop: bool,
    /// Marked by an admin: its users are not asked for consent.
    pub first_party: bool,
}

const COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, post_logout_uris, scopes, \
     public, created_at, id_token_alg, grant_types, access_token_ttl, backchannel_logout_uri, \
     require_par, require_dpop, first_party";

fn from_row(row: &sqlx::any::AnyRow) -> Result<ClientRecord, sqlx::Error> {
    let list = |i: usize| -> Result<Vec<String>, sqlx::Error> {
        serde_json::from_str(&long_text(row, i)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    let scopes: String = row.try_get(5)?;
    let flag = |i: usize| -> Result<bool, sqlx::Error> { Ok(row.try_get::<i64, _>(i)? != 0) };
    let grant_types: Option<String> = row.try_get(9)?;
    Ok(ClientRecord {
        client_id: row.try_get(0)?,
        name: row.try_get(1)?,
        secret_hash: row.try_get(2)?,
        redirect_uris: list(3)?,
        post_logout_uris: list(4)?,
        scopes: words(&scopes),
        public: row.try_get::<i64, _>(6)? != 0,
        created_at: row.try_get(7)?,
        id_token_alg: row.try_get(8)?,
        grant_types: grant_types.map(|g| words(&g)),
        access_token_ttl: row.try_get(10)?,
        backchannel_logout_uri: long_text_null(row, 11)?,
        require_par: flag(12)?,
        require_dpop: flag(13)?,
        first_party: flag(14)?,
    })
}

fn words(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// False when the client id is taken (ids are random: only a retry's twin could be).
pub async fn create(db: &Db, c: &ClientRecord) -> Result<bool, DbError> {
    let text = format!(
        "INSERT INTO oauth_clients ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
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
        .bind(c.grant_types.as_ref().map(|g| g.join(" ")))
        .bind(c.access_token_ttl)
        .bind(c.backchannel_logout_uri.as_deref())
        .bind(i64::from(c.require_par))
        .bind(i64::from(c.require_dpop))
        .bind(i64::from(c.first_party))
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

/// Writes the settings an admin may change after registration (everything but the id, the
/// secret, the kind and the creation time); false when there is no such client.
pub async fn update(db: &Db, c: &ClientRecord) -> Result<bool, DbError> {
    let sql = db.sql(
        "UPDATE oauth_clients SET name = ?, redirect_uris = ?, post_logout_uris = ?, scopes = ?, \
         id_token_alg = ?, grant_types = ?, access_token_ttl = ?, backchannel_logout_uri = ?, \
         require_par = ?, require_dpop = ?, first_party = ? WHERE client_id = ?",
    );
    let done = sqlx::query(&sql)
        .bind(&c.name)
        .bind(serde_json::to_string(&c.redirect_uris).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(&c.post_logout_uris).unwrap_or_else(|_| "[]".into()))
        .bind(c.scopes.join(" "))
        .bind(c.id_token_alg.as_deref())
        .bind(c.grant_types.as_ref().map(|g| g.join(" ")))
        .bind(c.access_token_ttl)
        .bind(c.backchannel_logout_uri.as_deref())
        .bind(i64::from(c.require_par))
        .bind(i64::from(c.require_dpop))
        .bind(i64::from(c.first_party))
        .bind(&c.client_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
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
