//! The one ending of every sign-in, whatever proved who signs in (a password, a mailed
//! link, a passkey, a second step, an upstream identity provider): the second-factor rule,
//! the new session, the throttle's reset, the last sign-in time and the audit entry. A way
//! in decides only what its proof is worth; it cannot open a session any other way, so a
//! new one cannot skip a rule by accident.
use crate::audit::{self, Event};
use crate::auth::sessions;
use crate::domain::{RoleSet, SecondFactor, SigninMethod};
use crate::service::factors::{FactorError, Factors};
use crate::service::mfa::{self, SecondStep};
use crate::service::{account_throttle_key, Client, SignedIn};
use crate::store::{self, users::UserRecord};

/// What a first factor (a password, a sign-in link, an upstream identity) leads to.
pub enum Outcome {
    SignedIn(SignedIn),
    /// The account has a second factor, or must enrol one, before its session opens.
    SecondStep(SecondStep),
}

/// Who a proof showed is signing in, and how.
pub struct Proven<'a> {
    /// Enabled, and allowed to sign in interactively: the caller has checked.
    pub user: UserRecord,
    pub method: SigninMethod,
    /// The audit event a success is recorded as.
    pub event: Event,
    /// The login typed, whose failures the sign-in also clears (the account's own count
    /// is always cleared), and which the audit entry records as typed.
    pub login: Option<&'a str>,
}

/// After one factor: the account's second factor (or the enrolment `require_mfa_for`
/// asks of its roles) comes next; without either, the sign-in is complete.
pub async fn after_first_factor(
    f: &Factors<'_>,
    client: Client<'_>,
    proven: Proven<'_>,
    require_mfa_for: RoleSet,
) -> Result<Outcome, FactorError> {
    let step = mfa::second_step(f, &proven.user, proven.method, require_mfa_for).await?;
    if let Some(step) = step {
        return Ok(Outcome::SecondStep(step));
    }
    Ok(Outcome::SignedIn(complete(f, client, proven, None).await?))
}

/// A sign-in that needs no further step: its proof was more than one factor (a passkey),
/// or its second step just held (`second_factor`, recorded on the session; none when the
/// step enrolled the account's first factor).
pub async fn complete(
    f: &Factors<'_>,
    client: Client<'_>,
    proven: Proven<'_>,
    second_factor: Option<SecondFactor>,
) -> Result<SignedIn, FactorError> {
    let Proven {
        user,
        method,
        event,
        login,
    } = proven;
    let (db, clock) = (f.sessions.db, f.sessions.clock);
    let (ua, ip) = (client.user_agent, client.ip_text);
    // The failures counted so far are cleared only by a completed sign-in: a right
    // password does not reset what wrong second-step codes have counted.
    f.throttle
        .record_success(&account_throttle_key(user.id))
        .await?;
    if let Some(login) = login {
        f.throttle.record_success(login).await?;
    }
    let issued = match second_factor {
        Some(factor) => {
            sessions::open_after_second_step(&f.sessions, user.id, (method, factor), ua, ip).await?
        }
        None => sessions::open(&f.sessions, user.id, method, ua, ip).await?,
    };
    store::users::touch_signin(db, user.id, clock.now_ms()).await?;
    let entry = client.entry(
        Some(user.id),
        Some(user.id),
        Some(login.unwrap_or(&user.username)),
    );
    audit::record(db, clock, event, true, &entry).await;
    Ok(SignedIn { user, issued })
}
