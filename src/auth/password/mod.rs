//! Passwords: argon2id hashes made and checked on a few low-priority threads of their own.
//! `cost` reads the argon2 parameters, `argon2id` hashes in reused memory, `bcrypt` checks
//! the hashes imported from the tutorial, and `pool` runs them all on the hashing threads.
mod argon2id;
mod bcrypt;
mod cost;
mod pool;

pub use bcrypt::is_bcrypt;
pub use cost::Argon2Cost;
pub use pool::{PasswordHasher, DEFAULT_MAX_WAIT, MAX_WAITING_PER_THREAD};

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password hashes are waiting")]
    Overloaded,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> HashError {
    HashError::Failed(e.to_string())
}
