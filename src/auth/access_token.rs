//! Access tokens: JWTs tied to a server-side session by `sid` (docs/API.md §1, "Access
//! token"), signed with the key ring's current key (EdDSA unless configured otherwise) or,
//! with `PORTCULLIS_ACCESS_TOKEN_ALG=HS256`, with the tutorial's kind of shared secret.
//! Only our algorithms and keys are accepted: a key is found by its `kid` among our own,
//! keys named inside a token are never fetched or trusted, and a `crit` header is refused
//! (RFC 8725 §3.1, RFC 7515 §4.1.11).
//!
//! The same signer issues the tokens of OpenID Connect clients (`OAuthClaims`, typed
//! `at+jwt` as RFC 9068 asks, their audience the client) and ID tokens; a first-party check
//! refuses both, since their `aud` is not ours.
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::keys::{KeyAlg, KeyRing};

/// Clock skew tolerated on `exp`, `nbf` and `iat`; docs/API.md allows at most 30 s.
pub const LEEWAY_SECS: u64 = 10;
/// Longer than any token we issue; a bigger one is refused before it is parsed.
const MAX_TOKEN_LEN: usize = 4096;
/// Header parameters we never issue and refuse to honour.
const FORBIDDEN_HEADER_PARAMS: [&str; 5] = ["crit", "jku", "x5u", "jwk", "x5c"];
/// Tokens whose signature held, so that a token used again costs a lookup and not an
/// asymmetric signature check. Bounded; an entry lives no longer than a token may.
const VERIFIED_CAPACITY: u64 = 100_000;
/// RFC 9068's media type for JWT access tokens of OAuth clients.
pub const OAUTH_ACCESS_TYP: &str = "at+jwt";

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

/// An OpenID Connect client's access token (RFC 9068).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OAuthClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    /// The grant's session: revoking it (or its refresh token) ends the token too. A
    /// service's own token (`client_credentials`) has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The DPoP key the token is bound to (RFC 9449 §6): only a request with a proof made
    /// with that key may present it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// RFC 7800's `cnf`, as DPoP fills it: the key's RFC 7638 thumbprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("access token invalid")]
    Invalid,
}

/// The tutorial's kind of key: one shared secret, HS256, no `kid`.
struct SharedSecret {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// The first segment of every token we issue with it: a token that starts with exactly
    /// it needs no further look at its header before the signature check.
    header: String,
}

pub struct AccessTokens {
    /// `iss` and `aud` of first-party tokens (`PORTCULLIS_ISSUER`).
    issuer: String,
    /// `iss` of the tokens OpenID Connect clients get: the public URL.
    oidc_issuer: String,
    ttl_secs: i64,
    shared: Option<SharedSecret>,
    /// What first-party tokens and clients' access tokens are signed with from the ring
    /// (`PORTCULLIS_ACCESS_TOKEN_ALG`); ID tokens follow their client's choice.
    access_alg: KeyAlg,
    ring: RwLock<Arc<KeyRing>>,
    verified: moka::sync::Cache<String, Arc<Claims>>,
}

impl AccessTokens {
    /// First-party tokens signed with the ring's keys of `access_alg`.
    pub fn new(
        ring: KeyRing,
        access_alg: KeyAlg,
        issuer: &str,
        oidc_issuer: &str,
        ttl: std::time::Duration,
    ) -> Self {
        Self {
            access_alg,
            issuer: issuer.to_string(),
            oidc_issuer: oidc_issuer.to_string(),
            ttl_secs: ttl.as_secs() as i64,
            shared: None,
            ring: RwLock::new(Arc::new(ring)),
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(ttl + std::time::Duration::from_secs(LEEWAY_SECS))
                .build(),
        }
    }

