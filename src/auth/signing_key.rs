//! The HS256 signing key and the policy for a configured one: at least 32 bytes, and no
//! well-known sample (the tutorial's, jwt.io's, a repeated `secret`), so a copied `.env`
//! cannot reach production. Unset, the key is 256 random bits kept in the database, which
//! every node sharing it reads.
use secrecy::{ExposeSecret, SecretString};

use crate::db::Db;
use crate::store;

/// Known default or sample secrets, refused even when long enough (a copied tutorial
/// `.env` must not reach production).
const WELL_KNOWN_SECRETS: &[&str] = &[
    "bezkoder-secret-key",
    "secret",
    "secretkey",
    "secret-key",
    "secret_key",
    "changeme",
    "change-me",
    "changeit",
    "your-256-bit-secret",
    "your-secret-key",
    "your_secret_key",
    "jwt-secret",
    "jwtsecret",
    "jwt_secret",
    "mysecret",
    "my-secret",
    "supersecret",
    "super-secret",
    "password",
    "default",
    "portcullis",
    "test",
    "example",
    "0123456789",
];

/// The HS256 key: the configured secret after checking it, or the key kept in the database.
pub async fn jwt_key(
    configured: Option<&SecretString>,
    db: &Db,
    now: i64,
) -> anyhow::Result<Vec<u8>> {
    match configured {
        Some(secret) => {
            check_secret(secret.expose_secret())?;
            Ok(secret.expose_secret().as_bytes().to_vec())
        }
        None => Ok(store::server_keys::get_or_create(db, "jwt_hs256", now).await?),
    }
}

pub fn check_secret(secret: &str) -> anyhow::Result<()> {
    check_named("PORTCULLIS_JWT_SECRET", secret)
}

/// The same policy for any secret setting called `setting`.
pub fn check_named(setting: &str, secret: &str) -> anyhow::Result<()> {
    if secret.len() < 32 {
        anyhow::bail!(
            "{setting} is {} bytes long; it must be at least 32 random bytes \
             (or leave it unset)",
            secret.len()
        );
    }
    let lower = secret.to_ascii_lowercase();
    let repeats_known = WELL_KNOWN_SECRETS.iter().any(|known| {
        lower.len() % known.len() == 0 && lower == known.repeat(lower.len() / known.len())
    });
    let distinct = lower
        .bytes()
        .collect::<std::collections::HashSet<_>>()
        .len();
    // The tutorial's and jwt.io's sample secrets, padded to length, are still theirs.
    let pads_sample = ["bezkoder-secret-key", "your-256-bit-secret"]
        .iter()
        .any(|s| lower.contains(s));
    if repeats_known || pads_sample || distinct < 8 {
        anyhow::bail!(
            "{setting} is a well-known or guessable value; set at least 32 random bytes \
             (for example `openssl rand -base64 48`) or leave it unset"
        );
    }
    Ok(())
}
