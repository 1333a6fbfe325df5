//! The values one pending sign-in keeps between sending a person to the provider and their
//! return: `state` (binds the callback to this browser, RFC 6749 §10.12), `nonce` (binds
//! the ID token to this request, OIDC Core §3.1.2.1) and the PKCE code verifier (binds the
//! code to this client, RFC 7636).
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new sign-in's secrets. Only its caller sees them: `Debug` prints none of them.
pub struct Pending {
    pub state: String,
    pub nonce: String,
    /// 43 characters, the shortest RFC 7636 §4.1 allows, from its unreserved set.
    pub code_verifier: String,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pending { .. }")
    }
}

/// 256 bits each, from the operating system: none may be guessed or derived from another.
pub fn new_pending() -> Pending {
    Pending {
        state: random_token(),
        nonce: random_token(),
        code_verifier: random_token(),
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7636 §4.2, method S256: base64url (no padding) of the verifier's SHA-256.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What the caller stores to find the pending sign-in by its `state`: a leaked store then
/// holds nothing a callback could be forged with.
pub fn hash_state(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_s256_of_the_verifier() {
        // RFC 7636 Appendix B
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn each_pending_sign_in_has_fresh_distinct_256_bit_values() {
        let (a, b) = (new_pending(), new_pending());
        for value in [&a.state, &a.nonce, &a.code_verifier] {
            assert_eq!(URL_SAFE_NO_PAD.decode(value).unwrap().len(), 32);
        }
        // RFC 7636 4.1: 43 to 128 characters of [A-Za-z0-9-._~].
        assert_eq!(a.code_verifier.len(), 43);
        assert!(a
            .code_verifier
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c)));
        assert_ne!(a.state, a.nonce);
        assert_ne!(a.nonce, a.code_verifier);
        assert_ne!(a.state, b.state);
        assert_ne!(a.code_verifier, b.code_verifier);
        assert!(!format!("{a:?}").contains(&a.state));
    }

    #[test]
    fn the_stored_state_is_its_sha256_in_hex() {
        assert_eq!(
            hash_state("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
