//! Registering OpenID Connect clients (docs/API.md §5, "Clients"), for `portcullis client`
//! and the admin API alike; and checking a client's secret at the token endpoint.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::auth::keys::KeyAlg;
use crate::auth::notify::Notifier;
use std::collections::HashMap;

use crate::clock::{Clock, Millis};
use crate::db::{Db, DbError};
use crate::domain::branding::{client_logo, LogoType};
use crate::domain::oauth::{self, SCOPES};
use crate::service::admin::Actor;
use crate::store;
use crate::store::branding::Logo;
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
    pub settings: ClientSettings,
}

/// What a client may do beyond its redirect URIs and scopes (docs/API.md §5, "Clients").
#[derive(Clone, Debug, Default)]
pub struct ClientSettings {
    /// `None`: the defaults of its kind (`default_grant_types`).
    pub grant_types: Option<Vec<String>>,
    /// Seconds; `None`: the server's access token lifetime. Never longer than that.
    pub access_token_ttl: Option<i64>,
    /// Where back-channel logout tokens are posted.
    pub backchannel_logout_uri: Option<String>,
    /// Authorization requests only through the PAR endpoint (RFC 9126 §5).
    pub require_par: bool,
    /// Only DPoP-bound tokens (RFC 9449 §5.2).
    pub require_dpop: bool,
    /// No consent page: its users allowed it by being its users. Only an admin (or the
    /// operator at the command line) may say so.
    pub first_party: bool,
}

/// A change to a registered client: every `Some` replaces what is there (for the settings
/// that may be unset, `Some(None)` unsets).
#[derive(Debug, Default)]
pub struct ClientChange {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub id_token_alg: Option<KeyAlg>,
    pub grant_types: Option<Option<Vec<String>>>,
    pub access_token_ttl: Option<Option<i64>>,
    pub backchannel_logout_uri: Option<Option<String>>,
    pub require_par: Option<bool>,
    pub require_dpop: Option<bool>,
    pub first_party: Option<bool>,
}

/// The shortest and longest access token lifetime a client may be given, in seconds.
pub const ACCESS_TOKEN_TTL_RANGE: std::ops::RangeInclusive<i64> = 30..=86_400;

/// The grants a client may use: the ones it registered, else those of its kind (a code
/// and its refresh tokens; a confidential client also its own token).
pub fn grant_types(client: &ClientRecord) -> Vec<&str> {
    match &client.grant_types {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => default_grant_types(client.public).to_vec(),
    }
}

fn default_grant_types(public: bool) -> &'static [&'static str] {
    if public {
        &["authorization_code", "refresh_token"]
    } else {
        &["authorization_code", "refresh_token", "client_credentials"]
    }
}

pub fn allows_grant(client: &ClientRecord, grant: &str) -> bool {
    grant_types(client).contains(&grant)
}

/// The lifetime of the access tokens `client` gets, in seconds: its own when shorter than
/// the server's.
pub fn access_token_ttl(client: &ClientRecord, server_secs: i64) -> i64 {
    client
        .access_token_ttl
        .map_or(server_secs, |own| own.min(server_secs))
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
    let secret = (!new.public).then(|| random_token(32));
    let settings = new.settings;
    let mut client = ClientRecord {
        client_id: String::new(),
        name: new.name,
        secret_hash: secret.as_deref().map(hash_secret),
        redirect_uris: new.redirect_uris,
        post_logout_uris: new.post_logout_uris,
        scopes: new
            .scopes
            .unwrap_or_else(|| SCOPES.iter().map(|s| s.to_string()).collect()),
        public: new.public,
        created_at: clock.now_ms(),
        id_token_alg: stored_alg(new.id_token_alg),
        grant_types: settings.grant_types,
        access_token_ttl: settings.access_token_ttl,
        backchannel_logout_uri: settings.backchannel_logout_uri,
        require_par: settings.require_par,
        require_dpop: settings.require_dpop,
        first_party: settings.first_party,
    };
    normalise(&mut client)?;
    loop {
        client.client_id = new_client_id();
        if oauth_clients::create(db, &client).await? {
            let entry = actor.entry(None, None).for_client(&client.client_id);
            audit::record(db, clock, Event::ClientCreated, true, &entry).await;
            return Ok(Registered { client, secret });
        }
    }
}

