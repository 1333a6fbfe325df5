//! bcrypt, only to verify the hashes imported from the tutorial's database: an account
//! still on one gets an argon2id hash at its first good sign-in.

/// The most bcrypt reads of a password.
const MAX_BYTES: usize = 72;

/// A bcrypt hash (`$2a$`, `$2b$`, `$2y$`), as the tutorial's backend stored.
pub fn is_bcrypt(hash: &str) -> bool {
    hash.len() == 60 && ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

/// Whether `password` matches the bcrypt hash `stored`. bcrypt reads only 72 bytes, so a
/// longer password is refused, not truncated.
pub(super) fn verify(password: &str, stored: &str) -> bool {
    password.len() <= MAX_BYTES && ::bcrypt::verify(password, stored).unwrap_or(false)
}
