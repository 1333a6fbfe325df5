//! Tokens mailed in links (password reset, email verification, sign-in links): 256 random
//! bits, stored only as a SHA-256 hash, made the same way as refresh tokens.
pub use super::refresh_token::{generate, hash};

/// 32 bytes in unpadded base64url.
const LEN: usize = 43;

/// Only the shape a token we mail has is looked up; anything else is refused unread.
pub fn well_formed(token: &str) -> bool {
    token.len() == LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_we_mail_is_well_formed_and_little_else_is() {
        assert!(well_formed(&generate()));
        assert!(!well_formed(""));
        assert!(!well_formed(&"a".repeat(44)));
        assert!(!well_formed(&format!("{}\0", "a".repeat(42))));
        assert!(!well_formed(&format!("{}=", "a".repeat(42))));
    }
}
