//! Whose account an upstream identity is: a linked identity signs in to its account; an
//! unknown one gets a new account only as the provider's `signup` allows, and never the
//! account of someone whose email it merely shares (pre-account takeover): that person must
//! sign in and link it. A signed-in account links an identity it has just proved.
use secrecy::SecretString;

use super::identity::Identity;
use super::mapping;
use super::ProviderSigninError;
use crate::audit::{self, Event};
use crate::domain::{Email, RoleSet, SigninMethod, Username};
use crate::service::ending::{self, Outcome, Proven};
use crate::service::factors::{FactorError, Factors};
use crate::service::providers::Provider;
use crate::service::Client;
use crate::store::{self, identities, StoreError};

/// A signed-in account links the identity it just proved at the provider.
pub(super) async fn link(
    f: &Factors<'_>,
    client: Client<'_>,
    provider: &Provider,
    user_id: i64,
    identity: &Identity,
) -> Result<(), ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let user = store::users::find_by_id(db, user_id)
        .await?
        .filter(|u| !u.disabled && !u.service_account)
        .ok_or(ProviderSigninError::AccountRefused)?;
    if let Some(existing) = identities::find(db, &provider.id, &identity.subject).await? {
        if existing.user_id != user.id {
            return Err(ProviderSigninError::LinkedElsewhere);
        }
        return Ok(());
    }
    let email = identity.email.as_deref();
    if !identities::link(db, user.id, &provider.id, &identity.subject, email, now).await? {
        return Err(ProviderSigninError::LinkedElsewhere);
    }
    let detail = format!("provider {}", provider.id);
    let entry = audit::Entry {
        detail: Some(&detail),
        ..client.entry(Some(user.id), Some(user.id), Some(&user.username))
    };
    audit::record(db, clock, Event::ProviderLinked, true, &entry).await;
    Ok(())
}

/// The account the identity signs in to, made if the provider's `signup` allows, and the
/// sign-in's ending.
pub(super) async fn signin(
    f: &Factors<'_>,
    client: Client<'_>,
    require_mfa_for: RoleSet,
    provider: &Provider,
    identity: Identity,
) -> Result<Outcome, ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let now = clock.now_ms();
    let verified_email = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified);
    let user = match identities::find(db, &provider.id, &identity.subject).await? {
        Some(linked) => {
            identities::touch(db, linked.id, identity.email.as_deref(), now).await?;
            store::users::find_by_id(db, linked.user_id)
                .await?
                .ok_or(ProviderSigninError::NoAccount)?
        }
        None => {
            // Never the account of someone whose email this identity merely shares.
            if let Some(email) = &identity.email {
                if store::users::find_by_email(db, email).await?.is_some() {
                    return Err(ProviderSigninError::LinkRequired);
                }
            }
            if !provider.config.admits_new_account(verified_email) {
                return Err(ProviderSigninError::NoAccount);
            }
            let email = verified_email.ok_or(ProviderSigninError::EmailMissing)?;
            new_account(f, client, provider, &identity, email).await?
        }
    };
    if user.disabled || user.service_account {
        return Err(ProviderSigninError::AccountRefused);
    }
    // The roles the provider gives hold from this sign-in's tokens on.
    let user = if mapping::apply(f, client, provider, &identity, &user).await? {
        store::users::find_by_id(db, user.id)
            .await?
            .ok_or(ProviderSigninError::NoAccount)?
    } else {
        user
    };
    let trusted = provider.config.trusted_for_mfa;
    let proven = Proven {
        user,
        method: if trusted {
            SigninMethod::ProviderMfa
        } else {
            SigninMethod::Provider
        },
        event: Event::ProviderSignin,
        login: None,
    };
    if trusted {
        return Ok(Outcome::SignedIn(
            ending::complete(f, client, proven, None).await?,
        ));
    }
    Ok(ending::after_first_factor(f, client, proven, require_mfa_for).await?)
}

/// Makes the account of a first sign-in: a username from the provider's claims (made
/// unique), the verified email, no password it knows.
async fn new_account(
    f: &Factors<'_>,
    client: Client<'_>,
    provider: &Provider,
    identity: &Identity,
    email: &str,
) -> Result<store::users::UserRecord, ProviderSigninError> {
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let email = Email::parse(email).map_err(|_| ProviderSigninError::EmailMissing)?;
    // A random password, hashed and forgotten: the account signs in with the provider
    // until it sets one (a reset link, or the profile).
    let random = SecretString::from(uuid::Uuid::new_v4().simple().to_string());
    let password_hash = f
        .hasher
        .hash(random)
        .await
        .map_err(|e| ProviderSigninError::Factor(FactorError::Hash(e)))?;
    let base = username_base(&identity.username_hints);
    let mut created = None;
    for attempt in 0..20u32 {
        let candidate = match attempt {
            0 => base.clone(),
            n if n < 10 => format!("{}{}", truncate(&base, 18), n + 1),
            _ => format!(
                "{}-{}",
                truncate(&base, 12),
                &uuid::Uuid::new_v4().simple().to_string()[..6]
            ),
        };
        let Ok(username) = Username::parse(&candidate) else {
            continue;
        };
        let new = store::users::NewUser {
            username: &username,
            email: &email,
            password_hash: &password_hash,
            roles: [crate::domain::Role::User].into_iter().collect(),
        };
        let first = store::users::FirstIdentity {
            provider_id: &provider.id,
            subject: &identity.subject,
            email_verified: true,
        };
        match store::users::create_from_identity(db, new, first, clock.now_ms()).await {
            Ok(id) => {
                created = Some(id);
                break;
            }
            Err(StoreError::UsernameTaken) => continue,
            // Another sign-in made it meanwhile: its owner links, as above.
            Err(StoreError::EmailTaken) => return Err(ProviderSigninError::LinkRequired),
            Err(e) => return Err(e.into()),
        }
    }
    let id = created.ok_or_else(|| anyhow::anyhow!("no free username for a new account"))?;
    let user = store::users::find_by_id(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the new account {id} is gone"))?;
    let detail = format!("provider {}", provider.id);
    let entry = audit::Entry {
        detail: Some(&detail),
        ..client.entry(Some(id), Some(id), Some(&user.username))
    };
    audit::record(db, clock, Event::Signup, true, &entry).await;
    Ok(user)
}

/// A username from the provider's hints: the first that has enough of the username rules'
/// characters once the others are dropped; `user` when none does.
fn username_base(hints: &[String]) -> String {
    hints
        .iter()
        .map(|h| {
            h.chars()
                .map(|c| if c == ' ' { '.' } else { c })
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .take(20)
                .collect::<String>()
        })
        .find(|h| h.len() >= 3)
        .unwrap_or_else(|| "user".into())
}

fn truncate(s: &str, max: usize) -> &str {
    &s[..s.len().min(max)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_the_hints_within_the_rules() {
        let hint = |h: &[&str]| username_base(&h.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(hint(&["Ada Lovelace"]), "Ada.Lovelace");
        assert_eq!(hint(&["é", "grace_h"]), "grace_h");
        assert_eq!(
            hint(&["a-very-long-name-beyond-twenty"]),
            "a-very-long-name-bey"
        );
        assert_eq!(hint(&[]), "user");
    }
}
