//! What the operator set for the pages and mails (`branding`, one row) and the logos
//! Portcullis serves itself (`logos`, by owner: the product's, or a client's).
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError};

/// The row's values; `None` is "not set" (the defaults apply).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrandingRow {
    pub product_name: Option<String>,
    pub primary_color: Option<String>,
    pub footer_text: Option<String>,
    pub footer_url: Option<String>,
    pub updated_at: Millis,
}

/// The only row's key: there is one branding per deployment.
const ROW: i64 = 1;

pub async fn get(db: &Db) -> Result<Option<BrandingRow>, DbError> {
    let sql = db.sql(
        "SELECT product_name, primary_color, footer_text, footer_url, updated_at \
         FROM branding WHERE id = ?",
    );
    let row = sqlx::query(&sql).bind(ROW).fetch_optional(&db.pool).await?;
    row.map(|row| {
        Ok(BrandingRow {
            product_name: row.try_get(0)?,
            primary_color: row.try_get(1)?,
            footer_text: row.try_get(2)?,
            footer_url: row.try_get(3)?,
            updated_at: row.try_get(4)?,
        })
    })
    .transpose()
}

/// Stores the whole row (nodes that write at once: the last one wins).
pub async fn put(db: &Db, values: &BrandingRow) -> Result<(), DbError> {
    let insert = db.sql(
        "INSERT INTO branding (id, product_name, primary_color, footer_text, footer_url, \
         updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    let inserted = sqlx::query(&insert)
        .bind(ROW)
        .bind(values.product_name.as_deref())
        .bind(values.primary_color.as_deref())
        .bind(values.footer_text.as_deref())
        .bind(values.footer_url.as_deref())
        .bind(values.updated_at)
        .execute(&db.pool)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            let update = db.sql(
                "UPDATE branding SET product_name = ?, primary_color = ?, footer_text = ?, \
                 footer_url = ?, updated_at = ? WHERE id = ?",
            );
            sqlx::query(&update)
                .bind(values.product_name.as_deref())
                .bind(values.primary_color.as_deref())
                .bind(values.footer_text.as_deref())
                .bind(values.footer_url.as_deref())
                .bind(values.updated_at)
                .bind(ROW)
                .execute(&db.pool)
                .await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// A stored logo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub updated_at: Millis,
}

/// When each owner's logo last changed, for the URLs that name its version; owners
/// without one are left out.
pub async fn logo_versions(db: &Db, owners: &[&str]) -> Result<Vec<(String, Millis)>, DbError> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; owners.len()].join(", ");
    let sql = db
        .sql(&format!(
            "SELECT owner, updated_at FROM logos WHERE owner IN ({marks})"
        ))
        .into_owned();
    let mut query = sqlx::query(&sql);
    for owner in owners {
        query = query.bind(*owner);
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

pub async fn logo(db: &Db, owner: &str) -> Result<Option<Logo>, DbError> {
    let sql = db.sql("SELECT content_type, bytes, updated_at FROM logos WHERE owner = ?");
    let row = sqlx::query(&sql)
        .bind(owner)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| {
        Ok(Logo {
            content_type: row.try_get(0)?,
            bytes: row.try_get(1)?,
            updated_at: row.try_get(2)?,
        })
    })
    .transpose()
}

pub async fn put_logo(db: &Db, owner: &str, logo: &Logo) -> Result<(), DbError> {
    let insert =
        db.sql("INSERT INTO logos (owner, content_type, bytes, updated_at) VALUES (?, ?, ?, ?)");
    let inserted = sqlx::query(&insert)
        .bind(owner)
        .bind(logo.content_type.as_str())
        .bind(logo.bytes.as_slice())
        .bind(logo.updated_at)
        .execute(&db.pool)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            let update = db.sql(
                "UPDATE logos SET content_type = ?, bytes = ?, updated_at = ? WHERE owner = ?",
            );
            sqlx::query(&update)
                .bind(logo.content_type.as_str())
                .bind(logo.bytes.as_slice())
                .bind(logo.updated_at)
                .bind(owner)
                .execute(&db.pool)
                .await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether there was one to remove.
pub async fn delete_logo(db: &Db, owner: &str) -> Result<bool, DbError> {
    let sql = db.sql("DELETE FROM logos WHERE owner = ?");
    let done = sqlx::query(&sql).bind(owner).execute(&db.pool).await?;
    Ok(done.rows_affected() > 0)
}
