//! What decides whether a signed access token still grants access: the state of its
//! session and of its user, as the store reads them and the session cache keeps them.
use std::sync::Arc;

use crate::clock::Millis;
use crate::domain::{Rights, RoleSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    pub user_id: i64,
    pub expires_at: Millis,
    pub revoked: bool,
}

/// `None` where a `UserState` is expected means the user no longer exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserState {
    /// Never changes once chosen; forward authentication and introspection name the user.
    pub username: Arc<str>,
    /// The built-in roles held, the account's own and its groups'.
    pub roles: RoleSet,
    /// Everything else it holds, loaded and cached with the rest.
    pub rights: Arc<Rights>,
    /// An account for machines (`portcullis service-account`): it never signs in
    /// interactively, only its API keys act for it.
    pub service_account: bool,
    pub disabled: bool,
    /// What `GET /api/auth/me` shows besides: every change to them is told to every node
    /// (`auth::notify::Notifier::user_changed`), as a role change is.
    pub email: Arc<str>,
    pub email_verified: bool,
    pub created_at: Millis,
}

/// What completed a sign-in's second step, as the session records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
    Passkey,
}

impl SecondFactor {
    pub const ALL: [SecondFactor; 3] = [
        SecondFactor::Totp,
        SecondFactor::RecoveryCode,
        SecondFactor::Passkey,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SecondFactor::Totp => "totp",
            SecondFactor::RecoveryCode => "recovery_code",
            SecondFactor::Passkey => "passkey",
        }
    }

    /// A stored name; `None` for none, and for a name this build does not know.
    pub fn from_stored(name: Option<&str>) -> Option<Self> {
        SecondFactor::ALL
            .into_iter()
            .find(|f| Some(f.name()) == name)
    }
}

/// How a session was signed in, as the session list shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigninMethod {
    Password,
    /// A sign-in link mailed to the account (`POST /api/auth/magic-link/confirm`).
    MagicLink,
    /// A passkey (`POST /api/auth/passkeys/signin/finish`).
    Passkey,
    /// An upstream identity provider (`GET /api/auth/providers/{id}/callback`).
    Provider,
    /// An upstream identity provider the operator trusts for both factors
    /// (`trustedForMfa`): no second step followed it.
    ProviderMfa,
}

impl SigninMethod {
    pub const ALL: [SigninMethod; 5] = [
        SigninMethod::Password,
        SigninMethod::MagicLink,
        SigninMethod::Passkey,
        SigninMethod::Provider,
        SigninMethod::ProviderMfa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SigninMethod::Password => "password",
            SigninMethod::MagicLink => "magic_link",
            SigninMethod::Passkey => "passkey",
            SigninMethod::Provider => "provider",
            SigninMethod::ProviderMfa => "provider_mfa",
        }
    }

    /// A stored name; sessions from before methods were recorded were all password
    /// sign-ins, and so is a name this build does not know (a newer node's).
    pub fn from_stored(name: Option<&str>) -> Self {
        SigninMethod::ALL
            .into_iter()
            .find(|m| Some(m.name()) == name)
            .unwrap_or(SigninMethod::Password)
    }
}
