//! DPoP proofs seen (RFC 9449 §11.1), kept until their window closes: a proof presented
//! twice, on any node, is found here and refused.
use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError};

/// Remembers a proof; false when it was seen before (a replay).
pub async fn first_use(db: &Db, proof_hash: &str, expires_at: Millis) -> Result<bool, DbError> {
    let sql = db.sql("INSERT INTO dpop_proofs (proof_hash, expires_at) VALUES (?, ?)");
    match sqlx::query(&sql)
        .bind(proof_hash)
        .bind(expires_at)
        .execute(&db.pool)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM dpop_proofs WHERE expires_at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
