//! Refresh tokens: 256 random bits, stored only as a SHA-256 hash.
//!
//! A rotation's successor is not random but derived, HMAC(server key, presented token):
//! whoever holds a just-spent token can be handed the same successor again within the
//! reuse interval, without the server ever storing a token in clear.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Longer than any token we issue; bigger input is refused unread.
pub const MAX_LEN: usize = 128;

pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The only form a refresh token is stored in.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn successor(key: &[u8], token: &str) -> String {
    // HMAC takes keys of any length; should that ever fail, a fresh random token (which
    // matches nothing a client holds) fails closed.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return generate();
    };
    mac.update(b"portcullis refresh successor\0");
    mac.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    }

    #[test]
    fn the_stored_form_is_a_hash_not_the_token() {
        let t = generate();
        assert_eq!(hash(&t).len(), 64);
        assert!(!hash(&t).contains(&t));
        assert_eq!(hash(&t), hash(&t));
    }

    #[test]
    fn successors_are_deterministic_per_key_and_token() {
        let t = generate();
        assert_eq!(successor(b"k1", &t), successor(b"k1", &t));
        assert_ne!(successor(b"k1", &t), successor(b"k2", &t));
        assert_ne!(successor(b"k1", &t), t);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(successor(b"k1", &t)).unwrap().len(),
            32
        );
    }
}
