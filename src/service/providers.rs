//! Upstream identity providers, as admins configure them (docs/API.md §2, "Identity
//! providers"): the same use cases for the admin API and `portcullis provider …`. Every
//! change is made under the admin lock, audited, and checked whole before it is stored; a
//! client secret is sealed with the key-encryption key and never answered.
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::audit::{self, Event};
use crate::auth::keys::Sealer;
use crate::clock::{Clock, Millis};
use crate::db::Db;
use crate::domain::{check_provider_id, ProviderConfig, ProviderKind};
use crate::service::admin::{lock_and_check, Actor, AdminError};
use crate::store::groups as store_groups;
use crate::store::providers::{self as store, ProviderRow, ProviderValues};
use crate::store::roles as store_roles;

/// A provider as admins see it.
#[derive(Clone, Debug)]
pub struct Provider {
    pub id: String,
    pub kind: ProviderKind,
    pub config: ProviderConfig,
    pub has_secret: bool,
    pub enabled: bool,
    /// Identities linked through it.
    pub identities: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub struct NewProvider {
    pub id: String,
    pub kind: String,
    pub config: ProviderConfig,
    pub client_secret: Option<SecretString>,
    pub enabled: bool,
}

/// What to change. `settings`: the fields of `ProviderConfig` to replace, by their JSON
/// names (`null` removes an optional one); the result is checked whole.
#[derive(Default)]
pub struct ProviderChange {
    pub settings: Map<String, Value>,
    /// `Some(None)` removes the secret.
    pub client_secret: Option<Option<SecretString>>,
    pub enabled: Option<bool>,
}

/// What the use cases that change providers work with.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    /// Seals client secrets (`PORTCULLIS_KEY_ENCRYPTION_KEY`).
    pub sealer: &'a Sealer,
}

pub const MAX_PROVIDERS: usize = 100;
const MAX_SECRET_BYTES: usize = 8 * 1024;

/// What a provider's sealed secret is bound to: it opens for that provider only.
pub fn secret_context(id: &str) -> String {
    format!("provider:{id}")
}

/// A provider and its client secret as stored (sealed), for a sign-in: one read.
pub async fn with_sealed_secret(
    db: &Db,
    id: &str,
) -> Result<Option<(Provider, Option<String>)>, AdminError> {
    let Some(mut row) = store::find(db, id).await? else {
        return Ok(None);
    };
    let sealed = row.client_secret.take();
    let mut provider = view(row)?;
    provider.has_secret = sealed.is_some();
    Ok(Some((provider, sealed)))
}

