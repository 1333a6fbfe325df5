//! Validated input (once you hold a `Username`, `Email` or `NewPassword`, it obeys
//! docs/API.md's rules) and the plain state the layers pass between them.
mod access;
pub mod branding;
mod email;
pub mod oauth;
mod password;
mod provider;
mod rights;
mod roles;
mod username;

pub use access::{SecondFactor, SessionState, SigninMethod, UserState};
pub use email::Email;
pub use password::{NewPassword, PasswordPolicy, PasswordRejection};
pub use provider::{
    check_provider_id, check_provider_url, is_loopback_host, ClaimPointers, MappingRule,
    ProviderConfig, ProviderKind, RoleMapping, SignupPolicy,
};
pub use rights::{authority, sorted, ForClient, PermissionName, Rights, RightsName};
pub use roles::{Role, RoleSet};
pub use username::Username;
