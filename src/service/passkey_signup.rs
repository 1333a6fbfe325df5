//! Signing up with a passkey and no password (docs/API.md §2, "Signing up with a passkey"),
//! when the operator turns it on (`PORTCULLIS_PASSKEY_SIGNUP`). The account and its passkey
//! are made together, once the authenticator has answered, so there is never an account
//! without a way in; it may set a password later, and the rules of removal keep it at least
//! one way to sign in.
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use crate::audit::{self, Event};
use crate::auth::passkeys::{self as webauthn, PasskeyError, CEREMONY_TTL};
use crate::auth::starts::Start;
use crate::domain::{Email, Role, SigninMethod, Username};
use crate::service::ending::{self, Proven};
use crate::service::factors::{FactorError, Factors};
use crate::service::passkeys::DEFAULT_NAME;
use crate::service::recovery::queue_verification;
use crate::service::signup::SignupError;
use crate::service::{Client, SignedIn};
use crate::store::ceremonies::{self, NewCeremony, Purpose};
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PasskeySignupError {
    /// The operator has not turned it on.
    #[error("signing up with a passkey is off")]
    Off,
    /// The username or email is refused or taken.
    #[error(transparent)]
    Account(#[from] SignupError),
    #[error(transparent)]
    Factor(#[from] FactorError),
}

impl From<PasskeyError> for PasskeySignupError {
    fn from(e: PasskeyError) -> Self {
        PasskeySignupError::Factor(e.into())
    }
}

impl From<crate::db::DbError> for PasskeySignupError {
    fn from(e: crate::db::DbError) -> Self {
        PasskeySignupError::Factor(e.into())
    }
}

/// What the ceremony keeps until the authenticator answers: the account it is for.
#[derive(Serialize, Deserialize)]
struct Pending {
    username: String,
    email: String,
    handle: String,
    registration: String,
}

/// Options to create the new account's passkey, for a username and email that are free now
/// (and are checked again when the account is made). Anyone may ask, and each start is
/// stored until it expires: counted with the passkey sign-ins one address may begin.
pub async fn start(
    f: &Factors<'_>,
    client: Client<'_>,
    enabled: bool,
    username: &str,
    email: &str,
) -> Result<serde_json::Value, PasskeySignupError> {
    if !enabled {
        return Err(PasskeySignupError::Off);
    }
    let rp = f.rp()?;
    let username = Username::parse(username).map_err(SignupError::InvalidUsername)?;
    let email = Email::parse(email).map_err(SignupError::InvalidEmail)?;
    f.starts
        .admit(Start::PasskeySignin, client.ip)
        .map_err(FactorError::TooManyStarts)?;
    let db = f.sessions.db;
    if store::users::find_by_login(db, username.as_str())
        .await?
        .is_some()
    {
        return Err(SignupError::UsernameTaken.into());
    }
    if store::users::find_by_email(db, email.as_str())
        .await?
        .is_some()
    {
        return Err(SignupError::EmailTaken.into());
    }
    let handle = webauthn::new_handle();
    let started = rp.start_registration(handle, username.as_str(), &[])?;
    let pending = Pending {
        username: username.as_str().to_string(),
        email: email.as_str().to_string(),
        handle: handle.to_string(),
        registration: started.state,
    };
    let state =
        serde_json::to_string(&pending).map_err(|e| FactorError::from(anyhow::Error::from(e)))?;
    let now = f.sessions.clock.now_ms();
    ceremonies::begin(
        db,
        NewCeremony {
            challenge_hash: &started.challenge_hash,
            purpose: Purpose::Signup,
            user_id: None,
            state: &state,
            expires_at: now + CEREMONY_TTL.as_millis() as i64,
        },
        now,
    )
    .await?;
    Ok(started.options)
}

/// Makes the account with the passkey the authenticator created, and signs it in (as a
/// passkey sign-in: a factor possessed and one known or inherent).
pub async fn finish(
    f: &Factors<'_>,
    client: Client<'_>,
    enabled: bool,
    credential: &RegisterPublicKeyCredential,
    name: Option<&str>,
) -> Result<SignedIn, PasskeySignupError> {
    if !enabled {
        return Err(PasskeySignupError::Off);
    }
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let rejected = || async {
        audit::record(
            db,
            clock,
            Event::Signup,
            false,
            &client.entry(None, None, None),
        )
        .await;
        PasskeySignupError::Factor(FactorError::PasskeyRejected)
    };
    let ceremony = match webauthn::registration_challenge(credential) {
        Some(challenge) => ceremonies::take(db, &challenge)
            .await?
            .filter(|c| c.purpose == Purpose::Signup && c.user_id.is_none() && now < c.expires_at),
        None => None,
    };
    let Some(ceremony) = ceremony else {
        return Err(rejected().await);
    };
    let pending: Pending = serde_json::from_str(&ceremony.state)
        .map_err(|e| FactorError::from(anyhow::Error::from(e)))?;
    let passkey = match f
        .rp()?
        .finish_registration(&pending.registration, credential)
    {
        Ok(passkey) => passkey,
        Err(PasskeyError::Internal(e)) => return Err(FactorError::from(e).into()),
        Err(e) => {
            tracing::debug!(error = %e, "passkey sign-up refused");
            return Err(rejected().await);
        }
    };
    let username = Username::parse(&pending.username).map_err(SignupError::InvalidUsername)?;
    let email = Email::parse(&pending.email).map_err(SignupError::InvalidEmail)?;
    // A random password, hashed and forgotten, as for an account a provider made: the
    // account signs in with its passkey until it sets one.
    let random = SecretString::from(uuid::Uuid::new_v4().simple().to_string());
    let password_hash = f.hasher.hash(random).await.map_err(FactorError::Hash)?;
    let stored = webauthn::store_passkey(&passkey)?;
    let credential_hash = webauthn::credential_hash(passkey.cred_id().as_ref());
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_NAME);
    let new = store::users::NewUser {
        username: &username,
        email: &email,
        password_hash: &password_hash,
        roles: [Role::User].into_iter().collect(),
    };
    let first = store::users::FirstPasskey {
        handle: &pending.handle,
        credential_hash: &credential_hash,
        name,
        credential: &stored,
    };
    let id = match store::users::create_with_passkey(db, new, first, now).await {
        Ok(id) => id,
        // Taken since the start: by another sign-up, most likely.
        Err(StoreError::UsernameTaken) => return Err(SignupError::UsernameTaken.into()),
        Err(StoreError::EmailTaken) => return Err(SignupError::EmailTaken.into()),
        Err(StoreError::Db(e)) => return Err(e.into()),
    };
    let user = store::users::find_by_id(db, id)
        .await?
        .ok_or(FactorError::Gone)?;
    let entry = audit::Entry {
        detail: Some("passkey"),
        ..client.entry(Some(id), Some(id), Some(&user.username))
    };
    audit::record(db, clock, Event::Signup, true, &entry).await;
    let entry = client.entry(Some(id), Some(id), Some(&user.username));
    audit::record(db, clock, Event::PasskeyRegistered, true, &entry).await;
    if let Some(outbox) = f.outbox {
        if let Err(e) = queue_verification(outbox, id, email.as_str()).await {
            tracing::error!(error = %e, user_id = id, "could not queue the new account's verification mail");
        }
    }
    let proven = Proven {
        user,
        method: SigninMethod::Passkey,
        event: Event::PasskeySignin,
        login: None,
    };
    Ok(ending::complete(f, client, proven, None).await?)
}
