//! Upstream identity providers (`identity_providers`) and the identities accounts hold at
//! them (`user_identities`). A provider's settings are kept as the JSON of
//! `domain::ProviderConfig`; its client secret as the sealer left it.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, long_text, long_text_null, Db, DbError};

/// A provider as stored: `config` is JSON, `client_secret` sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRow {
    pub id: String,
    pub kind: String,
    pub config: String,
    pub client_secret: Option<String>,
    pub enabled: bool,
    /// Identities linked through it.
    pub identities: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLUMNS: &str = "p.id, p.kind, p.config, p.client_secret, p.enabled, p.created_at, \
     p.updated_at, (SELECT COUNT(*) FROM user_identities i WHERE i.provider_id = p.id)";

fn row_to_provider(row: &sqlx::any::AnyRow) -> Result<ProviderRow, sqlx::Error> {
    Ok(ProviderRow {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        config: long_text(row, 2)?,
        client_secret: long_text_null(row, 3)?,
        enabled: row.try_get::<i64, _>(4)? != 0,
        created_at: row.try_get(5)?,
        updated_at: row.try_get(6)?,
        identities: row.try_get(7)?,
    })
}

/// Every provider by id.
pub async fn list(db: &Db) -> Result<Vec<ProviderRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM identity_providers p ORDER BY p.id");
    let rows = sqlx::query(&sql).fetch_all(&db.pool).await?;
    Ok(rows.iter().map(row_to_provider).collect::<Result<_, _>>()?)
}

pub async fn find(db: &Db, id: &str) -> Result<Option<ProviderRow>, DbError> {
    let query = format!("SELECT {COLUMNS} FROM identity_providers p WHERE p.id = ?");
    let sql = db.sql(&query);
    let row = sqlx::query(&sql).bind(id).fetch_optional(&db.pool).await?;
    Ok(row.as_ref().map(row_to_provider).transpose()?)
}

/// What a new provider or a change stores.
pub struct ProviderValues<'a> {
    pub config: &'a str,
    pub client_secret: Option<&'a str>,
    pub enabled: bool,
}

/// A new provider; `false` when the id is taken.
pub async fn create(
    db: &Db,
    id: &str,
    kind: &str,
    values: ProviderValues<'_>,
    now: Millis,
) -> Result<bool, DbError> {
    let sql = db.sql(
        "INSERT INTO identity_providers (id, kind, config, client_secret, enabled, created_at, \
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    let inserted = sqlx::query(&sql)
        .bind(id)
        .bind(kind)
        .bind(values.config)
        .bind(values.client_secret)
        .bind(i64::from(values.enabled))
        .bind(now)
        .bind(now)
        .execute(&db.pool)
        .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Replaces a provider's settings; `false` when it is gone.
pub async fn update(
    db: &Db,
    id: &str,
    values: ProviderValues<'_>,
    now: Millis,
) -> Result<bool, DbError> {
    let sql = db.sql(
        "UPDATE identity_providers SET config = ?, client_secret = ?, enabled = ?, \
         updated_at = ? WHERE id = ?",
    );
    let done = sqlx::query(&sql)
        .bind(values.config)
        .bind(values.client_secret)
        .bind(i64::from(values.enabled))
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes a provider and every identity linked through it, in one transaction; how many
/// identities went, or `None` when the provider was gone.
pub async fn delete(db: &Db, id: &str) -> Result<Option<u64>, DbError> {
    let mut tx = db.pool.begin().await?;
    let unlinked = sqlx::query(&db.sql("DELETE FROM user_identities WHERE provider_id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let deleted = sqlx::query(&db.sql("DELETE FROM identity_providers WHERE id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(unlinked))
}
