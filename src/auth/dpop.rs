//! DPoP proofs (RFC 9449 §4): a JWT the client signs with a key of its own, whose public
//! half it carries in the header, for one request (method and URL) at one time; with an
//! access token, bound to that token's hash. What a token is bound to is the key's RFC 7638
//! thumbprint (`cnf.jkt`). Checked here without the database; that a proof is not used
//! twice is the caller's (`store::dpop_proofs`), so that every node knows.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::keys::thumbprint;

/// The algorithms a proof may be signed with (discovery's
/// `dpop_signing_alg_values_supported`): asymmetric only (§4.3: never `none` or a MAC).
/// `Ed25519` is RFC 9864's name for `EdDSA` with that curve, the one we take.
pub const ALGS: [&str; 6] = ["ES256", "ES384", "RS256", "PS256", "EdDSA", "Ed25519"];
/// How far a proof's `iat` may be from now (§4.3 check 11: a short window), in seconds;
/// proofs are remembered this long past their `iat` to refuse a replay.
pub const WINDOW_SECS: i64 = 60;
/// Larger proofs are refused unread.
const MAX_PROOF_LEN: usize = 4096;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    #[error("the DPoP proof is malformed: {0}")]
    Malformed(&'static str),
    #[error("the DPoP proof's signature does not verify")]
    Signature,
    #[error("the DPoP proof is for another request: {0}")]
    WrongRequest(&'static str),
    #[error("the DPoP proof is too old or from the future")]
    Stale,
}

/// A proof that checked out: its key's thumbprint, and what makes it unique.
#[derive(Debug, Clone)]
pub struct Proof {
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    typ: Option<String>,
    jwk: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
}

/// The request a proof must be for.
pub struct Request<'a> {
    pub method: &'a str,
    /// The URL without query or fragment (§4.3 check 9).
    pub url: &'a str,
    /// The access token presented with it, if any (its hash must be the proof's `ath`).
    pub access_token: Option<&'a str>,
}

/// Checks a proof (§4.3) for `request` at `now_secs`.
pub fn check(proof: &str, request: &Request<'_>, now_secs: i64) -> Result<Proof, DpopError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(DpopError::Malformed("too long"));
    }
    // Read by hand rather than by `jsonwebtoken::decode_header`, which knows no `Ed25519`:
    // the name RFC 9864 gives EdDSA over Ed25519, which openid-client sends.
    let mut parts = proof.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DpopError::Malformed("not a JWT"));
    };
    let header: RawHeader = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(DpopError::Malformed("not a JWT"))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(DpopError::Malformed("typ must be dpop+jwt"));
    }
    let alg = match header.alg.as_str() {
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "RS256" => Algorithm::RS256,
        "PS256" => Algorithm::PS256,
        "EdDSA" | "Ed25519" => Algorithm::EdDSA,
        _ => {
            return Err(DpopError::Malformed(
                "alg is not one of dpop_signing_alg_values_supported",
            ))
        }
    };
    let jwk_json = header
        .jwk
        .ok_or(DpopError::Malformed("the header has no jwk"))?;
    // A private key in the header would be the client's secret published.
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| jwk_json.get(m).is_some())
    {
        return Err(DpopError::Malformed("the jwk holds a private key"));
    }
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(jwk_json.clone()).map_err(|_| DpopError::Malformed("jwk"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| DpopError::Malformed("jwk"))?;
    let signed = &proof[..header_b64.len() + 1 + claims_b64.len()];
    let verified = jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key, alg)
        .map_err(|_| DpopError::Signature)?;
    if !verified {
        return Err(DpopError::Signature);
    }
    let claims: ProofClaims = URL_SAFE_NO_PAD
        .decode(claims_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(DpopError::Malformed("its claims (jti, htm, htu, iat)"))?;
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err(DpopError::Malformed("jti"));
    }
    if !claims.htm.eq_ignore_ascii_case(request.method) {
        return Err(DpopError::WrongRequest("htm"));
    }
    if !same_url(&claims.htu, request.url) {
        return Err(DpopError::WrongRequest("htu"));
    }
    // Checked arithmetic: `iat` is the client's to choose, `i64::MIN` included.
    let skew = claims.iat.checked_sub(now_secs).and_then(i64::checked_abs);
    if skew.is_none_or(|skew| skew > WINDOW_SECS) {
        return Err(DpopError::Stale);
    }
    match (request.access_token, claims.ath.as_deref()) {
        (Some(token), Some(ath)) if ath == token_hash(token) => {}
        (Some(_), _) => return Err(DpopError::WrongRequest("ath")),
        (None, _) => {}
    }
    Ok(Proof {
        jkt: thumbprint(&jwk_json),
        jti: claims.jti,
        iat: claims.iat,
    })
}

/// `ath`: the access token's SHA-256, base64url.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// `htu` compared with the request's URL, without query and fragment (§4.3 check 9), after
/// the normalisation `url` does (scheme and host case, default port).
fn same_url(htu: &str, expected: &str) -> bool {
    let strip = |u: &str| {
        url::Url::parse(u).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    matches!((strip(htu), strip(expected)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_query_and_by_normal_form() {
        assert!(same_url(
            "HTTPS://Example.com:443/api/oauth/token?x=1",
            "https://example.com/api/oauth/token"
        ));
        assert!(!same_url(
            "https://example.com/api/oauth/userinfo",
            "https://example.com/api/oauth/token"
        ));
        assert!(!same_url("not a url", "https://example.com/"));
    }

    #[test]
    fn an_iat_at_the_ends_of_the_numbers_is_stale_not_a_panic() {
        let key = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let pem = openssl::pkey::PKey::from_ec_key(key.clone())
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        let group = key.group();
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let (mut x, mut y) = (
            openssl::bn::BigNum::new().unwrap(),
            openssl::bn::BigNum::new().unwrap(),
        );
        key.public_key()
            .affine_coordinates(group, &mut x, &mut y, &mut ctx)
            .unwrap();
        let b64 = |n: &openssl::bn::BigNum| URL_SAFE_NO_PAD.encode(n.to_vec_padded(32).unwrap());
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(
            serde_json::from_value(serde_json::json!({
                "kty": "EC", "crv": "P-256", "x": b64(&x), "y": b64(&y)
            }))
            .unwrap(),
        );
        let request = Request {
            method: "POST",
            url: "https://example.com/token",
            access_token: None,
        };
        for iat in [i64::MIN, i64::MAX] {
            let proof = jsonwebtoken::encode(
                &header,
                &serde_json::json!({"jti": "j", "htm": "POST", "htu": "https://example.com/token", "iat": iat}),
                &jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap(),
            )
            .unwrap();
            assert_eq!(
                check(&proof, &request, 1_800_000_000).unwrap_err(),
                DpopError::Stale
            );
        }
    }

    #[test]
    fn a_proof_without_a_key_or_of_the_wrong_type_is_malformed() {
        let request = Request {
            method: "POST",
            url: "https://example.com/api/oauth/token",
            access_token: None,
        };
        assert_eq!(
            check("not.a.jwt", &request, 0).unwrap_err(),
            DpopError::Malformed("not a JWT")
        );
        // An HS256 token: the wrong type first.
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"jti": "x"}),
            &jsonwebtoken::EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        assert!(matches!(
            check(&hs, &request, 0),
            Err(DpopError::Malformed(_))
        ));
    }
}