/// Changes a registered client's settings for `actor`, audited; this node's cache forgets
/// the old ones at once and the other nodes hear of it through the change feed.
pub async fn update(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    client_id: &str,
    change: ClientChange,
) -> Result<ClientRecord, ClientError> {
    let (db, clock) = (notify.db, notify.clock);
    let mut client = oauth_clients::find(db, client_id)
        .await?
        .ok_or(ClientError::NotFound)?;
    let c = &mut client;
    if let Some(name) = change.name {
        c.name = name;
    }
    if let Some(uris) = change.redirect_uris {
        c.redirect_uris = uris;
    }
    if let Some(uris) = change.post_logout_uris {
        c.post_logout_uris = uris;
    }
    if let Some(scopes) = change.scopes {
        c.scopes = scopes;
    }
    if let Some(alg) = change.id_token_alg {
        c.id_token_alg = stored_alg(Some(alg));
    }
    if let Some(grants) = change.grant_types {
        c.grant_types = grants;
    }
    if let Some(ttl) = change.access_token_ttl {
        c.access_token_ttl = ttl;
    }
    if let Some(uri) = change.backchannel_logout_uri {
        c.backchannel_logout_uri = uri;
    }
    c.require_par = change.require_par.unwrap_or(c.require_par);
    c.require_dpop = change.require_dpop.unwrap_or(c.require_dpop);
    c.first_party = change.first_party.unwrap_or(c.first_party);
    normalise(c)?;
    if !oauth_clients::update(db, &client).await? {
        return Err(ClientError::NotFound);
    }
    let entry = actor.entry(None, None).for_client(client_id);
    audit::record(db, clock, Event::ClientUpdated, true, &entry).await;
    notify.client_changed(client_id).await;
    Ok(client)
}

/// Checks a client's registration whole, and puts it in its stored form (names trimmed,
/// lists without repeats, scopes and grants in their canonical order).
fn normalise(c: &mut ClientRecord) -> Result<(), ClientError> {
    let invalid = |why: &str| Err(ClientError::Invalid(why.into()));
    c.name = c.name.trim().to_string();
    if c.name.is_empty() || c.name.chars().count() > 100 || c.name.chars().any(char::is_control) {
        return invalid("name must be 1 to 100 printable characters");
    }
    if c.redirect_uris.len() > MAX_URIS || c.post_logout_uris.len() > MAX_URIS {
        return Err(ClientError::Invalid(format!(
            "at most {MAX_URIS} redirect URIs of each kind"
        )));
    }
    for uri in c.redirect_uris.iter().chain(&c.post_logout_uris) {
        oauth::check_redirect_uri(uri).map_err(ClientError::Invalid)?;
    }
    c.redirect_uris = dedup(std::mem::take(&mut c.redirect_uris));
    c.post_logout_uris = dedup(std::mem::take(&mut c.post_logout_uris));
    let scopes = oauth::parse_scopes(&c.scopes.join(" ")).map_err(ClientError::Invalid)?;
    if !scopes.contains(&"openid") {
        return invalid("scopes must include openid");
    }
    c.scopes = scopes.iter().map(|s| s.to_string()).collect();
    if let Some(list) = &c.grant_types {
        let grants = oauth::parse_grant_types(list).map_err(ClientError::Invalid)?;
        if c.public && grants.contains(&"client_credentials") {
            return invalid("a public client cannot use client_credentials");
        }
        if !grants.iter().any(|g| {
            matches!(
                *g,
                "authorization_code" | "client_credentials" | oauth::DEVICE_CODE
            )
        }) {
            return invalid(
                "grant types must include authorization_code, client_credentials or the device code",
            );
        }
        c.grant_types = Some(grants.iter().map(|g| g.to_string()).collect());
    }
    if allows_grant(c, "authorization_code") && c.redirect_uris.is_empty() {
        return invalid("a client using authorization_code needs at least one redirect URI");
    }
    if let Some(ttl) = c.access_token_ttl {
        if !ACCESS_TOKEN_TTL_RANGE.contains(&ttl) {
            return Err(ClientError::Invalid(format!(
                "the access token lifetime is {} to {} seconds",
                ACCESS_TOKEN_TTL_RANGE.start(),
                ACCESS_TOKEN_TTL_RANGE.end()
            )));
        }
    }
    if let Some(uri) = &c.backchannel_logout_uri {
        oauth::check_backchannel_logout_uri(uri).map_err(ClientError::Invalid)?;
    }
    Ok(())
}

