//! The asymmetric keys tokens are signed with (docs/API.md §5, "Signing keys"): generated
//! here, kept in the database sealed with the settings' key when one is given, published
//! as a JWK Set so that any service can check our tokens without asking us.
//!
//! A key is published before it signs (`activates_at`) and after it stops (`retires_at`),
//! so that every node and every relying party's cached key set knows it while tokens
//! signed with it live.
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use sha2::{Digest, Sha256};

/// The algorithms our key pairs sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlg {
    EdDSA,
    ES256,
    RS256,
}

impl KeyAlg {
    /// Every algorithm: a live key of each is kept, so any client may have its ID tokens
    /// signed with any of them, and RS256 (which every relying party checks) is always there.
    pub const ALL: [KeyAlg; 3] = [KeyAlg::RS256, KeyAlg::ES256, KeyAlg::EdDSA];

    pub fn jwt(self) -> Algorithm {
        match self {
            KeyAlg::EdDSA => Algorithm::EdDSA,
            KeyAlg::ES256 => Algorithm::ES256,
            KeyAlg::RS256 => Algorithm::RS256,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::EdDSA => "EdDSA",
            KeyAlg::ES256 => "ES256",
            KeyAlg::RS256 => "RS256",
        }
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "EdDSA" => Ok(KeyAlg::EdDSA),
            "ES256" => Ok(KeyAlg::ES256),
            "RS256" => Ok(KeyAlg::RS256),
            other => Err(format!("{other:?} is not EdDSA, ES256 or RS256")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `kid`: the key's, or what else the sealed value belongs to.
    #[error("sealed value {kid}: {reason}")]
    Unusable { kid: String, reason: String },
    #[error(
        "{0} is sealed and PORTCULLIS_KEY_ENCRYPTION_KEY is unset or not the key it was sealed with"
    )]
    Sealed(String),
    #[error("generating a key: {0}")]
    Generate(#[from] openssl::error::ErrorStack),
}

/// One key pair, ready to sign and check.
pub struct KeyPair {
    pub kid: String,
    pub alg: KeyAlg,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// Signature and algorithm only: the claims are checked by the caller.
    pub validation: Validation,
    /// The public key as a JWK (RFC 7517), with `kid`, `alg` and `use`.
    pub jwk: serde_json::Value,
    pub activates_at: i64,
    pub retires_at: Option<i64>,
}

/// A new key pair: its `kid` (the RFC 7638 thumbprint) and its private key as PKCS#8 DER.
pub fn generate(alg: KeyAlg) -> Result<(String, Vec<u8>), KeyError> {
    let key: PKey<Private> = match alg {
        KeyAlg::EdDSA => PKey::generate_ed25519()?,
        KeyAlg::ES256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
        KeyAlg::RS256 => PKey::from_rsa(Rsa::generate(2048)?)?,
    };
    let der = key.private_key_to_pkcs8()?;
    let (_, public) = public_parts(alg, &key).map_err(|reason| KeyError::Unusable {
        kid: "new".into(),
        reason,
    })?;
    Ok((thumbprint(&public), der))
}

/// The key pair of a stored private key.
pub fn load(
    kid: &str,
    alg: KeyAlg,
    pkcs8: &[u8],
    activates_at: i64,
    retires_at: Option<i64>,
) -> Result<KeyPair, KeyError> {
    let unusable = |reason: String| KeyError::Unusable {
        kid: kid.to_string(),
        reason,
    };
    let key = PKey::private_key_from_der(pkcs8).map_err(|e| unusable(e.to_string()))?;
    let (decoding, public) = public_parts(alg, &key).map_err(unusable)?;
    let encoding = match alg {
        KeyAlg::EdDSA => EncodingKey::from_ed_der(pkcs8),
        KeyAlg::ES256 => EncodingKey::from_ec_der(pkcs8),
        // ring signs RSA with the PKCS#1 form.
        KeyAlg::RS256 => EncodingKey::from_rsa_der(
            &key.rsa()
                .and_then(|rsa| rsa.private_key_to_der())
                .map_err(|e| unusable(e.to_string()))?,
        ),
    };
    let mut jwk = public;
    jwk["kid"] = kid.into();
    jwk["alg"] = alg.name().into();
    jwk["use"] = "sig".into();
    let mut validation = Validation::new(alg.jwt());
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    Ok(KeyPair {
        kid: kid.to_string(),
        alg,
        encoding,
        decoding,
        validation,
        jwk,
        activates_at,
        retires_at,
    })
}

/// The checking half of a key and its JWK members, from the private key.
fn public_parts(
    alg: KeyAlg,
    key: &PKey<Private>,
) -> Result<(DecodingKey, serde_json::Value), String> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let err = |e: openssl::error::ErrorStack| e.to_string();
    match (alg, key.id()) {
        (KeyAlg::EdDSA, Id::ED25519) => {
            let x = b64(&key.raw_public_key().map_err(err)?);
            let decoding = DecodingKey::from_ed_components(&x).map_err(|e| e.to_string())?;
            Ok((
                decoding,
                serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            ))
        }
        (KeyAlg::ES256, Id::EC) => {
            let ec = key.ec_key().map_err(err)?;
            let mut ctx = BigNumContext::new().map_err(err)?;
            let (mut x, mut y) = (
                openssl::bn::BigNum::new().map_err(err)?,
                openssl::bn::BigNum::new().map_err(err)?,
            );
            ec.public_key()
                .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)
                .map_err(err)?;
            let x = b64(&x.to_vec_padded(32).map_err(err)?);
            let y = b64(&y.to_vec_padded(32).map_err(err)?);
            let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|e| e.to_string())?;
            Ok((
                decoding,
                serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            ))
        }
        (KeyAlg::RS256, Id::RSA) => {
            let rsa = key.rsa().map_err(err)?;
            let n = b64(&rsa.n().to_vec());
            let e = b64(&rsa.e().to_vec());
            let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
            Ok((decoding, serde_json::json!({"kty": "RSA", "n": n, "e": e})))
        }
        _ => Err(format!("the stored key is no {alg} key")),
    }
}

