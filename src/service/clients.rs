//! Registering OpenID Connect clients (docs/API.md §5, "Clients"), for `portcullis client`
//! and the admin API alike; and checking a client's secret at the token endpoint.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::auth::keys::KeyAlg;
use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::domain::oauth::{self, SCOPES};
use crate::service::admin::Actor;
use crate::store::oauth_clients::{self, ClientRecord};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such client")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    pub public: bool,
    /// `None`: every scope.
    pub scopes: Option<Vec<String>>,
    /// `id_token_signed_response_alg`; `None`: RS256, which every relying party checks.
    pub id_token_alg: Option<KeyAlg>,
}

/// The algorithm of the ID tokens a client gets: the one it registered, else RS256
/// (OpenID Connect Core §15.1: the one every relying party must be able to check).
pub fn id_token_alg(client: &ClientRecord) -> KeyAlg {
    client
        .id_token_alg
        .as_deref()
        .and_then(|alg| alg.parse().ok())
        .unwrap_or(KeyAlg::RS256)
}

/// The registered client and, for a confidential one, its secret, shown this once.
pub struct Registered {
    pub client: ClientRecord,
    pub secret: Option<String>,
}

const MAX_URIS: usize = 20;

/// Registers a client for `actor` (an admin, or the command line), audited.
pub async fn register(
    db: &Db,
    clock: &Clock,
    actor: Actor<'_>,
    new: NewClient,
) -> Result<Registered, ClientError> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ClientError::Invalid(
            "name must be 1 to 100 printable characters".into(),
        ));
    }
    if new.redirect_uris.is_empty() {
        return Err(ClientError::Invalid(
            "a client needs at least one redirect URI".into(),
        ));
    }
    if new.redirect_uris.len() > MAX_URIS || new.post_logout_uris.len() > MAX_URIS {
        return Err(ClientError::Invalid(format!(
            "at most {MAX_URIS} redirect URIs of each kind"
        )));
    }
    for uri in new.redirect_uris.iter().chain(&new.post_logout_uris) {
        oauth::check_redirect_uri(uri).map_err(ClientError::Invalid)?;
    }
    let scopes = match &new.scopes {
        None => SCOPES.to_vec(),
        Some(list) => oauth::parse_scopes(&list.join(" ")).map_err(ClientError::Invalid)?,
    };
    if !scopes.contains(&"openid") {
        return Err(ClientError::Invalid("scopes must include openid".into()));
    }
    let secret = (!new.public).then(|| random_token(32));
    let now = clock.now_ms();
    loop {
        let client = ClientRecord {
            client_id: random_token(16),
            name: name.clone(),
            secret_hash: secret.as_deref().map(hash_secret),
            redirect_uris: dedup(new.redirect_uris.clone()),
            post_logout_uris: dedup(new.post_logout_uris.clone()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            public: new.public,
            created_at: now,
            id_token_alg: new
                .id_token_alg
                .filter(|alg| *alg != KeyAlg::RS256)
                .map(|alg| alg.name().to_string()),
        };
        if oauth_clients::create(db, &client).await? {
            let entry = actor.entry(None, None).for_client(&client.client_id);
            audit::record(db, clock, Event::ClientCreated, true, &entry).await;
            return Ok(Registered { client, secret });
        }
    }
}

pub async fn list(db: &Db) -> Result<Vec<ClientRecord>, ClientError> {
    Ok(oauth_clients::list(db).await?)
}

pub async fn delete(
    db: &Db,
    clock: &Clock,
    actor: Actor<'_>,
    client_id: &str,
) -> Result<(), ClientError> {
    if oauth_clients::delete(db, client_id).await? {
        let entry = actor.entry(None, None).for_client(client_id);
        audit::record(db, clock, Event::ClientDeleted, true, &entry).await;
        Ok(())
    } else {
        Err(ClientError::NotFound)
    }
}

/// Whether `secret` is the client's; always false for a public client.
pub fn secret_matches(client: &ClientRecord, secret: &str) -> bool {
    use subtle::ConstantTimeEq;
    client
        .secret_hash
        .as_deref()
        .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(hash_secret(secret).as_bytes())))
}

/// Secrets are 256 random bits, so one SHA-256 is all the stretching they need.
fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn dedup(mut list: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    list.retain(|u| seen.insert(u.clone()));
    list
}
