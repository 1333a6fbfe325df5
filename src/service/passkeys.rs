//! Passkeys: registering one for a signed-in account, listing, renaming and removing them,
//! and signing in with one without a username. Every ceremony's state is in the database
//! (`store::ceremonies`), so a node may finish what another began.
use secrecy::SecretString;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use crate::audit::{self, Event};
use crate::auth::passkeys::{self as webauthn, PasskeyError, CEREMONY_TTL};
use crate::auth::starts::Start;
use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::domain::SigninMethod;
use crate::service::ending::{self, Proven};
use crate::service::factors::{
    notify_owner, record_use, require_recent, FactorChange, FactorError, Factors,
};
use crate::service::{Client, SignedIn};
use crate::store::ceremonies::{self, Ceremony, NewCeremony, Purpose};
use crate::store::{self, passkeys::PasskeyRecord};

/// The most passkeys one account may have.
pub const MAX_PASSKEYS: i64 = 20;
/// The name of a passkey registered without one.
pub const DEFAULT_NAME: &str = "Passkey";

async fn begin(
    f: &Factors<'_>,
    started: webauthn::Started,
    purpose: Purpose,
    user_id: Option<i64>,
) -> Result<serde_json::Value, FactorError> {
    let now = f.sessions.clock.now_ms();
    ceremonies::begin(
        f.sessions.db,
        NewCeremony {
            challenge_hash: &started.challenge_hash,
            purpose,
            user_id,
            state: &started.state,
            expires_at: now + CEREMONY_TTL.as_millis() as i64,
        },
        now,
    )
    .await?;
    Ok(started.options)
}

/// The ceremony this challenge began, if it is of `purpose`, live, and (when begun for an
/// account) that account's. Taken either way: a challenge is tried once.
async fn finishing(
    db: &Db,
    challenge: Option<String>,
    purpose: Purpose,
    user_id: Option<i64>,
    now: Millis,
) -> Result<Option<Ceremony>, DbError> {
    let Some(challenge) = challenge else {
        return Ok(None);
    };
    Ok(ceremonies::take(db, &challenge)
        .await?
        .filter(|c| c.purpose == purpose && c.user_id == user_id && now < c.expires_at))
}

/// Options to register a passkey for the signed-in account: a recent sign-in or the
/// password, as for removing one (only a ceremony begun past that check can finish).
pub async fn register_start(
    f: &Factors<'_>,
    user_id: i64,
    session_id: &str,
    client: Client<'_>,
    password: Option<SecretString>,
) -> Result<serde_json::Value, FactorError> {
    let db = f.sessions.db;
    f.rp()?;
    let event = Event::PasskeyRegistered;
    let user = require_recent(f, user_id, session_id, client, password, event).await?;
    let stored = store::passkeys::list(db, user_id).await?;
    if stored.len() as i64 >= MAX_PASSKEYS {
        return Err(FactorError::TooManyPasskeys);
    }
    let proposed = webauthn::new_handle().to_string();
    let handle = store::passkeys::handle(db, user_id, &proposed)
        .await?
        .and_then(|h| h.parse().ok())
        .ok_or(FactorError::Gone)?;
    let existing = stored
        .iter()
        .map(|p| webauthn::parse_passkey(&p.credential))
        .collect::<Result<Vec<_>, _>>()?;
    let started = f
        .rp()?
        .start_registration(handle, &user.username, &existing)?;
    begin(f, started, Purpose::Register, Some(user_id)).await
}

pub async fn register_finish(
    f: &Factors<'_>,
    user_id: i64,
    client: Client<'_>,
    credential: &RegisterPublicKeyCredential,
    name: &str,
) -> Result<PasskeyRecord, FactorError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let user = store::users::find_by_id(db, user_id)
        .await?
        .ok_or(FactorError::Gone)?;
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    let challenge = webauthn::registration_challenge(credential);
    let verified = match finishing(db, challenge, Purpose::Register, Some(user_id), now).await? {
        Some(ceremony) => f.rp()?.finish_registration(&ceremony.state, credential),
        None => Err(PasskeyError::Refused("no such ceremony".into())),
    };
    let passkey = match verified {
        Ok(passkey) => passkey,
        Err(PasskeyError::Internal(e)) => return Err(e.into()),
        Err(e) => {
            tracing::debug!(error = %e, "passkey registration refused");
            audit::record(db, clock, Event::PasskeyRegistered, false, &entry).await;
            return Err(FactorError::PasskeyRejected);
        }
    };
    if store::passkeys::count(db, user_id).await? >= MAX_PASSKEYS {
        return Err(FactorError::TooManyPasskeys);
    }
    let stored = webauthn::store_passkey(&passkey)?;
    let credential_hash = webauthn::credential_hash(passkey.cred_id().as_ref());
    let name = if name.trim().is_empty() {
        DEFAULT_NAME
    } else {
        name.trim()
    };
    let new = store::passkeys::NewPasskey {
        user_id,
        credential_hash: &credential_hash,
        name,
        credential: &stored,
    };
    let id = store::passkeys::insert(db, new, now)
        .await?
        .ok_or(FactorError::PasskeyExists)?;
    audit::record(db, clock, Event::PasskeyRegistered, true, &entry).await;
    notify_owner(f, &user, FactorChange::PasskeyAdded(name.to_string())).await;
    store::passkeys::find(db, user_id, id)
        .await?
        .ok_or(FactorError::NotFound)
}