/// RFC 7638: SHA-256 over the required members, in lexicographic order, without spaces.
pub fn thumbprint(jwk: &serde_json::Value) -> String {
    let member = |name: &str| jwk[name].as_str().unwrap_or_default().to_string();
    let canonical = match jwk["kty"].as_str() {
        Some("OKP") => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            member("crv"),
            member("x")
        ),
        Some("EC") => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv"),
            member("x"),
            member("y")
        ),
        _ => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            member("e"),
            member("n")
        ),
    };
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Seals secrets at rest with AES-256-GCM under a key derived from
/// `PORTCULLIS_KEY_ENCRYPTION_KEY` for one purpose, each bound to what it belongs to (a key's
/// `kid`, an account's TOTP app); without that setting they are stored as they are (the
/// database is then what guards them).
pub struct Sealer {
    key: Option<[u8; 32]>,
}

const SEALED: &str = "aes256gcm:";
const PLAIN: &str = "pkcs8:";

impl Sealer {
    /// The sealer of signing keys.
    pub fn new(secret: Option<&str>) -> Self {
        Self::derived(b"portcullis signing keys v1\0", secret)
    }

    /// The sealer of TOTP secrets: a key of its own, so neither kind of value opens as the
    /// other.
    pub fn for_totp(secret: Option<&str>) -> Self {
        Self::derived(b"portcullis totp secrets v1\0", secret)
    }

    /// The sealer of upstream identity providers' client secrets.
    pub fn for_providers(secret: Option<&str>) -> Self {
        Self::derived(b"portcullis provider secrets v1\0", secret)
    }

    fn derived(purpose: &[u8], secret: Option<&str>) -> Self {
        Self {
            key: secret.map(|s| {
                let mut hasher = Sha256::new();
                hasher.update(purpose);
                hasher.update(s.as_bytes());
                hasher.finalize().into()
            }),
        }
    }

    pub fn seal(&self, kid: &str, der: &[u8]) -> Result<String, KeyError> {
        match &self.key {
            Some(key) => encrypt(key, kid, der),
            None => Ok(format!("{PLAIN}{}", STANDARD.encode(der))),
        }
    }

    pub fn open(&self, kid: &str, stored: &str) -> Result<Vec<u8>, KeyError> {
        if let Some(plain) = stored.strip_prefix(PLAIN) {
            return STANDARD
                .decode(plain)
                .map_err(|_| unusable(kid, "not base64"));
        }
        let sealed = stored
            .strip_prefix(SEALED)
            .ok_or_else(|| unusable(kid, "unknown storage format"))?;
        self.decrypt(kid, sealed)
    }

