//! The identities an account holds at upstream providers (docs/API.md §2, "Signing in with
//! a provider"): listed on the profile and to admins, unlinked by the account (with a
//! recent sign-in, as a factor is removed) or by an admin. The account must keep a way to
//! sign in: its last one is not unlinked by the account itself.
use secrecy::SecretString;

use crate::audit::{self, Event};
use crate::service::factors::{require_recent, FactorError, Factors};
use crate::service::Client;
use crate::store::{self, identities::IdentityRecord, users::UserRecord};

/// An identity, with its provider's display name (none once the provider is gone).
pub struct Linked {
    pub identity: IdentityRecord,
    pub provider_name: Option<String>,
}

pub async fn of_user(f: &Factors<'_>, user_id: i64) -> Result<Vec<Linked>, FactorError> {
    let db = f.sessions.db;
    let providers = crate::service::providers::list(db)
        .await
        .map_err(|e| anyhow::anyhow!("listing providers: {e}"))?;
    Ok(store::identities::of_user(db, user_id)
        .await?
        .into_iter()
        .map(|identity| Linked {
            provider_name: providers
                .iter()
                .find(|p| p.id == identity.provider_id)
                .map(|p| p.config.display_name.clone()),
            identity,
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    #[error("no such identity")]
    NotFound,
    /// It is the account's only way to sign in: no password it knows, no passkey, no
    /// other identity.
    #[error("the last way to sign in")]
    LastWay,
    #[error(transparent)]
    Factor(#[from] FactorError),
}

impl From<crate::db::DbError> for UnlinkError {
    fn from(e: crate::db::DbError) -> Self {
        UnlinkError::Factor(e.into())
    }
}

/// Can the account still sign in without `identity_id`, one of `owned`?
async fn keeps_a_way(
    f: &Factors<'_>,
    user: &UserRecord,
    owned: &[IdentityRecord],
    identity_id: i64,
) -> Result<bool, UnlinkError> {
    if !user.password_unset || owned.iter().any(|i| i.id != identity_id) {
        return Ok(true);
    }
    Ok(store::passkeys::count(f.sessions.db, user.id).await? > 0)
}

/// The account unlinks one of its identities: a recent sign-in or the password first, and
/// never its last way to sign in.
pub async fn unlink_own(
    f: &Factors<'_>,
    (user_id, session_id): (i64, &str),
    client: Client<'_>,
    password: Option<SecretString>,
    identity_id: i64,
) -> Result<(), UnlinkError> {
    let user = require_recent(
        f,
        user_id,
        session_id,
        client,
        password,
        Event::ProviderUnlinked,
    )
    .await?;
    let owned = store::identities::of_user(f.sessions.db, user.id).await?;
    let identity = owned
        .iter()
        .find(|i| i.id == identity_id)
        .cloned()
        .ok_or(UnlinkError::NotFound)?;
    if !keeps_a_way(f, &user, &owned, identity_id).await? {
        return Err(UnlinkError::LastWay);
    }
    unlink(f, client, Some(user.id), &user, &identity).await
}

/// An admin unlinks an account's identity: the account's own rule does not bind an admin,
/// who may be ending a compromised link (the account can still reset its password by mail).
pub async fn unlink_by_admin(
    f: &Factors<'_>,
    admin_id: i64,
    client: Client<'_>,
    user_id: i64,
    identity_id: i64,
) -> Result<(), UnlinkError> {
    let db = f.sessions.db;
    let user = store::users::find_by_id(db, user_id)
        .await?
        .ok_or(UnlinkError::NotFound)?;
    let identity = store::identities::of_user(db, user.id)
        .await?
        .into_iter()
        .find(|i| i.id == identity_id)
        .ok_or(UnlinkError::NotFound)?;
    unlink(f, client, Some(admin_id), &user, &identity).await
}

async fn unlink(
    f: &Factors<'_>,
    client: Client<'_>,
    actor: Option<i64>,
    user: &UserRecord,
    identity: &IdentityRecord,
) -> Result<(), UnlinkError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    if !store::identities::unlink(db, user.id, identity.id).await? {
        return Err(UnlinkError::NotFound);
    }
    let detail = format!("provider {}", identity.provider_id);
    let entry = audit::Entry {
        detail: Some(&detail),
        ..client.entry(actor, Some(user.id), Some(&user.username))
    };
    audit::record(db, clock, Event::ProviderUnlinked, true, &entry).await;
    Ok(())
}
