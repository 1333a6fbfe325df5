//! Creating an account. `POST /api/auth/signup` and `portcullis user create` both come
//! here, so both keep the same rules: the username, email and password policies; roles
//! beyond `user` only for an admin (or the operator at the command line); uniqueness
//! decided by the database itself, so concurrent signups make one account; every attempt
//! audited. Over HTTP, with mail on, the new address is sent a verification link; an
//! account made at the command line counts as verified (the operator vouches for it).
use std::sync::Arc;

use crate::audit::{self, Entry, Event, Via};
use crate::auth::password::{HashError, PasswordHasher};
use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::domain::{
    Email, NewPassword, PasswordPolicy, PasswordRejection, Role, RoleSet, Username,
};
use crate::mail::Outbox;
use crate::service::recovery::queue_verification;
use crate::store::{self, StoreError};

/// Who asks for the account, and from where.
#[derive(Clone, Copy, Debug)]
pub enum Requester<'a> {
    /// Over HTTP: anyone, or a signed-in account (only an admin may assign roles).
    Http {
        account: Option<(i64, RoleSet)>,
        ip: &'a str,
        user_agent: Option<&'a str>,
    },
    /// An operator with the command line, who may give any role.
    CommandLine,
}

/// What the account is to be, as the client sent it.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub roles: &'a [String],
}

/// The account made.
#[derive(Debug)]
pub struct Created {
    pub id: i64,
    pub username: Username,
    pub roles: RoleSet,
}

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    #[error("{0}")]
    InvalidUsername(String),
    #[error("{0}")]
    InvalidEmail(String),
    #[error("the password was refused")]
    Password(PasswordRejection),
    #[error("role `{0}` does not exist")]
    UnknownRole(String),
    #[error("only an admin may assign roles")]
    RolesNeedAdmin,
    #[error("username already in use")]
    UsernameTaken,
    #[error("email already in use")]
    EmailTaken,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("database: {0}")]
    Db(DbError),
}

pub async fn signup(
    db: &Db,
    clock: &Clock,
    hasher: &Arc<PasswordHasher>,
    policy: &PasswordPolicy,
    outbox: Option<Outbox<'_>>,
    requester: Requester<'_>,
    account: NewAccount<'_>,
) -> Result<Created, SignupError> {
    let username = Username::parse(account.username).map_err(SignupError::InvalidUsername)?;
    let email = Email::parse(account.email).map_err(SignupError::InvalidEmail)?;
    let password = NewPassword::parse(policy, account.password, username.as_str(), email.as_str())
        .map_err(SignupError::Password)?;
    let roles = RoleSet::from_names(account.roles).map_err(SignupError::UnknownRole)?;
    let may_assign = match requester {
        Requester::CommandLine => true,
        Requester::Http { account, .. } => {
            account.is_some_and(|(_, roles)| roles.contains(Role::Admin))
        }
    };
    if roles.iter().any(|r| r != Role::User) && !may_assign {
        return Err(SignupError::RolesNeedAdmin);
    }

    let hash = hasher.hash(password.secret()).await?;
    let new_user = store::users::NewUser {
        username: &username,
        email: &email,
        password_hash: &hash,
        roles,
    };
    let created = store::users::create(db, new_user, clock.now_ms()).await;
    let mut entry = entry(requester, username.as_str());
    match created {
        Ok(id) => {
            entry.subject_id = Some(id);
            audit::record(db, clock, Event::Signup, true, &entry).await;
            // The account exists and the answer is 201 whatever happens here: a lost
            // verification mail can be asked for again.
            let proven = match (requester, outbox) {
                (Requester::CommandLine, _) => {
                    store::users::mark_email_verified(db, id, email.as_str(), clock.now_ms())
                        .await
                        .map(|_| ())
                }
                (Requester::Http { .. }, Some(outbox)) => {
                    queue_verification(outbox, id, email.as_str()).await
                }
                (Requester::Http { .. }, None) => Ok(()),
            };
            if let Err(e) = proven {
                tracing::warn!(error = %e, user_id = id, "signup: address neither verified nor sent a link");
            }
            Ok(Created {
                id,
                username,
                roles,
            })
        }
        Err(e) => {
            if matches!(&e, StoreError::Db(d) if d.is_unavailable()) {
                // A write would only wait for another acquire timeout.
                tracing::error!("audit event not stored: database unavailable");
                audit::log(Event::Signup, false, &entry);
            } else {
                audit::record(db, clock, Event::Signup, false, &entry).await;
            }
            Err(match e {
                StoreError::UsernameTaken => SignupError::UsernameTaken,
                StoreError::EmailTaken => SignupError::EmailTaken,
                StoreError::Db(e) => SignupError::Db(e),
            })
        }
    }
}

fn entry<'a>(requester: Requester<'a>, username: &'a str) -> Entry<'a> {
    match requester {
        Requester::Http {
            account,
            ip,
            user_agent,
        } => Entry {
            actor_id: account.map(|(id, _)| id),
            subject_id: None,
            username: Some(username),
            ip: Some(ip),
            user_agent,
            via: Via::Api,
            client_id: None,
            detail: None,
        },
        Requester::CommandLine => Entry {
            actor_id: None,
            subject_id: None,
            username: Some(username),
            ip: None,
            user_agent: None,
            via: Via::Cli,
            client_id: None,
            detail: None,
        },
    }
}
