//! Second-factor codes: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, by totp-rs) and
//! the one-time recovery codes that stand in for a lost app.
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, RFC 4226's recommendation.
const SECRET_BYTES: usize = 20;

/// A fresh secret, in base32 as apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret: &str, issuer: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    // Unchecked: the checks refuse a `:` in the names, which the URI escapes anyway.
    Some(TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS,
        bytes,
        Some(issuer.to_string()),
        account.to_string(),
    ))
}

/// The `otpauth://` URI an app scans from the QR code.
pub fn uri(secret: &str, issuer: &str, account: &str) -> Option<String> {
    totp(secret, issuer, account).map(|t| t.get_url())
}

/// The time step `code` is right for: the current one, or one before or after (clocks
/// drift, people type slowly); `None` if it is none of them.
pub fn matching_step(secret: &str, code: &str, now_secs: i64) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "", "")?;
    let current = u64::try_from(now_secs).ok()? / STEP_SECS;
    // Every candidate is computed and compared, so the time taken says nothing of which matched.
    let mut found = None;
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = totp.generate(step * STEP_SECS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step as i64);
        }
    }
    found
}

/// The code an app shows at `time_secs` (for tests and the bench).
pub fn code_at(secret: &str, time_secs: u64) -> Option<String> {
    totp(secret, "", "").map(|t| t.generate(time_secs))
}

/// Looks like a TOTP code rather than a recovery code.
pub fn is_totp_shaped(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// Recovery codes: 16 characters of an alphabet without look-alikes (no l, o, 0, 1),
/// 80 random bits each, shown in four groups.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const RECOVERY_CHARS: usize = 16;
pub const RECOVERY_CODES: usize = 10;

pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..RECOVERY_CHARS)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect();
            chars
                .chunks(4)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The stored form of a recovery code, whatever its case, dashes or spaces; `None` for
/// what cannot be one.
pub fn recovery_hash(code: &str) -> Option<String> {
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = normal.len() == RECOVERY_CHARS && normal.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| super::refresh_token::hex(&Sha256::digest(normal.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vector_for_sha1() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // its last six digits are what a 6-digit app shows.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(code_at(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(matching_step(&secret, "287082", 59), Some(1));
        // One step either side still matches; two do not.
        assert_eq!(matching_step(&secret, "287082", 89), Some(1));
        assert_eq!(matching_step(&secret, "287082", 150), None);
    }

    #[test]
    fn only_six_digits_are_codes() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(matching_step(&secret, "12345", 0), None);
        assert_eq!(matching_step(&secret, "12345a", 0), None);
        assert!(is_totp_shaped("012345"));
        assert!(!is_totp_shaped("abcd-efgh-ijkm-npqr"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving_to_type() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let hashes: std::collections::HashSet<_> = codes
            .iter()
            .map(|c| recovery_hash(c).expect("valid"))
            .collect();
        assert_eq!(hashes.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        let typed = code.replace('-', " ").to_uppercase();
        assert_eq!(recovery_hash(&typed), recovery_hash(code));
        assert_eq!(recovery_hash("abcd-efgh-ijkm-npq"), None);
        assert_eq!(recovery_hash("abcd-efgh-ijkm-npq0"), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let secret = new_secret();
        let uri = uri(&secret, "auth.example.com", "alice").expect("uri");
        assert!(
            uri.starts_with("otpauth://totp/auth.example.com:alice?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        assert!(uri.contains("issuer=auth.example.com"), "{uri}");
    }
}
