//! Checking an ID token from the token endpoint, as OIDC Core §3.1.3.7 lists, against the
//! provider's published keys. Time is passed in (`Expected::now_secs`), never read here.
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::UpstreamError;

/// What providers' clocks are allowed to differ from ours by, in seconds.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;

/// Every algorithm an ID token may be signed with here: public-key ones only. Never
/// `none`, and never HS*: keyed with the client secret, those would let anyone holding it
/// (or a key set that publishes an `oct` key) mint tokens.
pub const ASYMMETRIC_ALGS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What the token must say.
pub struct Expected<'a> {
    /// `None` skips the exact check, for an issuer with a placeholder (Microsoft's
    /// `common`, `{tenantid}`): the caller then checks `IdClaims::issuer` against it.
    pub issuer: Option<&'a str>,
    pub client_id: &'a str,
    /// The pending sign-in's nonce.
    pub nonce: &'a str,
    pub now_secs: i64,
    /// Usually `DEFAULT_LEEWAY_SECS`.
    pub leeway_secs: i64,
    /// Those of the provider's algorithms the caller accepts; any outside
    /// `ASYMMETRIC_ALGS` is refused all the same.
    pub allowed_algs: &'a [Algorithm],
}

/// An ID token that checked out.
#[derive(Debug, Clone)]
pub struct IdClaims {
    pub issuer: String,
    pub subject: String,
    /// Every claim, for the caller's mapping onto an account.
    pub claims: Map<String, Value>,
}

/// The header as sent, read before any key is chosen: `alg` as a string so that `none`
/// is refused by name, and `crit`, which names extensions we would have to understand.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
    crit: Option<Value>,
}

fn invalid(reason: &str) -> UpstreamError {
    UpstreamError::IdTokenInvalid(reason.to_string())
}

/// Verifies `id_token` (OIDC Core §3.1.3.7): the algorithm, the signature by the key its
/// `kid` names (or the one key that fits when it names none), then `iss`, `aud`, `azp`,
/// `exp`, `iat`, `nbf`, `nonce` and `sub`. A `kid` the set lacks may mean the provider
/// rotated its keys: the caller may fetch the set again, once, and retry.
pub fn verify_id_token(
    jwks: &JwkSet,
    id_token: &str,
    expected: &Expected<'_>,
) -> Result<IdClaims, UpstreamError> {
    let header = raw_header(id_token)?;
    let alg = Algorithm::from_str(&header.alg)
        .ok()
        .filter(|alg| ASYMMETRIC_ALGS.contains(alg) && expected.allowed_algs.contains(alg))
        .ok_or_else(|| invalid("alg: not one allowed"))?;
    if header.crit.is_some() {
        return Err(invalid(
            "crit: names extensions not understood (RFC 7515 4.1.11)",
        ));
    }
    let jwk = choose_key(jwks, header.kid.as_deref(), alg)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("kid: the key cannot be read"))?;
    // The signature and alg only: the claims are checked below, against the given time.
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => invalid("signature: does not verify"),
            _ => invalid("malformed: the signature or claims cannot be read"),
        })?
        .claims;
    let (issuer, subject) = check_claims(&claims, expected)?;
    Ok(IdClaims {
        issuer,
        subject,
        claims,
    })
}

fn raw_header(id_token: &str) -> Result<RawHeader, UpstreamError> {
    let malformed = || invalid("malformed: the header cannot be read");
    let encoded = id_token.split('.').next().ok_or_else(malformed)?;
    let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| malformed())?;
    serde_json::from_slice(&json).map_err(|_| malformed())
}

/// The key `kid` names among those that fit `alg`; without a `kid`, the only one that fits.
fn choose_key<'k>(
    jwks: &'k JwkSet,
    kid: Option<&str>,
    alg: Algorithm,
) -> Result<&'k Jwk, UpstreamError> {
    let mut fitting = jwks.keys.iter().filter(|jwk| fits(jwk, alg));
    match kid {
        Some(kid) => fitting
            .find(|jwk| jwk.common.key_id.as_deref() == Some(kid))
            .ok_or_else(|| invalid("kid: the key set has no such signing key for this alg")),
        None => match (fitting.next(), fitting.next()) {
            (Some(only), None) => Ok(only),
            _ => Err(invalid(
                "kid: none given, and not exactly one key fits the alg",
            )),
        },
    }
}