pub async fn list(f: &Factors<'_>, user_id: i64) -> Result<Vec<PasskeyRecord>, FactorError> {
    Ok(store::passkeys::list(f.sessions.db, user_id).await?)
}

pub async fn rename(
    f: &Factors<'_>,
    user_id: i64,
    client: Client<'_>,
    id: i64,
    name: &str,
) -> Result<PasskeyRecord, FactorError> {
    let db = f.sessions.db;
    if !store::passkeys::rename(db, user_id, id, name.trim()).await? {
        return Err(FactorError::NotFound);
    }
    let entry = client.entry(Some(user_id), Some(user_id), None);
    audit::record(db, f.sessions.clock, Event::PasskeyRenamed, true, &entry).await;
    store::passkeys::find(db, user_id, id)
        .await?
        .ok_or(FactorError::NotFound)
}

/// Removes one of the account's passkeys: a recent sign-in, or the password again.
pub async fn remove(
    f: &Factors<'_>,
    user_id: i64,
    session_id: &str,
    client: Client<'_>,
    id: i64,
    password: Option<SecretString>,
) -> Result<(), FactorError> {
    let db = f.sessions.db;
    // A passkey of someone else's is not found, before any password is asked for.
    let Some(passkey) = store::passkeys::find(db, user_id, id).await? else {
        return Err(FactorError::NotFound);
    };
    let event = Event::PasskeyRemoved;
    let user = require_recent(f, user_id, session_id, client, password, event).await?;
    // An account with no password it knows (made with a passkey, or by a provider) keeps
    // one way in: its last passkey goes only once it has a password or an identity.
    if user.password_unset
        && store::passkeys::count(db, user_id).await? <= 1
        && store::identities::of_user(db, user_id).await?.is_empty()
    {
        return Err(FactorError::LastWay);
    }
    if !store::passkeys::remove(db, user_id, id).await? {
        return Err(FactorError::NotFound);
    }
    let entry = client.entry(Some(user.id), Some(user.id), Some(&user.username));
    audit::record(db, f.sessions.clock, event, true, &entry).await;
    notify_owner(f, &user, FactorChange::PasskeyRemoved(passkey.name)).await;
    Ok(())
}

/// Options to sign in with any passkey of ours the authenticator holds. Anyone may ask,
/// and each start is stored until it expires: bounded per address.
pub async fn signin_start(
    f: &Factors<'_>,
    client: Client<'_>,
) -> Result<serde_json::Value, FactorError> {
    let rp = f.rp()?;
    f.starts
        .admit(Start::PasskeySignin, client.ip)
        .map_err(FactorError::TooManyStarts)?;
    let started = rp.start_signin()?;
    begin(f, started, Purpose::Signin, None).await
}

/// Signs in with a passkey: the account is the one the passkey was registered to.
pub async fn signin_finish(
    f: &Factors<'_>,
    client: Client<'_>,
    credential: &PublicKeyCredential,
) -> Result<SignedIn, FactorError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let refused = |user_id: Option<i64>, event: Event| {
        let entry = client.entry(None, user_id, None);
        async move {
            audit::record(db, clock, event, false, &entry).await;
            FactorError::PasskeyInvalid
        }
    };
    let challenge = webauthn::assertion_challenge(credential);
    let Some(ceremony) = finishing(db, challenge, Purpose::Signin, None, now).await? else {
        return Err(refused(None, Event::PasskeySignin).await);
    };
    let Ok((handle, credential_id)) = f.rp()?.claimed(credential) else {
        return Err(refused(None, Event::PasskeySignin).await);
    };
    let credential_hash = webauthn::credential_hash(credential_id);
    let Some(record) = store::passkeys::find_by_credential(db, &credential_hash).await? else {
        return Err(refused(None, Event::PasskeySignin).await);
    };
    // The handle the authenticator returned must be the one the passkey was made for.
    let owner = store::passkeys::user_of_handle(db, &handle.to_string()).await?;
    let user = match store::users::find_by_id(db, record.user_id).await? {
        Some(user) if owner == Some(user.id) && !user.disabled => user,
        _ => return Err(refused(Some(record.user_id), Event::PasskeySignin).await),
    };
    let passkey = webauthn::parse_passkey(&record.credential)?;
    let result = match f.rp()?.finish_signin(&ceremony.state, credential, &passkey) {
        Ok(result) => result,
        Err(PasskeyError::CounterRegressed) => {
            refused(Some(user.id), Event::PasskeyCounterRegressed).await;
            return Err(refused(Some(user.id), Event::PasskeySignin).await);
        }
        Err(PasskeyError::Refused(why)) => {
            tracing::debug!(error = %why, "passkey sign-in refused");
            return Err(refused(Some(user.id), Event::PasskeySignin).await);
        }
        Err(e) => return Err(e.into()),
    };
    record_use(db, user.id, &result, now).await?;
    // A passkey is a factor possessed and a factor known or inherent: no second step.
    let proven = Proven {
        user,
        method: SigninMethod::Passkey,
        event: Event::PasskeySignin,
        login: None,
    };
    ending::complete(f, client, proven, None).await
}
