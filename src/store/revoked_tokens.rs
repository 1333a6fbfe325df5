//! Revoked access tokens that belong to no session (a service's `client_credentials`
//! token): their `jti`, kept until the token would have expired anyway. Every node reads the
//! one table, so a revocation holds everywhere at once.
use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError};

/// Records the token as revoked (again is no error) and forgets the ones that expired.
pub async fn revoke(
    db: &Db,
    jti: &str,
    client_id: &str,
    expires_at: Millis,
    now: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES (?, ?, ?, ?)",
    );
    let done = sqlx::query(&sql)
        .bind(jti)
        .bind(client_id)
        .bind(expires_at)
        .bind(now)
        .execute(&db.pool)
        .await;
    match done {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let prune = db.sql("DELETE FROM revoked_tokens WHERE expires_at < ?");
    sqlx::query(&prune).bind(now).execute(&db.pool).await?;
    Ok(())
}

pub async fn is_revoked(db: &Db, jti: &str) -> Result<bool, DbError> {
    let sql = db.sql("SELECT 1 FROM revoked_tokens WHERE jti = ?");
    let found: Option<i64> = sqlx::query_scalar(&sql)
        .bind(jti)
        .fetch_optional(&db.pool)
        .await?;
    Ok(found.is_some())
}
