//! API keys and service accounts (docs/API.md §2, "API keys").
//!
//! A key is `pck_` and 43 characters from 256 random bits, shown once; the database keeps
//! its SHA-256. It is given a subset of its owner's roles and permissions, and at each
//! request holds what it was given *and* what its owner still holds: a role taken from the
//! owner is taken from the key, and a disabled or deleted owner stops all its keys. It
//! acts on the API and at forward authentication, never on its owner's account itself
//! (password, factors, sessions, keys): those need a signed-in person.
//!
//! A service account is an account for machines: made by an admin, it has no usable
//! password and no address (`<name>@service-account.invalid`), never signs in, and acts
//! only through the keys an admin makes for it.
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use crate::audit::{self, Entry, Event};
use crate::auth::notify::Notifier;
use crate::clock::Millis;
use crate::domain::{Rights, Role, RoleSet, UserState};
use crate::service::admin::{lock_and_check, Actor, AdminError};
use crate::service::roles::check_description;
use crate::store::{self, api_keys::ApiKeyRecord, api_keys::NewApiKey};

pub const PREFIX: &str = "pck_";
/// `pck_` and 43 base64url characters.
pub const KEY_LEN: usize = 47;
pub const MAX_LIVE_KEYS: i64 = 50;
pub const MAX_LIFETIME_DAYS: i64 = 365;
pub const DEFAULT_LIFETIME_DAYS: i64 = 90;
const DAY_MS: Millis = 86_400_000;
/// The domain of a service account's stand-in address (RFC 2606: never delivered).
pub const SERVICE_DOMAIN: &str = "service-account.invalid";

/// Whether a presented bearer token is an API key rather than a JWT.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// The only form a key is stored in (the same hash as a refresh token's).
pub fn hash(key: &str) -> String {
    crate::auth::refresh_token::hash(key)
}

fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A key to make: what it is called, how long it lives, what it may do.
pub struct KeyRequest {
    pub name: String,
    pub expires_in_days: Option<i64>,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Invalid(String),
    /// The owner does not hold a role or permission the key was to be given.
    #[error("{0}")]
    NotHeld(String),
    #[error("too many live keys")]
    TooMany,
    #[error("no such key")]
    NotFound,
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// The key made: its record, and the secret, which is never shown again.
pub struct Made {
    pub record: ApiKeyRecord,
    pub key: String,
}

/// Checks a request against what `owner` holds now, and names the roles and permissions
/// as the owner holds them.
fn within_owner(
    request: &KeyRequest,
    roles: RoleSet,
    rights: &Rights,
) -> Result<(Vec<String>, Vec<String>), KeyError> {
    let name_len = request.name.trim().chars().count();
    if name_len == 0 || name_len > 64 || request.name.chars().any(char::is_control) {
        return Err(KeyError::Invalid(
            "A key's name is 1 to 64 printable characters.".into(),
        ));
    }
    let days = request.expires_in_days.unwrap_or(DEFAULT_LIFETIME_DAYS);
    if !(1..=MAX_LIFETIME_DAYS).contains(&days) {
        return Err(KeyError::Invalid(format!(
            "expiresInDays must be 1 to {MAX_LIFETIME_DAYS}."
        )));
    }
    if request.roles.len() > 100 || request.permissions.len() > 100 {
        return Err(KeyError::Invalid(
            "A key is given at most 100 roles and 100 permissions.".into(),
        ));
    }
    let mut granted_roles = Vec::new();
    for name in &request.roles {
        let held = match Role::from_name(&name.to_ascii_lowercase()) {
            Some(role) => roles.contains(role).then(|| role.name().to_string()),
            None => rights
                .roles
                .iter()
                .find(|r| r.eq_ignore_ascii_case(name))
                .map(|r| r.to_string()),
        };
        let held = held.ok_or_else(|| {
            KeyError::NotHeld(format!(
                "The account does not hold the role {}.",
                name.chars().take(64).collect::<String>()
            ))
        })?;
        granted_roles.push(held);
    }
    for name in &request.permissions {
        if !rights.has_permission(name) {
            return Err(KeyError::NotHeld(format!(
                "The account does not hold the permission {}.",
                name.chars().take(100).collect::<String>()
            )));
        }
    }
    Ok((
        crate::domain::sorted(granted_roles),
        crate::domain::sorted(request.permissions.clone()),
    ))
}

/// Makes a key for `owner` (whose state is `owner_state`, fresh from the cache).
/// `created_by`: the admin making it for a service account.
pub async fn create(
    notify: &Notifier<'_>,
    owner: (i64, &str),
    owner_state: &UserState,
    request: KeyRequest,
    created_by: Option<Entry<'_>>,
    audit_as: Entry<'_>,
) -> Result<Made, KeyError> {
    let (db, clock) = (notify.db, notify.clock);
    let (roles, permissions) = within_owner(&request, owner_state.roles, &owner_state.rights)?;
    let now = clock.now_ms();
    if store::api_keys::live_count(db, owner.0, now).await? >= MAX_LIVE_KEYS {
        return Err(KeyError::TooMany);
    }
    let key = generate();
    let days = request.expires_in_days.unwrap_or(DEFAULT_LIFETIME_DAYS);
    let id = store::api_keys::create(
        db,
        NewApiKey {
            user_id: owner.0,
            name: request.name.trim(),
            key_hash: &hash(&key),
            prefix: &key[..12],
            roles: &roles,
            permissions: &permissions,
            created_by: created_by.as_ref().and_then(|e| e.actor_id),
            expires_at: now + days * DAY_MS,
        },
        now,
    )
    .await?;
    let record = store::api_keys::find(db, id)
        .await?
        .ok_or(KeyError::NotFound)?;
    let detail = format!(
        "api key {} ({}): roles {}; permissions {}",
        record.name,
        record.prefix,
        roles.join(" "),
        permissions.join(" ")
    );
    let entry = Entry {
        subject_id: Some(owner.0),
        username: Some(owner.1),
        detail: Some(&detail),
        ..created_by.unwrap_or(audit_as)
    };
    audit::record(db, clock, Event::ApiKeyCreated, true, &entry).await;
    Ok(Made { record, key })
}

/// Revokes a key of `owner`; it stops working on every node at once (the change feed).
pub async fn revoke(
    notify: &Notifier<'_>,
    owner: (i64, &str),
    key_id: i64,
    audit_as: Entry<'_>,
) -> Result<(), KeyError> {
    let (db, clock) = (notify.db, notify.clock);
    let record = store::api_keys::find(db, key_id)
        .await?
        .filter(|k| k.user_id == owner.0)
        .ok_or(KeyError::NotFound)?;
    if !store::api_keys::revoke(db, key_id, owner.0, clock.now_ms()).await? {
        return Err(KeyError::NotFound);
    }
    notify.api_keys_changed().await;
    let detail = format!("api key {} ({})", record.name, record.prefix);
    let entry = Entry {
        subject_id: Some(owner.0),
        username: Some(owner.1),
        detail: Some(&detail),
        ..audit_as
    };
    audit::record(db, clock, Event::ApiKeyRevoked, true, &entry).await;
    Ok(())
}

/// What a request made with `key` may do: what it was given that its owner still holds.
/// `user` always, as every account has it.
pub fn narrowed(
    key: &store::api_keys::ApiKeyState,
    roles: RoleSet,
    rights: &Rights,
) -> (RoleSet, Arc<Rights>) {
    let mut key_roles: RoleSet = [Role::User].into_iter().collect();
    for role in roles.iter() {
        if key.roles.iter().any(|r| r.as_ref() == role.name()) {
            key_roles.insert(role);
        }
    }
    (
        key_roles,
        Arc::new(rights.within(&key.roles, &key.permissions)),
    )
}

/// Makes a service account: no usable password (a random one, hashed and forgotten), a
/// stand-in address, the roles given.
pub async fn create_service_account(
    notify: &Notifier<'_>,
    actor: Actor<'_>,
    hasher: &Arc<crate::auth::password::PasswordHasher>,
    name: &str,
    description: Option<&str>,
) -> Result<i64, KeyError> {
    let (db, clock) = (notify.db, notify.clock);
    check_description(description)?;
    let username = crate::domain::Username::parse(name).map_err(KeyError::Invalid)?;
    let email = crate::domain::Email::parse(&format!("{}@{SERVICE_DOMAIN}", username.key()))
        .map_err(KeyError::Invalid)?;
    let (_one_at_a_time, authority) = lock_and_check(db, actor).await?;
    authority.require_full()?;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let password = secrecy::SecretString::from(URL_SAFE_NO_PAD.encode(secret));
    let password_hash = hasher
        .hash(password)
        .await
        .map_err(|e| KeyError::Invalid(e.to_string()))?;
    let id =
        store::users::create_service_account(db, &username, &email, &password_hash, clock.now_ms())
            .await
            .map_err(|e| match e {
                store::StoreError::UsernameTaken | store::StoreError::EmailTaken => {
                    KeyError::Admin(AdminError::NameTaken)
                }
                store::StoreError::Db(e) => KeyError::Db(e),
            })?;
    let detail = description.map(|d| format!("service account: {d}"));
    let entry = Entry {
        detail: detail.as_deref(),
        ..actor.entry(Some(id), Some(username.as_str()))
    };
    audit::record(db, clock, Event::ServiceAccountCreated, true, &entry).await;
    Ok(id)
}