    /// First-party tokens signed with a shared secret (HS256); the ring still signs the
    /// tokens of OpenID Connect clients.
    pub fn with_shared_secret(mut self, key: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        self.shared = Some(SharedSecret {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            header: serde_json::to_vec(&Header::new(Algorithm::HS256))
                .map(|json| URL_SAFE_NO_PAD.encode(json))
                .unwrap_or_default(),
        });
        self
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    pub fn oidc_issuer(&self) -> &str {
        &self.oidc_issuer
    }

    /// The algorithm first-party tokens are signed with now.
    pub fn first_party_alg(&self, now_secs: i64) -> Option<Algorithm> {
        match &self.shared {
            Some(_) => Some(Algorithm::HS256),
            None => self
                .ring()
                .signing(self.access_alg, now_secs)
                .map(|k| k.alg.jwt()),
        }
    }

    pub fn ring(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swaps in keys read again from the database (see `auth::key_store`).
    pub fn replace_ring(&self, ring: KeyRing) {
        if self.ring().same_as(&ring) {
            return;
        }
        let mut slot = match self.ring.write() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Arc::new(ring);
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
            exp: self.expiry(now_secs, session_ends_secs),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            jti: new_jti(),
        };
        match &self.shared {
            Some(shared) => encode(&Header::new(Algorithm::HS256), &claims, &shared.encoding),
            None => self.sign(&claims, "JWT", now_secs),
        }
    }

    /// A client's access token for the grant's session `sid`: `sub` is the user's id, or
    /// the client's own for a service token (`client_credentials`), which has no session.
    pub fn issue_oauth(
        &self,
        sub: &str,
        client_id: &str,
        scope: &str,
        sid: Option<&str>,
        dpop_jkt: Option<&str>,
        (now_secs, session_ends_secs): (i64, i64),
    ) -> Result<(String, OAuthClaims), jsonwebtoken::errors::Error> {
        let claims = OAuthClaims {
            iss: self.oidc_issuer.clone(),
            sub: sub.to_string(),
            aud: client_id.to_string(),
            client_id: client_id.to_string(),
            scope: scope.to_string(),
            sid: sid.map(String::from),
            iat: now_secs,
            exp: self.expiry(now_secs, session_ends_secs),
            jti: new_jti(),
            cnf: dpop_jkt.map(|jkt| Confirmation {
                jkt: jkt.to_string(),
            }),
        };
        Ok((self.sign(&claims, OAUTH_ACCESS_TYP, now_secs)?, claims))
    }

    /// Signs any claims with the ring's current key of the access tokens' algorithm, its
    /// `kid` in the header.
    pub fn sign<T: Serialize>(
        &self,
        claims: &T,
        typ: &str,
        now_secs: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign_with(typ, self.access_alg, now_secs, |_| claims)
    }

    /// Signs the claims `make` builds with the current key of `alg` (an ID token's
    /// `at_hash` depends on the algorithm).
    pub fn sign_with<T: Serialize>(
        &self,
        typ: &str,
        alg: KeyAlg,
        now_secs: i64,
        make: impl FnOnce(KeyAlg) -> T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let ring = self.ring();
        let key = ring
            .signing(alg, now_secs)
            .ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
        let mut header = Header::new(key.alg.jwt());
        header.typ = Some(typ.to_string());
        header.kid = Some(key.kid.clone());
        encode(&header, &make(key.alg), &key.encoding)
    }

    fn expiry(&self, now_secs: i64, session_ends_secs: i64) -> i64 {
        (now_secs + self.ttl_secs).min(session_ends_secs.max(now_secs))
    }

    /// Checks signature, algorithm, header and every claim.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Arc<Claims>, TokenError> {
        let claims = self.verify_ignoring_expiry(token, now_secs)?;
        if now_secs > claims.exp + LEEWAY_SECS as i64 {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// As `verify`, but an expired token still yields its claims: signout uses it to find
    /// the session a stale token belonged to.
    pub fn verify_ignoring_expiry(
        &self,
        token: &str,
        now_secs: i64,
    ) -> Result<Arc<Claims>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.check_first_party(token)?);
                self.verified.insert(token.to_string(), claims.clone());
                claims
            }
        };
        // Time is checked on every use, cached or not.
        let leeway = LEEWAY_SECS as i64;
        let not_yet = claims.nbf.is_some_and(|nbf| nbf > now_secs + leeway);
        if not_yet || claims.iat > now_secs + leeway {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    fn check_first_party(&self, token: &str) -> Result<Claims, TokenError> {
        let claims: Claims = self.check_signature(token, "JWT")?;
        if claims.iss != self.issuer
            || claims.aud != self.issuer
            || claims.sub != claims.id.to_string()
        {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    /// Checks a client's access token (`issue_oauth`): signature, type, issuer and time.
    /// Whether its session still lives is the caller's to ask.
    pub fn verify_oauth(&self, token: &str, now_secs: i64) -> Result<OAuthClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let claims: OAuthClaims = self.check_signature(token, OAUTH_ACCESS_TYP)?;
        let leeway = LEEWAY_SECS as i64;
        if claims.iss != self.oidc_issuer
            || claims.aud != claims.client_id
            || claims.iat > now_secs + leeway
        {
            return Err(TokenError::Invalid);
        }
        if now_secs > claims.exp + leeway {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Any token signed by one of our keys with header type `typ`, its claims as `T`; the
    /// caller checks them (an ID token hint at logout, whose expiry does not matter).
    pub fn check_ours<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
    ) -> Result<T, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        self.check_signature(token, typ)
    }

    /// The signature by one of our keys, chosen by the header, and the claims as UTF-8
    /// JSON of type `T`. `typ`, when the header has one, must be the one expected.
    fn check_signature<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
    ) -> Result<T, TokenError> {
        let header_b64 = token.split('.').next().unwrap_or_default();
        let shared_fast = self
            .shared
            .as_ref()
            .filter(|s| typ == "JWT" && !s.header.is_empty() && header_b64 == s.header);
        let claims = if let Some(shared) = shared_fast {
            decode::<T>(token, &shared.decoding, &shared.validation)
        } else {
            let header = acceptable_header(header_b64).ok_or(TokenError::Invalid)?;
            let typ_ok = match header.get("typ").and_then(|t| t.as_str()) {
                Some(given) => given.eq_ignore_ascii_case(typ),
                None => typ == "JWT",
            };
            if !typ_ok {
                return Err(TokenError::Invalid);
            }
            match header.get("kid").and_then(|k| k.as_str()) {
                Some(kid) => {
                    let ring = self.ring();
                    let key = ring.by_kid(kid).ok_or(TokenError::Invalid)?;
                    decode::<T>(token, &key.decoding, &key.validation)
                }
                // Only the shared secret's tokens come without a `kid`.
                None => match (&self.shared, typ) {
                    (Some(shared), "JWT") => {
                        decode::<T>(token, &shared.decoding, &shared.validation)
                    }
                    _ => return Err(TokenError::Invalid),
                },
            }
        }
        .map_err(|_| TokenError::Invalid)?
        .claims;
        if !payload_is_utf8(token) {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

fn new_jti() -> String {
    uuid::Uuid::new_v4().simple().to_string()
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

/// The JOSE header as a JSON object, if it has no parameter that could point the check at
/// another key or add rules we do not follow; `decode` then checks the algorithm.
fn acceptable_header(header_b64: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(header_b64).ok()?;
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
    (!FORBIDDEN_HEADER_PARAMS
        .iter()
        .any(|p| header.contains_key(*p)))
    .then_some(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";
    const NOW: i64 = 1_800_000_000;

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            empty_ring(),
            crate::auth::keys::KeyAlg::EdDSA,
            "portcullis",
            "http://localhost",
            Duration::from_secs(900),
        )
        .with_shared_secret(KEY)
    }

    fn empty_ring() -> KeyRing {
        KeyRing::new(vec![])
    }

    fn ring_tokens(alg: crate::auth::keys::KeyAlg) -> AccessTokens {
        let (kid, der) = crate::auth::keys::generate(alg).unwrap();
        let pair = crate::auth::keys::load(&kid, alg, &der, 0, None).unwrap();
        AccessTokens::new(
            KeyRing::new(vec![pair]),
            alg,
            "portcullis",
            "http://localhost",
            Duration::from_secs(900),
        )
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
            empty_ring(),
            crate::auth::keys::KeyAlg::EdDSA,
            "portcullis",
            "http://localhost",
            Duration::from_secs(900),
        )
        .with_shared_secret(b"another-key-another-key-another-key!");
        assert_eq!(other.verify(&token, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn issued_tokens_carry_the_header_the_fast_path_knows() {
        let t = tokens();
        let token = t.issue(7, "sid", NOW, NOW + 3600).unwrap();
        let ours = &t.shared.as_ref().unwrap().header;
        assert!(!ours.is_empty());
        assert_eq!(token.split('.').next(), Some(ours.as_str()));
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(ours).unwrap()).unwrap();
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

    #[test]
    fn every_key_algorithm_signs_first_party_tokens_only_it_checks() {
        use crate::auth::keys::KeyAlg;
        for alg in [KeyAlg::EdDSA, KeyAlg::ES256, KeyAlg::RS256] {
            let t = ring_tokens(alg);
            let token = t.issue(7, "sess", NOW, NOW + 10_000).unwrap();
            let header: serde_json::Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(token.split('.').next().unwrap())
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["kid"], t.ring().keys()[0].kid.as_str());
            assert_eq!(t.verify(&token, NOW).unwrap().sid, "sess");
            // Cached after the first check, and time still checked on every use.
            assert!(t.verify(&token, NOW).is_ok());
            assert_eq!(t.verify(&token, NOW + 2000), Err(TokenError::Expired));
            // Another ring of the same algorithm does not know the kid.
            assert_eq!(
                ring_tokens(alg).verify(&token, NOW),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn key_confusion_and_kidless_tokens_are_refused() {
        use crate::auth::keys::KeyAlg;
        let t = ring_tokens(KeyAlg::EdDSA);
        let kid = t.ring().keys()[0].kid.clone();
        let public_x = t.ring().keys()[0].jwk["x"].as_str().unwrap().to_string();
        // HS256 "signed" with the public key's bytes, as the classic confusion attack does.
        for key in [public_x.as_bytes(), KEY] {
            let forged = forge(
                serde_json::json!({"alg": "HS256", "kid": kid}),
                good_claims(),
                key,
            );
            assert_eq!(t.verify(&forged, NOW), Err(TokenError::Invalid));
            let kidless = forge(serde_json::json!({"alg": "HS256"}), good_claims(), key);
            assert_eq!(t.verify(&kidless, NOW), Err(TokenError::Invalid));
        }
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": "none", "kid": kid}).to_string()),
            URL_SAFE_NO_PAD.encode(good_claims().to_string())
        );
        assert_eq!(t.verify(&none, NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn client_tokens_and_first_party_tokens_are_not_each_other() {
        use crate::auth::keys::KeyAlg;
        let t = ring_tokens(KeyAlg::EdDSA);
        let (client_token, claims) = t
            .issue_oauth(
                "7",
                "client-1",
                "openid email",
                Some("grant"),
                None,
                (NOW, NOW + 10_000),
            )
            .unwrap();
        assert_eq!(claims.aud, "client-1");
        assert_eq!(t.verify_oauth(&client_token, NOW).unwrap(), claims);
        assert_eq!(t.verify(&client_token, NOW), Err(TokenError::Invalid));
        let first_party = t.issue(7, "sess", NOW, NOW + 10_000).unwrap();
        assert_eq!(t.verify_oauth(&first_party, NOW), Err(TokenError::Invalid));
        // An ID token (typ JWT, the client as audience) is neither.
        let id_token = t
            .sign(
                &serde_json::json!({"iss": "http://localhost", "sub": "7", "aud": "client-1",
                                       "iat": NOW, "exp": NOW + 300}),
                "JWT",
                NOW,
            )
            .unwrap();
        assert_eq!(t.verify(&id_token, NOW), Err(TokenError::Invalid));
        assert_eq!(t.verify_oauth(&id_token, NOW), Err(TokenError::Invalid));
        assert_eq!(
            t.verify_oauth(&client_token, NOW + 2000),
            Err(TokenError::Expired)
        );
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
                    prop_assert_eq!(&*claims, &*t.verify(&token, NOW).unwrap());
                }
            }
        }
    }
}
