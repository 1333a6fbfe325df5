//! The signing keys every node shares through the database: the first one made on first
//! start, new ones by `portcullis keys rotate`, all read back into a `KeyRing`.
use crate::auth::keys::{self, KeyAlg, KeyError, KeyPair, KeyRing, Sealer};
use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::store::signing_keys::{self, KeyRow};

/// How long before it signs a rotated key is published: every node reloads its keys
/// within `RELOAD_EVERY`, so all of them check the new key's tokens before any is issued.
pub const PUBLISH_LEAD: std::time::Duration = std::time::Duration::from_secs(60);
/// How often each node reads the keys again.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The live keys, after making one of each algorithm that has none live: on a first
/// start, or on the first start of a version that keeps a key of an algorithm more.
pub async fn ensure(db: &Db, sealer: &Sealer, now: Millis) -> Result<KeyRing, KeyStoreError> {
    let rows = signing_keys::live(db, now).await?;
    for alg in KeyAlg::ALL {
        if !rows.iter().any(|r| r.alg == alg.name()) {
            // Checked again under the turn: another node may be adding its first key now.
            let row = new_row(sealer, alg, now, now)?;
            signing_keys::insert_unless_live(db, &row, now).await?;
        }
    }
    load(db, sealer, now).await
}

/// A new key of `alg`, published now and signing after `PUBLISH_LEAD`; every other key of
/// `alg` retires once the tokens it may still sign until then have expired. Returns its kid.
pub async fn rotate(
    db: &Db,
    sealer: &Sealer,
    alg: KeyAlg,
    now: Millis,
    token_lifetime: std::time::Duration,
) -> Result<(String, Millis), KeyStoreError> {
    let activates = now + PUBLISH_LEAD.as_millis() as Millis;
    let row = new_row(sealer, alg, now, activates)?;
    signing_keys::rotate_to(db, &row, activates + retire_after(token_lifetime)).await?;
    signing_keys::purge(db, now).await?;
    Ok((row.kid, activates))
}

/// The live keys as a ring.
pub async fn load(db: &Db, sealer: &Sealer, now: Millis) -> Result<KeyRing, KeyStoreError> {
    let rows = signing_keys::live(db, now).await?;
    ring_of(sealer, &rows)
}

/// The live keys as a ring unless they are those `current` holds, with the same times:
/// the periodic reload opens no sealed key when nothing changed.
pub async fn reload(
    db: &Db,
    sealer: &Sealer,
    now: Millis,
    current: &KeyRing,
) -> Result<Option<KeyRing>, KeyStoreError> {
    let rows = signing_keys::live(db, now).await?;
    let held = current.keys();
    let unchanged = rows.len() == held.len()
        && rows.iter().all(|row| {
            held.iter().any(|key| {
                key.kid == row.kid
                    && key.activates_at == row.activates_at / 1000
                    && key.retires_at == row.retires_at.map(|at| at / 1000)
            })
        });
    if unchanged {
        return Ok(None);
    }
    ring_of(sealer, &rows).map(Some)
}

fn ring_of(sealer: &Sealer, rows: &[KeyRow]) -> Result<KeyRing, KeyStoreError> {
    let pairs = rows
        .iter()
        .map(|row| pair(sealer, row))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyRing::new(pairs))
}

fn pair(sealer: &Sealer, row: &KeyRow) -> Result<KeyPair, KeyError> {
    let alg: KeyAlg = row.alg.parse().map_err(|reason| KeyError::Unusable {
        kid: row.kid.clone(),
        reason,
    })?;
    let der = sealer.open(&row.kid, &row.private_key)?;
    keys::load(
        &row.kid,
        alg,
        &der,
        row.activates_at / 1000,
        row.retires_at.map(|at| at / 1000),
    )
}

fn new_row(
    sealer: &Sealer,
    alg: KeyAlg,
    now: Millis,
    activates_at: Millis,
) -> Result<KeyRow, KeyError> {
    let (kid, der) = keys::generate(alg)?;
    Ok(KeyRow {
        private_key: sealer.seal(&kid, &der)?,
        kid,
        alg: alg.name().to_string(),
        created_at: now,
        activates_at,
        retires_at: None,
    })
}

/// A key that stopped signing stays published while its last tokens live, and for a
/// reload interval and a minute of clock skew beyond.
fn retire_after(token_lifetime: std::time::Duration) -> Millis {
    (token_lifetime + RELOAD_EVERY + std::time::Duration::from_secs(60)).as_millis() as Millis
}
