//! Access tokens: HS256 JWTs tied to a server-side session by `sid` (docs/API.md §1, "Access
//! token"). Only our algorithm and key are accepted; keys named inside a token are never
//! fetched or trusted, and a `crit` header is refused (RFC 8725 §3.1, RFC 7515 §4.1.11).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated on `exp`, `nbf` and `iat`; docs/API.md allows at most 30 s.
pub const LEEWAY_SECS: u64 = 10;
/// Longer than any token we issue; a bigger one is refused before it is parsed.
const MAX_TOKEN_LEN: usize = 4096;
/// Header parameters we never issue and refuse to honour.
const FORBIDDEN_HEADER_PARAMS: [&str; 5] = ["crit", "jku", "x5u", "jwk", "x5c"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id as a number, as the tutorial's clients expect.
    pub id: i64,
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("access token invalid")]
    Invalid,
}

pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl_secs: i64,
    /// The first segment of every token we issue: a token that starts with exactly it needs
    /// no further look at its header before the signature check.
    our_header: String,
}

impl AccessTokens {
    pub fn new(key: &[u8], issuer: &str, ttl: std::time::Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Time claims are checked in `verify_with` against our `Clock`, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            issuer: issuer.to_string(),
            ttl_secs: ttl.as_secs() as i64,
            our_header: serde_json::to_vec(&Header::new(Algorithm::HS256))
                .map(|json| URL_SAFE_NO_PAD.encode(json))
                .unwrap_or_default(),
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs a token for `user_id` in session `sid`; it expires after the access lifetime
    /// or when the session's absolute lifetime ends, whichever comes first.
    pub fn issue(
        &self,
        user_id: i64,
        sid: &str,
        now_secs: i64,
        session_ends_secs: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            id: user_id,
            sub: user_id.to_string(),
            sid: sid.to_string(),
            iat: now_secs,
            exp: (now_secs + self.ttl_secs).min(session_ends_secs.max(now_secs)),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Checks signature, algorithm, header and every claim.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Claims, TokenError> {
        let claims = self.verify_ignoring_expiry(token, now_secs)?;
        if now_secs > claims.exp + LEEWAY_SECS as i64 {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// As `verify`, but an expired token still yields its claims: signout uses it to find
    /// the session a stale token belonged to.
    pub fn verify_ignoring_expiry(&self, token: &str, now_secs: i64) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN || !self.header_is_acceptable(token) {
            return Err(TokenError::Invalid);
        }
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if !payload_is_utf8(token) {
            return Err(TokenError::Invalid);
        }
        let leeway = LEEWAY_SECS as i64;
        let not_yet = claims.nbf.is_some_and(|nbf| nbf > now_secs + leeway);
        if not_yet || claims.iat > now_secs + leeway || claims.sub != claims.id.to_string() {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

/// The JOSE header must be a JSON object without any parameter we refuse to honour.
impl AccessTokens {
    /// No header parameter that could point the check at another key or add rules we do
    /// not follow; `decode` then checks the algorithm. Our own header, byte for byte, is
    /// known to be fine, which spares the common case a decode and a parse.
    fn header_is_acceptable(&self, token: &str) -> bool {
        let header_b64 = token.split('.').next().unwrap_or_default();
        (!self.our_header.is_empty() && header_b64 == self.our_header)
            || header_has_no_forbidden_params(header_b64)
    }
}

/// RFC 7519 §7.2: the claims set is UTF-8 JSON. serde_json skips an unknown claim's string
/// without looking into it, so `decode` alone lets invalid bytes through; this looks. Run
/// only on tokens whose signature held, on a buffer of the stack: one pass of base64 and
/// one of UTF-8 (ASCII, which our claims are, is its fast path).
fn payload_is_utf8(token: &str) -> bool {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let mut decoded = [0u8; MAX_TOKEN_LEN / 4 * 3];
    match URL_SAFE_NO_PAD.decode_slice(payload, &mut decoded) {
        Ok(len) => decoded
            .get(..len)
            .is_some_and(|bytes| std::str::from_utf8(bytes).is_ok()),
        Err(_) => false,
    }
}

fn header_has_no_forbidden_params(header_b64: &str) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(header_b64) else {
        return false;
    };
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes) {
        Ok(header) => !FORBIDDEN_HEADER_PARAMS
            .iter()
            .any(|p| header.contains_key(*p)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";
    const NOW: i64 = 1_800_000_000;

    fn tokens() -> AccessTokens {
        AccessTokens::new(KEY, "portcullis", Duration::from_secs(900))
    }

    #[test]
    fn a_token_verified_before_still_meets_every_time_check() {
        let t = tokens();
        let token = t.issue(7, "sid", NOW, NOW + 3600).unwrap();
        assert!(t.verify(&token, NOW).is_ok());
        // Expiry and "issued in the future" are checked on every use.
        let after = NOW + 900 + LEEWAY_SECS as i64 + 1;
        assert_eq!(t.verify(&token, after), Err(TokenError::Expired));
        assert!(t.verify_ignoring_expiry(&token, after).is_ok());
        let before = NOW - LEEWAY_SECS as i64 - 1;
        assert_eq!(t.verify(&token, before), Err(TokenError::Invalid));
        assert!(t.verify(&token, NOW).is_ok());
        // Another server's key never finds our tokens valid.
        let other = AccessTokens::new(
            b"another-key-another-key-another-key!",
            "portcullis",
            Duration::from_secs(900),
        );
        assert_eq!(other.verify(&token, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn issued_tokens_carry_the_header_the_fast_path_knows() {
        let t = tokens();
        let token = t.issue(7, "sid", NOW, NOW + 3600).unwrap();
        assert!(!t.our_header.is_empty());
        assert_eq!(token.split('.').next(), Some(t.our_header.as_str()));
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&t.our_header).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"typ": "JWT", "alg": "HS256"}));
        assert!(t.verify(&token, NOW).is_ok());
    }

    fn forge(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
        forge_raw(header, claims.to_string().as_bytes(), key)
    }

    /// As `forge`, with the claims given as bytes, which need not be UTF-8.
    fn forge_raw(header: serde_json::Value, claims: &[u8], key: &[u8]) -> String {
        use hmac_sha256::sign;
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims);
        let sig = URL_SAFE_NO_PAD.encode(sign(key, format!("{h}.{c}").as_bytes()));
        format!("{h}.{c}.{sig}")
    }

    mod hmac_sha256 {
        use hmac::{Hmac, Mac};
        pub fn sign(key: &[u8], msg: &[u8]) -> Vec<u8> {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
    }

    fn good_claims() -> serde_json::Value {
        serde_json::json!({"id": 7, "sub": "7", "sid": "s", "iat": NOW, "exp": NOW + 900,
                           "iss": "portcullis", "aud": "portcullis", "jti": "j"})
    }

    #[test]
    fn a_fresh_token_verifies_with_all_claims() {
        let t = tokens();
        let token = t.issue(7, "sess", NOW, NOW + 10_000).unwrap();
        let claims = t.verify(&token, NOW).unwrap();
        assert_eq!(
            (claims.id, claims.sub.as_str(), claims.sid.as_str()),
            (7, "7", "sess")
        );
        assert_eq!(claims.exp, NOW + 900);
        assert_eq!(claims.iss, "portcullis");
        assert_eq!(claims.aud, "portcullis");
    }

    #[test]
    fn the_token_never_outlives_its_session() {
        let t = tokens();
        let token = t.issue(7, "sess", NOW, NOW + 60).unwrap();
        assert_eq!(t.verify(&token, NOW).unwrap().exp, NOW + 60);
    }

    #[test]
    fn expiry_is_reported_as_such_and_leeway_is_bounded() {
        let t = tokens();
        let claims = serde_json::json!({"id": 7, "sub": "7", "sid": "s", "iat": NOW - 1000, "exp": NOW - 31,
                                        "iss": "portcullis", "aud": "portcullis", "jti": "j"});
        let token = forge(
            serde_json::json!({"alg": "HS256", "typ": "JWT"}),
            claims,
            KEY,
        );
        assert_eq!(t.verify(&token, NOW), Err(TokenError::Expired));
        assert!(t.verify_ignoring_expiry(&token, NOW).is_ok());
    }

    #[test]
    fn a_forged_header_or_claim_is_invalid() {
        let t = tokens();
        let hs = serde_json::json!({"alg": "HS256"});
        let cases = vec![
            (
                "wrong key",
                forge(
                    hs.clone(),
                    good_claims(),
                    b"another-key-another-key-another-key!!",
                ),
            ),
            (
                "alg none",
                format!(
                    "{}.{}.",
                    URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
                    URL_SAFE_NO_PAD.encode(good_claims().to_string())
                ),
            ),
            (
                "alg HS512",
                forge(serde_json::json!({"alg": "HS512"}), good_claims(), KEY),
            ),
            (
                "crit header",
                forge(
                    serde_json::json!({"alg": "HS256", "crit": ["exp"]}),
                    good_claims(),
                    KEY,
                ),
            ),
            (
                "jku header",
                forge(
                    serde_json::json!({"alg": "HS256", "jku": "http://evil/keys"}),
                    good_claims(),
                    KEY,
                ),
            ),
            (
                "jwk header",
                forge(
                    serde_json::json!({"alg": "HS256", "jwk": {"kty": "oct", "k": "AA"}}),
                    good_claims(),
                    KEY,
                ),
            ),
        ];
        for (why, token) in cases {
            assert_eq!(t.verify(&token, NOW), Err(TokenError::Invalid), "{why}");
        }
        let mut bad_claims = Vec::new();
        for (field, value) in [
            ("iss", serde_json::json!("other")),
            ("aud", serde_json::json!("other")),
            ("iat", serde_json::json!(NOW + 120)),
            ("nbf", serde_json::json!(NOW + 120)),
            ("sub", serde_json::json!("8")),
        ] {
            let mut c = good_claims();
            c[field] = value;
            bad_claims.push((field, c));
        }
        for missing in ["exp", "iss", "aud", "sub", "iat", "sid", "id"] {
            let mut c = good_claims();
            c.as_object_mut().unwrap().remove(missing);
            bad_claims.push((missing, c));
        }
        for (why, c) in bad_claims {
            assert_eq!(
                t.verify(&forge(hs.clone(), c, KEY), NOW),
                Err(TokenError::Invalid),
                "{why}"
            );
        }
    }

    #[test]
    fn claims_that_are_not_utf8_are_invalid_though_signed_with_our_key() {
        let t = tokens();
        let hs = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        let valid = good_claims().to_string();
        let body = valid.strip_suffix('}').unwrap();
        // An unknown claim's value and an unknown claim's name, each with raw bytes that
        // are no UTF-8: bytes never used, an overlong form, an encoded surrogate.
        for bad in [
            b"\xff\xfe".as_slice(),
            b"\xc0\xaf".as_slice(),
            b"\xed\xa0\x80".as_slice(),
        ] {
            let mut unknown = format!("{body},\"x\":\"").into_bytes();
            unknown.extend_from_slice(bad);
            unknown.extend_from_slice(b"\"}");
            assert_eq!(
                t.verify(&forge_raw(hs.clone(), &unknown, KEY), NOW),
                Err(TokenError::Invalid),
                "unknown claim {bad:?}"
            );
            let mut name = format!("{body},\"").into_bytes();
            name.extend_from_slice(bad);
            name.extend_from_slice(b"\":1}");
            assert_eq!(
                t.verify(&forge_raw(hs.clone(), &name, KEY), NOW),
                Err(TokenError::Invalid),
                "claim name {bad:?}"
            );
        }
        // The same token with a valid non-ASCII string still passes: UTF-8 is the rule.
        let accented = format!("{body},\"x\":\"caf\u{e9} \u{1f600}\"}}");
        assert!(t
            .verify(&forge_raw(hs, accented.as_bytes(), KEY), NOW)
            .is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_strings_are_invalid_never_a_panic(token in "\\PC{0,200}") {
            prop_assert!(tokens().verify(&token, NOW).is_err());
        }

        #[test]
        fn tampering_with_any_byte_is_refused(pos in 0usize..200, byte in any::<u8>()) {
            let t = tokens();
            let token = t.issue(7, "sess", NOW, NOW + 10_000).unwrap();
            let mut bytes = token.clone().into_bytes();
            let pos = pos % bytes.len();
            prop_assume!(bytes[pos] != byte);
            bytes[pos] = byte;
            if let Ok(tampered) = String::from_utf8(bytes) {
                // A changed base64 padding bit can decode to the same bytes; then the
                // claims are identical, which is no forgery.
                if let Ok(claims) = t.verify(&tampered, NOW) {
                    prop_assert_eq!(claims, t.verify(&token, NOW).unwrap());
                }
            }
        }
    }
}