/// RS256 is stored as no choice, the default.
fn stored_alg(alg: Option<KeyAlg>) -> Option<String> {
    alg.filter(|alg| *alg != KeyAlg::RS256)
        .map(|alg| alg.name().to_string())
}

/// Sets a client's logo (bytes already checked to be `kind`), audited as a change of the
/// client.
pub async fn set_logo(
    db: &Db,
    clock: &Clock,
    actor: Actor<'_>,
    client_id: &str,
    kind: LogoType,
    bytes: Vec<u8>,
) -> Result<ClientRecord, ClientError> {
    let client = oauth_clients::find(db, client_id)
        .await?
        .ok_or(ClientError::NotFound)?;
    let size = bytes.len();
    let logo = Logo {
        content_type: kind.content_type().to_string(),
        bytes,
        updated_at: clock.now_ms(),
    };
    store::branding::put_logo(db, &client_logo(client_id), &logo).await?;
    let detail = format!("logo ({}, {size} bytes)", kind.content_type());
    record_change(db, clock, actor, client_id, &detail).await;
    Ok(client)
}

/// Removes a client's logo; removing none is no change.
pub async fn remove_logo(
    db: &Db,
    clock: &Clock,
    actor: Actor<'_>,
    client_id: &str,
) -> Result<ClientRecord, ClientError> {
    let client = oauth_clients::find(db, client_id)
        .await?
        .ok_or(ClientError::NotFound)?;
    if store::branding::delete_logo(db, &client_logo(client_id)).await? {
        record_change(db, clock, actor, client_id, "logo removed").await;
    }
    Ok(client)
}

async fn record_change(db: &Db, clock: &Clock, actor: Actor<'_>, client_id: &str, detail: &str) {
    let entry = audit::Entry {
        detail: Some(detail),
        ..actor.entry(None, None).for_client(client_id)
    };
    audit::record(db, clock, Event::ClientUpdated, true, &entry).await;
}

/// When each client's logo last changed, by client id (those without one are left out).
pub async fn logo_versions(
    db: &Db,
    client_ids: &[&str],
) -> Result<HashMap<String, Millis>, ClientError> {
    let owners: Vec<String> = client_ids.iter().map(|id| client_logo(id)).collect();
    let owners: Vec<&str> = owners.iter().map(String::as_str).collect();
    let found = store::branding::logo_versions(db, &owners).await?;
    Ok(found
        .into_iter()
        .filter_map(|(owner, at)| owner.strip_prefix("client:").map(|id| (id.to_string(), at)))
        .collect())
}

pub async fn logo(db: &Db, client_id: &str) -> Result<Option<Logo>, ClientError> {
    Ok(store::branding::logo(db, &client_logo(client_id)).await?)
}

pub async fn list(db: &Db) -> Result<Vec<ClientRecord>, ClientError> {
    Ok(oauth_clients::list(db).await?)
}

pub async fn delete(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    client_id: &str,
) -> Result<(), ClientError> {
    let (db, clock) = (notify.db, notify.clock);
    if oauth_clients::delete(db, client_id).await? {
        // Its application roles and its logo go with it (they name it, with no foreign key
        // to hold them).
        let roles = crate::store::roles::delete_of_client(db, client_id).await?;
        store::branding::delete_logo(db, &client_logo(client_id)).await?;
        let detail = format!("application roles removed: {roles}");
        let entry = audit::Entry {
            detail: Some(&detail),
            ..actor.entry(None, None).for_client(client_id)
        };
        audit::record(db, clock, Event::ClientDeleted, true, &entry).await;
        notify.client_changed(client_id).await;
        if roles > 0 {
            notify.rights_changed().await;
        }
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

/// A random client id that does not begin with `-` or `_`: every `portcullis client`
/// command takes the id as an argument, where a leading `-` reads as an option.
fn new_client_id() -> String {
    loop {
        let id = random_token(16);
        if id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return id;
        }
    }
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

#[cfg(test)]
mod client_id_tests {
    #[test]
    fn client_ids_never_begin_like_an_option() {
        for _ in 0..2000 {
            let id = super::new_client_id();
            assert!(id.starts_with(|c: char| c.is_ascii_alphanumeric()), "{id}");
            assert_eq!(id.len(), 22);
        }
    }
}