/// A signing key of `alg`'s type and curve, whose own `alg` and `use`, when stated, agree.
fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    use Algorithm::*;
    let kind_fits = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), RS256 | RS384 | RS512 | PS256 | PS384 | PS512) => true,
        (AlgorithmParameters::EllipticCurve(ec), ES256) => ec.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(ec), ES384) => ec.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(okp), EdDSA) => okp.curve == EllipticCurve::Ed25519,
        _ => false,
    };
    let alg_fits = jwk
        .common
        .key_algorithm
        .is_none_or(|stated| Algorithm::from_str(&stated.to_string()).ok() == Some(alg));
    let use_fits = matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    kind_fits && alg_fits && use_fits
}

/// OIDC Core §3.1.3.7 steps 2 to 11 on the verified claims: the issuer and subject.
fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<(String, String), UpstreamError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let iss = text("iss").ok_or_else(|| invalid("iss: missing"))?;
    if expected.issuer.is_some_and(|issuer| issuer != iss) {
        return Err(UpstreamError::IssuerMismatch);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(auds)) => auds
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("aud: not strings"))?,
        _ => return Err(invalid("aud: missing")),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(invalid("aud: not this client"));
    }
    match (claims.get("azp"), audiences.len()) {
        (Some(azp), _) if azp.as_str() != Some(expected.client_id) => {
            return Err(invalid("azp: another client"))
        }
        // Several audiences: only `azp` says the token was issued to us.
        (None, 2..) => return Err(invalid("azp: missing beside several audiences")),
        _ => {}
    }
    let exp = numeric_date(claims, "exp")?.ok_or_else(|| invalid("exp: missing"))?;
    if exp <= expected.now_secs.saturating_sub(expected.leeway_secs) {
        return Err(invalid("exp: expired"));
    }
    let latest = expected.now_secs.saturating_add(expected.leeway_secs);
    let iat = numeric_date(claims, "iat")?.ok_or_else(|| invalid("iat: missing"))?;
    if iat > latest {
        return Err(invalid("iat: in the future"));
    }
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > latest) {
        return Err(invalid("nbf: not yet valid"));
    }
    // An empty expected nonce would match a token that carries an empty one.
    let nonce_matches = text("nonce").is_some_and(|nonce| {
        !expected.nonce.is_empty() && bool::from(nonce.as_bytes().ct_eq(expected.nonce.as_bytes()))
    });
    if !nonce_matches {
        return Err(invalid("nonce: not this sign-in's"));
    }
    let sub = text("sub")
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| invalid("sub: missing or empty"))?;
    Ok((iss.to_string(), sub.to_string()))
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, UpstreamError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().map(|secs| secs as i64))
            .map(Some)
            .ok_or_else(|| UpstreamError::IdTokenInvalid(format!("{name}: not a number"))),
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::auth::keys::{generate, load, KeyAlg, KeyPair};

    const ISSUER: &str = "https://login.example.com";
    const CLIENT: &str = "portcullis";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const NOW: i64 = 1_700_000_000;

    /// The provider's keys, made as Portcullis makes its own (`auth::keys`): RSA 2048 and
    /// P-256, each published with its `kid`, `alg` and `use`.
    struct Provider {
        rsa: KeyPair,
        ec: KeyPair,
        jwks: JwkSet,
    }

    fn key(alg: KeyAlg) -> KeyPair {
        let (kid, der) = generate(alg).unwrap();
        load(&kid, alg, &der, 0, None).unwrap()
    }

    fn provider() -> Provider {
        let (rsa, ec) = (key(KeyAlg::RS256), key(KeyAlg::ES256));
        let jwks = serde_json::from_value(json!({"keys": [rsa.jwk, ec.jwk]})).unwrap();
        Provider { rsa, ec, jwks }
    }

    /// Good claims, with `changes` merged in (a `null` removes the claim).
    fn claims(changes: Value) -> Value {
        let mut claims = json!({
            "iss": ISSUER, "sub": "u-42", "aud": CLIENT, "exp": NOW + 300, "iat": NOW,
            "nonce": NONCE, "email": "ada@example.com"
        });
        for (name, value) in changes.as_object().unwrap() {
            match value {
                Value::Null => claims.as_object_mut().unwrap().remove(name),
                _ => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(name.clone(), value.clone()),
            };
        }
        claims
    }

    fn sign_as(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    fn sign(pair: &KeyPair, claims: &Value) -> String {
        sign_as(pair.alg.jwt(), Some(&pair.kid), claims, &pair.encoding)
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: Some(ISSUER),
            client_id: CLIENT,
            nonce: NONCE,
            now_secs: NOW,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            allowed_algs: &[Algorithm::RS256, Algorithm::ES256],
        }
    }

    /// The reason `token` is refused; fails the test if it is accepted.
    fn refusal(jwks: &JwkSet, token: &str) -> String {
        match verify_id_token(jwks, token, &expected()) {
            Err(UpstreamError::IdTokenInvalid(reason)) => reason,
            other => panic!("expected IdTokenInvalid, got {other:?}"),
        }
    }

    #[test]
    fn a_good_rs256_token_gives_its_issuer_subject_and_claims() {
        let p = provider();
        let token = sign(&p.rsa, &claims(json!({})));
        let verified = verify_id_token(&p.jwks, &token, &expected()).unwrap();
        assert_eq!(verified.issuer, ISSUER);
        assert_eq!(verified.subject, "u-42");
        assert_eq!(verified.claims["email"], "ada@example.com");
    }

    #[test]
    fn a_good_es256_token_verifies() {
        let p = provider();
        let token = sign(&p.ec, &claims(json!({"sub": "u-7"})));
        let verified = verify_id_token(&p.jwks, &token, &expected()).unwrap();
        assert_eq!(verified.subject, "u-7");
    }

    #[test]
    fn without_kid_the_one_key_that_fits_the_alg_is_used() {
        let p = provider();
        let token = sign_as(Algorithm::RS256, None, &claims(json!({})), &p.rsa.encoding);
        assert_eq!(
            verify_id_token(&p.jwks, &token, &expected())
                .unwrap()
                .subject,
            "u-42"
        );
        // Two RSA keys and no kid: which one is a guess, and is not made.
        let other = key(KeyAlg::RS256);
        let two = serde_json::from_value(json!({"keys": [p.rsa.jwk, other.jwk]})).unwrap();
        assert!(refusal(&two, &token).starts_with("kid"));
    }

    #[test]
    fn a_signature_by_another_key_is_refused() {
        // OIDC Core 3.1.3.7 step 6
        let p = provider();
        let forger = key(KeyAlg::RS256);
        let token = sign_as(
            Algorithm::RS256,
            Some(&p.rsa.kid),
            &claims(json!({})),
            &forger.encoding,
        );
        assert!(refusal(&p.jwks, &token).starts_with("signature"));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let p = provider();
        let encode = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let token = format!(
            "{}.{}.",
            encode(json!({"alg": "none", "kid": p.rsa.kid})),
            encode(claims(json!({})))
        );
        assert!(refusal(&p.jwks, &token).starts_with("alg"));
    }

    #[test]
    fn hs256_is_refused_even_when_allowed_and_an_oct_key_is_published() {
        // The classic confusion: a MAC keyed with something public or shared.
        let secret = b"0123456789abcdef0123456789abcdef";
        let jwks: JwkSet = serde_json::from_value(json!({"keys": [
            {"kty": "oct", "kid": "mac", "k": URL_SAFE_NO_PAD.encode(secret)}
        ]}))
        .unwrap();
        let token = sign_as(
            Algorithm::HS256,
            Some("mac"),
            &claims(json!({})),
            &EncodingKey::from_secret(secret),
        );
        let allowing_hs256 = Expected {
            allowed_algs: &[Algorithm::RS256, Algorithm::HS256],
            ..expected()
        };
        assert!(matches!(
            verify_id_token(&jwks, &token, &allowing_hs256),
            Err(UpstreamError::IdTokenInvalid(reason)) if reason.starts_with("alg")
        ));
    }

    #[test]
    fn an_alg_the_caller_does_not_allow_is_refused() {
        let p = provider();
        let token = sign(&p.ec, &claims(json!({})));
        let rs256_only = Expected {
            allowed_algs: &[Algorithm::RS256],
            ..expected()
        };
        assert!(matches!(
            verify_id_token(&p.jwks, &token, &rs256_only),
            Err(UpstreamError::IdTokenInvalid(reason)) if reason.starts_with("alg")
        ));
    }

    #[test]
    fn a_key_published_for_another_alg_is_not_used() {
        // The RSA key says `alg: RS256`; a PS256 token naming it finds no key.
        let p = provider();
        let token = sign_as(
            Algorithm::PS256,
            Some(&p.rsa.kid),
            &claims(json!({})),
            &p.rsa.encoding,
        );
        let allowing_ps256 = Expected {
            allowed_algs: &[Algorithm::RS256, Algorithm::PS256],
            ..expected()
        };
        assert!(matches!(
            verify_id_token(&p.jwks, &token, &allowing_ps256),
            Err(UpstreamError::IdTokenInvalid(reason)) if reason.starts_with("kid")
        ));
    }

    #[test]
    fn an_unknown_kid_is_refused() {
        let p = provider();
        let token = sign_as(
            Algorithm::RS256,
            Some("rotated-away"),
            &claims(json!({})),
            &p.rsa.encoding,
        );
        assert!(refusal(&p.jwks, &token).starts_with("kid"));
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        // OIDC Core 3.1.3.7 step 3
        let p = provider();
        let token = sign(&p.rsa, &claims(json!({"aud": "someone-else"})));
        assert!(refusal(&p.jwks, &token).starts_with("aud"));
        let token = sign(&p.rsa, &claims(json!({"aud": null})));
        assert!(refusal(&p.jwks, &token).starts_with("aud"));
    }

    #[test]
    fn several_audiences_need_azp_naming_this_client() {
        // OIDC Core 3.1.3.7 steps 4 and 5
        let p = provider();
        let several = json!([CLIENT, "api.example.com"]);
        let token = sign(&p.rsa, &claims(json!({"aud": several})));
        assert!(refusal(&p.jwks, &token).starts_with("azp"));
        let token = sign(&p.rsa, &claims(json!({"aud": several, "azp": CLIENT})));
        assert!(verify_id_token(&p.jwks, &token, &expected()).is_ok());
    }

    #[test]
    fn an_azp_naming_another_client_is_refused() {
        let p = provider();
        let token = sign(&p.rsa, &claims(json!({"azp": "someone-else"})));
        assert!(refusal(&p.jwks, &token).starts_with("azp"));
    }

    #[test]
    fn an_expired_token_is_refused_past_the_leeway() {
        // OIDC Core 3.1.3.7 step 9
        let p = provider();
        let token = sign(&p.rsa, &claims(json!({"exp": NOW - 61})));
        assert_eq!(refusal(&p.jwks, &token), "exp: expired");
        let token = sign(&p.rsa, &claims(json!({"exp": NOW - 30})));
        assert!(verify_id_token(&p.jwks, &token, &expected()).is_ok());
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused_past_the_leeway() {
        // OIDC Core 3.1.3.7 step 10
        let p = provider();
        let token = sign(&p.rsa, &claims(json!({"iat": NOW + 120})));
        assert_eq!(refusal(&p.jwks, &token), "iat: in the future");
        let token = sign(&p.rsa, &claims(json!({"iat": NOW + 30})));
        assert!(verify_id_token(&p.jwks, &token, &expected()).is_ok());
    }

    #[test]
    fn a_token_for_another_sign_in_is_refused_by_its_nonce() {
        // OIDC Core 3.1.3.7 step 11
        let p = provider();
        for nonce in [json!("n-other"), json!(null), json!("")] {
            let token = sign(&p.rsa, &claims(json!({"nonce": nonce})));
            assert!(refusal(&p.jwks, &token).starts_with("nonce"), "{nonce}");
        }
    }

    #[test]
    fn a_token_from_another_issuer_is_issuer_mismatch() {
        // OIDC Core 3.1.3.7 step 2
        let p = provider();
        let token = sign(&p.rsa, &claims(json!({"iss": "https://evil.example.com"})));
        assert!(matches!(
            verify_id_token(&p.jwks, &token, &expected()),
            Err(UpstreamError::IssuerMismatch)
        ));
        // Left to the caller (a templated issuer), it is returned for them to check.
        let any_issuer = Expected {
            issuer: None,
            ..expected()
        };
        let verified = verify_id_token(&p.jwks, &token, &any_issuer).unwrap();
        assert_eq!(verified.issuer, "https://evil.example.com");
    }

    #[test]
    fn a_token_without_a_subject_is_refused() {
        let p = provider();
        for sub in [json!(null), json!("")] {
            let token = sign(&p.rsa, &claims(json!({"sub": sub})));
            assert!(refusal(&p.jwks, &token).starts_with("sub"), "{sub}");
        }
    }
}
