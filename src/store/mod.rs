//! Every query Portcullis runs, grouped by what they touch. Handlers never see SQL or
//! know which database is behind it.
pub mod admin_changes;
pub mod audit;
pub mod cache_events;
pub mod server_keys;
pub mod sessions;
pub mod throttle;
pub mod users;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("username already in use")]
    UsernameTaken,
    #[error("email already in use")]
    EmailTaken,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}