    /// Seals `text` bound to `context` when a key is set; keeps it as it is otherwise.
    pub fn seal_text(&self, context: &str, text: &str) -> Result<String, KeyError> {
        match &self.key {
            Some(key) => encrypt(key, context, text.as_bytes()),
            None => Ok(text.to_string()),
        }
    }

    /// What `seal_text` stored. A value kept as it is (stored without a key, or before
    /// sealing began) opens as itself; `text` must never start with the sealed prefix.
    pub fn open_text(&self, context: &str, stored: &str) -> Result<String, KeyError> {
        let Some(sealed) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_string());
        };
        String::from_utf8(self.decrypt(context, sealed)?).map_err(|_| unusable(context, "not text"))
    }

    fn decrypt(&self, context: &str, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let key = self
            .key
            .ok_or_else(|| KeyError::Sealed(context.to_string()))?;
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| unusable(context, "not base64"))?;
        if bytes.len() < 12 + 16 {
            return Err(unusable(context, "too short"));
        }
        let (nonce, rest) = bytes.split_at(12);
        let (ciphertext, tag) = rest.split_at(rest.len() - 16);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &key,
            Some(nonce),
            context.as_bytes(),
            ciphertext,
            tag,
        )
        .map_err(|_| KeyError::Sealed(context.to_string()))
    }
}

fn encrypt(key: &[u8; 32], context: &str, plain: &[u8]) -> Result<String, KeyError> {
    let mut nonce = [0u8; 12];
    openssl::rand::rand_bytes(&mut nonce)?;
    let mut tag = [0u8; 16];
    let sealed = encrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(&nonce),
        context.as_bytes(),
        plain,
        &mut tag,
    )?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out.extend_from_slice(&tag);
    Ok(format!("{SEALED}{}", STANDARD.encode(out)))
}

fn unusable(kid: &str, reason: &str) -> KeyError {
    KeyError::Unusable {
        kid: kid.to_string(),
        reason: reason.to_string(),
    }
}

/// The live keys: of each algorithm the newest active one signs, all of them check, all
/// are published.
pub struct KeyRing {
    /// Newest `activates_at` first.
    keys: Vec<KeyPair>,
    jwks: String,
}

impl KeyRing {
    pub fn new(mut keys: Vec<KeyPair>) -> Self {
        keys.sort_by(|a, b| (b.activates_at, &b.kid).cmp(&(a.activates_at, &a.kid)));
        let jwks = serde_json::json!({
            "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()
        })
        .to_string();
        Self { keys, jwks }
    }

    /// The key of `alg` that signs at `now_secs`: the newest already active. Every node
    /// that sees the same rows picks the same key.
    pub fn signing(&self, alg: KeyAlg, now_secs: i64) -> Option<&KeyPair> {
        let mut of_alg = self.keys.iter().filter(|k| k.alg == alg);
        of_alg
            .clone()
            .find(|k| k.activates_at <= now_secs)
            .or_else(|| of_alg.next_back())
    }

    /// The algorithms the ring can sign with.
    pub fn algs(&self) -> Vec<KeyAlg> {
        KeyAlg::ALL
            .into_iter()
            .filter(|alg| self.keys.iter().any(|k| k.alg == *alg))
            .collect()
    }

    pub fn by_kid(&self, kid: &str) -> Option<&KeyPair> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn keys(&self) -> &[KeyPair] {
        &self.keys
    }

