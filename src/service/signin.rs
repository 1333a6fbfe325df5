//! Signing in with a password: the throttle (per login, per account, per client), the
//! check that costs the same whether or not the account exists, the upgrade of an imported
//! bcrypt hash; then the ending every sign-in shares (`ending`: the second step when the
//! account has one, the new session, the audit trail). The HTTP handler only turns the
//! result into cookies and a body.
use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, Event};
use crate::auth::password::{is_bcrypt, HashError};
use crate::db::DbError;
use crate::domain::{RoleSet, SigninMethod};
use crate::service::ending::{self, Proven};
use crate::service::factors::{FactorError, Factors};
use crate::service::{account_throttle_key, Client};

pub use crate::service::ending::Outcome;
use crate::store;

/// Longest login worth looking up: an email address.
const MAX_LOGIN_CHARS: usize = 254;
/// Longest password worth hashing; signup allows 128 characters (up to 512 bytes).
const MAX_PASSWORD_BYTES: usize = 1024;

/// The settings a sign-in obeys.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules {
    /// `PORTCULLIS_REQUIRE_VERIFIED_EMAIL`
    pub require_verified_email: bool,
    /// `PORTCULLIS_REQUIRE_MFA_FOR`
    pub require_mfa_for: RoleSet,
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

impl From<FactorError> for SigninError {
    fn from(e: FactorError) -> Self {
        match e {
            FactorError::Hash(e) => SigninError::Hash(e),
            FactorError::Db(e) => SigninError::Db(e),
            other => SigninError::Internal(other.into()),
        }
    }
}

pub async fn signin(
    f: &Factors<'_>,
    rules: Rules,
    client: Client<'_>,
    login: &str,
    password: SecretString,
) -> Result<Outcome, SigninError> {
    if login.is_empty() || password.expose_secret().is_empty() {
        return Err(SigninError::Missing);
    }
    let (hasher, throttle) = (f.hasher, f.throttle);
    let (db, clock) = (f.sessions.db, f.sessions.clock);
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
        Some(user) if verified && !user.disabled && !user.service_account => user,
        _ => {
            throttle.record_failure(login, client.ip, now).await?;
            throttle.record_account_failure(&account_key, now).await?;
            entry.subject_id = user.as_ref().map(|u| u.id);
            audit::record(db, clock, Event::Signin, false, &entry).await;
            return Err(SigninError::InvalidCredentials);
        }
    };
    // Only once the password is known right: the answer tells nothing to a guesser.
    if rules.require_verified_email && user.email_verified_at.is_none() {
        entry.subject_id = Some(user.id);
        audit::record(db, clock, Event::Signin, false, &entry).await;
        return Err(SigninError::EmailNotVerified);
    }

    if let Some(password) = rehash_with {
        let hash = hasher.hash(password).await?;
        store::users::set_password(db, user.id, &hash, now).await?;
    }
    let proven = Proven {
        user,
        method: SigninMethod::Password,
        event: Event::Signin,
        login: Some(login),
    };
    Ok(ending::after_first_factor(f, client, proven, rules.require_mfa_for).await?)
}
