//! DPoP at the provider (RFC 9449): a proof checked (`auth::dpop`) and remembered so that
//! it works once on every node (`store::dpop_proofs`); the token endpoint binds what it
//! issues to the proof's key, and userinfo takes a bound token only with a proof of that
//! key.
use crate::auth::dpop::{self, DpopError, Request, WINDOW_SECS};
use crate::db::DbError;
use crate::store::dpop_proofs;

use super::{hash, Provider};

/// A `DPoP` header as a request carried it, and that request's method and URL (the
/// endpoint's public URL: what the client signed).
pub struct Presented<'a> {
    pub proof: &'a str,
    pub method: &'a str,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error(transparent)]
    Invalid(#[from] DpopError),
    #[error("the DPoP proof was used before")]
    Replayed,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The thumbprint of the key of a valid proof, seen for the first time.
pub async fn check(
    p: &Provider<'_>,
    presented: &Presented<'_>,
    access_token: Option<&str>,
) -> Result<String, ProofError> {
    let request = Request {
        method: presented.method,
        url: &presented.url,
        access_token,
    };
    let proof = dpop::check(presented.proof, &request, p.sessions.clock.now_secs())?;
    let seen_until = (proof.iat + WINDOW_SECS + 1) * 1000;
    let key = hash(&format!("{}:{}", proof.jkt, proof.jti));
    if !dpop_proofs::first_use(p.sessions.db, &key, seen_until).await? {
        return Err(ProofError::Replayed);
    }
    Ok(proof.jkt)
}