    /// The JWK Set document, serialised once.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// Same keys, same times: nothing to swap.
    pub fn same_as(&self, other: &KeyRing) -> bool {
        self.keys.len() == other.keys.len()
            && self.keys.iter().zip(&other.keys).all(|(a, b)| {
                a.kid == b.kid && a.activates_at == b.activates_at && a.retires_at == b.retires_at
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_what_its_published_key_checks() {
        for alg in [KeyAlg::EdDSA, KeyAlg::ES256, KeyAlg::RS256] {
            let (kid, der) = generate(alg).unwrap();
            let pair = load(&kid, alg, &der, 0, None).unwrap();
            assert_eq!(pair.jwk["kid"], kid.as_str());
            assert_eq!(pair.jwk["alg"], alg.name());
            let mut header = jsonwebtoken::Header::new(alg.jwt());
            header.kid = Some(kid.clone());
            let token =
                jsonwebtoken::encode(&header, &serde_json::json!({"sub": "1"}), &pair.encoding)
                    .unwrap();
            // Checked with nothing but the published JWK, as a relying party would.
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(pair.jwk.clone()).unwrap();
            let decoding = DecodingKey::from_jwk(&jwk).unwrap();
            let mut validation = Validation::new(alg.jwt());
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            assert!(
                jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).is_ok()
            );
            // The kid is the thumbprint of what is published.
            assert_eq!(thumbprint(&pair.jwk), kid);
        }
    }

    #[test]
    fn a_key_of_one_algorithm_is_refused_as_another() {
        let (kid, der) = generate(KeyAlg::EdDSA).unwrap();
        assert!(load(&kid, KeyAlg::ES256, &der, 0, None).is_err());
    }

    #[test]
    fn sealed_keys_open_only_with_their_key_and_kid() {
        let sealer = Sealer::new(Some("a key-encryption key of enough length!"));
        let sealed = sealer.seal("kid-1", b"private bytes").unwrap();
        assert!(sealed.starts_with(SEALED));
        assert!(!sealed.contains(&STANDARD.encode(b"private bytes")));
        assert_eq!(sealer.open("kid-1", &sealed).unwrap(), b"private bytes");
        assert!(matches!(
            sealer.open("kid-2", &sealed),
            Err(KeyError::Sealed(_))
        ));
        let other = Sealer::new(Some("another key-encryption key, also long"));
        assert!(matches!(
            other.open("kid-1", &sealed),
            Err(KeyError::Sealed(_))
        ));
        assert!(matches!(
            Sealer::new(None).open("kid-1", &sealed),
            Err(KeyError::Sealed(_))
        ));
        // Without a sealing key, keys are kept plain and read back by anyone.
        let plain = Sealer::new(None).seal("kid-1", b"private bytes").unwrap();
        assert_eq!(sealer.open("kid-1", &plain).unwrap(), b"private bytes");
    }

    #[test]
    fn totp_secrets_seal_under_a_key_of_their_own() {
        let kek = Some("a key-encryption key of enough length!");
        let totp = Sealer::for_totp(kek);
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let sealed = totp.seal_text("totp:7", secret).unwrap();
        assert!(sealed.starts_with(SEALED) && !sealed.contains(secret));
        assert!(sealed.len() <= 255, "fits the column: {}", sealed.len());
        assert_eq!(totp.open_text("totp:7", &sealed).unwrap(), secret);
        // Bound to its account, and not a signing key's sealer.
        assert!(totp.open_text("totp:8", &sealed).is_err());
        assert!(Sealer::new(kek).open_text("totp:7", &sealed).is_err());
        assert!(Sealer::for_totp(None).open_text("totp:7", &sealed).is_err());
        // Stored as it is without a key, and such a value (or one from before sealing)
        // still opens once a key is set.
        let kept = Sealer::for_totp(None).seal_text("totp:7", secret).unwrap();
        assert_eq!(kept, secret);
        assert_eq!(totp.open_text("totp:7", &kept).unwrap(), secret);
    }

    #[test]
    fn the_newest_active_key_signs_and_a_prepublished_one_waits() {
        let pair = |at| {
            let (kid, der) = generate(KeyAlg::EdDSA).unwrap();
            load(&kid, KeyAlg::EdDSA, &der, at, None).unwrap()
        };
        let (old, new) = (pair(100), pair(200));
        let (old_kid, new_kid) = (old.kid.clone(), new.kid.clone());
        let (rsa_kid, der) = generate(KeyAlg::RS256).unwrap();
        let rsa = load(&rsa_kid, KeyAlg::RS256, &der, 300, None).unwrap();
        let ring = KeyRing::new(vec![old, new, rsa]);
        assert_eq!(ring.signing(KeyAlg::EdDSA, 150).unwrap().kid, old_kid);
        assert_eq!(ring.signing(KeyAlg::EdDSA, 200).unwrap().kid, new_kid);
        // A newer key of another algorithm signs only for that algorithm.
        assert_eq!(ring.signing(KeyAlg::EdDSA, 400).unwrap().kid, new_kid);
        assert_eq!(ring.signing(KeyAlg::RS256, 400).unwrap().kid, rsa_kid);
        assert!(ring.signing(KeyAlg::ES256, 400).is_none());
        assert_eq!(ring.algs(), vec![KeyAlg::RS256, KeyAlg::EdDSA]);
        let jwks: serde_json::Value = serde_json::from_str(ring.jwks()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
        assert!(ring.by_kid(&old_kid).is_some());
    }
}
