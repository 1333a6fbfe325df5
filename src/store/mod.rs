//! Every query Portcullis runs, grouped by what they touch. Handlers never see SQL or
//! know which database is behind it.
pub mod admin_changes;
pub mod api_keys;
pub mod audit;
pub mod backchannel;
pub mod branding;
pub mod cache_events;
pub mod ceremonies;
pub mod device_codes;
pub mod dpop_proofs;
pub mod groups;
pub mod identities;
pub mod mail_outbox;
pub mod mail_tokens;
pub mod mfa_tokens;
pub mod oauth_clients;
pub mod oauth_grants;
pub mod passkeys;
pub mod providers;
pub mod revoked_tokens;
pub mod rights;
pub mod roles;
pub mod server_keys;
pub mod sessions;
pub mod signing_keys;
pub mod throttle;
pub mod totp;
pub mod tutorial_source;
pub mod upstream_logins;
pub mod users;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("username already in use")]
    UsernameTaken,
    #[error("email already in use")]
    EmailTaken,
    #[error("database: {0}")]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e.into())
    }
}
