//! Signing in with a password: the throttle (per login, per account, per client), the
//! check that costs the same whether or not the account exists, the upgrade of an imported
//! bcrypt hash, the new session, and the audit trail. The HTTP handler only turns the
//! result into cookies and a body.
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, Event};
use crate::auth::password::{is_bcrypt, HashError, PasswordHasher};
use crate::auth::sessions::{self, Issued, Sessions};
use crate::auth::throttle::Throttle;
use crate::db::DbError;
use crate::domain::SigninMethod;
use crate::service::Client;
use crate::store::{self, users::UserRecord};

/// Longest login worth looking up: an email address.
const MAX_LOGIN_CHARS: usize = 254;
/// Longest password worth hashing; signup allows 128 characters (up to 512 bytes).
const MAX_PASSWORD_BYTES: usize = 1024;

/// The account signed in, and its new session.
pub struct SignedIn {
    pub user: UserRecord,
    pub issued: Issued,
}

#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    #[error("username and password are required")]
    Missing,
    /// Too many failures for this login, account or client; retry after this many seconds.
    #[error("too many failed sign-ins")]
    Throttled(u64),
    /// Unknown user, wrong password or disabled account: which, nobody outside learns.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The password was right, but `PORTCULLIS_REQUIRE_VERIFIED_EMAIL` wants the address
    /// proven first.
    #[error("the email address is not verified")]
    EmailNotVerified,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The throttle key that counts failures against the account itself, whichever of its
/// names was typed.
pub fn account_throttle_key(user_id: i64) -> String {
    format!("#account:{user_id}")
}

pub async fn signin(
    sessions: &Sessions<'_>,
    hasher: &Arc<PasswordHasher>,
    throttle: &Throttle,
    require_verified_email: bool,
    client: Client<'_>,
    login: &str,
    password: SecretString,
) -> Result<SignedIn, SigninError> {
    if login.is_empty() || password.expose_secret().is_empty() {
        return Err(SigninError::Missing);
    }
    let (db, clock) = (sessions.db, sessions.clock);
    let now = clock.now_ms();
    let mut entry = client.entry(None, None, Some(login));
    if let Some(retry_after) = throttle.check(login, client.ip, now).await? {
        audit::record(db, clock, Event::SigninThrottled, false, &entry).await;
        return Err(SigninError::Throttled(retry_after));
    }
    // No login contains NUL, and PostgreSQL refuses it in text: it is never looked up.
    let plausible = login.chars().count() <= MAX_LOGIN_CHARS
        && !login.contains('\0')
        && password.expose_secret().len() <= MAX_PASSWORD_BYTES;
    let user = if plausible {
        store::users::find_by_login(db, login).await?
    } else {
        None
    };
    // Failures also count against the account itself, so its username and its email do
    // not give an attacker two budgets. An unknown login gets a stand-in key so that both
    // cases do the same throttle work (and take the same time).
    let account_key = match &user {
        Some(u) => account_throttle_key(u.id),
        None => format!("#unknown:{login}"),
    };
    if let Some(retry_after) = throttle.check(&account_key, client.ip, now).await? {
        entry.subject_id = user.as_ref().map(|u| u.id);
        audit::record(db, clock, Event::SigninThrottled, false, &entry).await;
        return Err(SigninError::Throttled(retry_after));
    }
    // A tutorial account still on bcrypt gets an argon2id hash on its first good sign-in.
    let legacy = user.as_ref().is_some_and(|u| is_bcrypt(&u.password_hash));
    let rehash_with = legacy.then(|| password.clone());
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = hasher.verify(password, stored).await?;
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        _ => {
            throttle.record_failure(login, client.ip, now).await?;
            throttle.record_account_failure(&account_key, now).await?;
            entry.subject_id = user.as_ref().map(|u| u.id);
            audit::record(db, clock, Event::Signin, false, &entry).await;
            return Err(SigninError::InvalidCredentials);
        }
    };
    throttle.record_success(login).await?;
    throttle.record_success(&account_key).await?;
    // Only once the password is known right: the answer tells nothing to a guesser.
    if require_verified_email && user.email_verified_at.is_none() {
        entry.subject_id = Some(user.id);
        audit::record(db, clock, Event::Signin, false, &entry).await;
        return Err(SigninError::EmailNotVerified);
    }

    if let Some(password) = rehash_with {
        let hash = hasher.hash(password).await?;
        store::users::set_password(db, user.id, &hash, now).await?;
    }
    let issued = sessions::open(
        sessions,
        user.id,
        SigninMethod::Password,
        client.user_agent,
        client.ip_text,
    )
    .await?;
    store::users::touch_signin(db, user.id, now).await?;
    entry.actor_id = Some(user.id);
    entry.subject_id = Some(user.id);
    audit::record(db, clock, Event::Signin, true, &entry).await;
    Ok(SignedIn { user, issued })
}