fn view(row: ProviderRow) -> Result<Provider, AdminError> {
    let kind = ProviderKind::parse(&row.kind)
        .ok_or_else(|| anyhow::anyhow!("provider {}: unknown kind {}", row.id, row.kind))?;
    let config = serde_json::from_str(&row.config)
        .map_err(|e| anyhow::anyhow!("provider {}: unreadable settings: {e}", row.id))?;
    Ok(Provider {
        id: row.id,
        kind,
        config,
        has_secret: row.client_secret.is_some(),
        enabled: row.enabled,
        identities: row.identities,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub async fn list(db: &Db) -> Result<Vec<Provider>, AdminError> {
    store::list(db).await?.into_iter().map(view).collect()
}

pub async fn get(db: &Db, id: &str) -> Result<Provider, AdminError> {
    view(store::find(db, id).await?.ok_or(AdminError::NotFound)?)
}

fn sealed(
    sealer: &Sealer,
    id: &str,
    kind: ProviderKind,
    secret: Option<&SecretString>,
) -> Result<Option<String>, AdminError> {
    let Some(secret) = secret else {
        return Ok(None);
    };
    let text = secret.expose_secret();
    if text.is_empty() || text.len() > MAX_SECRET_BYTES {
        return Err(AdminError::Invalid(format!(
            "clientSecret is 1 to {MAX_SECRET_BYTES} bytes."
        )));
    }
    if kind == ProviderKind::Apple {
        // Apple's secret is the key that signs each exchange's: refused now if it cannot.
        crate::auth::upstream::apple::signing_key(secret).map_err(AdminError::Invalid)?;
    }
    let sealed = sealer
        .seal_text(&secret_context(id), text)
        .map_err(|e| anyhow::anyhow!("sealing a provider's secret: {e}"))?;
    Ok(Some(sealed))
}

/// Every role and group a role mapping names exists (by name, case aside).
async fn check_mapping(db: &Db, config: &ProviderConfig) -> Result<(), AdminError> {
    let Some(mapping) = &config.role_mapping else {
        return Ok(());
    };
    let roles = store_roles::list(db).await?;
    for name in mapping.managed_roles() {
        if !roles.iter().any(|r| r.name.eq_ignore_ascii_case(name)) {
            return Err(AdminError::Invalid(format!(
                "roleMapping names the role {name}, which does not exist."
            )));
        }
    }
    let groups = store_groups::list(db).await?;
    for name in mapping.managed_groups() {
        if !groups.iter().any(|g| g.name.eq_ignore_ascii_case(name)) {
            return Err(AdminError::Invalid(format!(
                "roleMapping names the group {name}, which does not exist."
            )));
        }
    }
    Ok(())
}

fn to_json(config: &ProviderConfig) -> Result<String, AdminError> {
    Ok(serde_json::to_string(config).map_err(anyhow::Error::from)?)
}

pub async fn create(
    ports: Ports<'_>,
    actor: Actor<'_>,
    new: NewProvider,
) -> Result<Provider, AdminError> {
    let Ports { db, clock, sealer } = ports;
    check_provider_id(&new.id).map_err(AdminError::Invalid)?;
    let kind = ProviderKind::parse(&new.kind).ok_or_else(|| {
        let kinds: Vec<_> = ProviderKind::ALL.iter().map(|k| k.name()).collect();
        AdminError::Invalid(format!("kind is one of {}.", kinds.join(", ")))
    })?;
    let mut config = new.config;
    config.check(kind).map_err(AdminError::Invalid)?;
    if kind != ProviderKind::Oidc && kind != ProviderKind::Oauth2 && new.client_secret.is_none() {
        // Every preset's provider issues confidential clients (Apple's secret is its key).
        return Err(AdminError::Invalid(format!(
            "A {} provider needs clientSecret.",
            kind.name()
        )));
    }
    let secret = sealed(sealer, &new.id, kind, new.client_secret.as_ref())?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    check_mapping(db, &config).await?;
    if store::list(db).await?.len() >= MAX_PROVIDERS {
        return Err(AdminError::Invalid(format!(
            "At most {MAX_PROVIDERS} providers can be configured."
        )));
    }
    let values = ProviderValues {
        config: &to_json(&config)?,
        client_secret: secret.as_deref(),
        enabled: new.enabled,
    };
    let now = clock.now_ms();
    if !store::create(db, &new.id, kind.name(), values, now).await? {
        return Err(AdminError::NameTaken);
    }
    let detail = format!("provider {} ({})", new.id, kind.name());
    record(db, clock, actor, Event::ProviderCreated, &detail).await;
    get(db, &new.id).await
}

pub async fn update(
    ports: Ports<'_>,
    actor: Actor<'_>,
    id: &str,
    change: ProviderChange,
) -> Result<Provider, AdminError> {
    let Ports { db, clock, sealer } = ports;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let row = store::find(db, id).await?.ok_or(AdminError::NotFound)?;
    let current = view(row.clone())?;
    let mut settings = match serde_json::to_value(&current.config).map_err(anyhow::Error::from)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut changed: Vec<&str> = Vec::new();
    for (field, value) in &change.settings {
        changed.push(field);
        if value.is_null() {
            settings.remove(field);
        } else {
            settings.insert(field.clone(), value.clone());
        }
    }
    let mut config: ProviderConfig = serde_json::from_value(Value::Object(settings))
        .map_err(|e| AdminError::Invalid(format!("The provider's settings: {e}.")))?;
    config.check(current.kind).map_err(AdminError::Invalid)?;
    check_mapping(db, &config).await?;
    let secret = match &change.client_secret {
        Some(new) => {
            changed.push("clientSecret");
            sealed(sealer, id, current.kind, new.as_ref())?
        }
        None => row.client_secret,
    };
    if change.enabled.is_some() {
        changed.push("enabled");
    }
    let values = ProviderValues {
        config: &to_json(&config)?,
        client_secret: secret.as_deref(),
        enabled: change.enabled.unwrap_or(current.enabled),
    };
    let now = clock.now_ms();
    if !store::update(db, id, values, now).await? {
        return Err(AdminError::NotFound);
    }
    let detail = format!("provider {id}: {}", changed.join(" "));
    record(db, clock, actor, Event::ProviderUpdated, &detail).await;
    get(db, id).await
}

/// Deletes a provider. Identities linked through it are refused (409) unless `cascade`,
/// which unlinks them too; their accounts keep every other way to sign in.
pub async fn delete(
    ports: Ports<'_>,
    actor: Actor<'_>,
    id: &str,
    cascade: bool,
) -> Result<(), AdminError> {
    let Ports { db, clock, .. } = ports;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let provider = get(db, id).await?;
    if provider.identities > 0 && !cascade {
        return Err(AdminError::InUse(format!(
            "{} account(s) have an identity at provider {id}: delete with cascade to unlink them.",
            provider.identities
        )));
    }
    let unlinked = store::delete(db, id).await?.ok_or(AdminError::NotFound)?;
    let detail = format!("provider {id}, unlinked from {unlinked} account(s)");
    record(db, clock, actor, Event::ProviderDeleted, &detail).await;
    Ok(())
}

async fn record(db: &Db, clock: &Clock, actor: Actor<'_>, event: Event, detail: &str) {
    let entry = audit::Entry {
        detail: Some(detail),
        ..actor.entry(None, None)
    };
    audit::record(db, clock, event, true, &entry).await;
}
