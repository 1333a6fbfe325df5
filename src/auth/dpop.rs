//! DPoP proofs (RFC 9449 §4): a JWT the client signs with a key of its own, whose public
//! half it carries in the header, for one request (method and URL) at one time; with an
//! access token, bound to that token's hash. What a token is bound to is the key's RFC 7638
//! thumbprint (`cnf.jkt`). Checked here without the database; that a proof is not used
//! twice is the caller's (`store::dpop_proofs`), so that every node knows.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::keys::thumbprint;

/// The algorithms a proof may be signed with (discovery's
/// `dpop_signing_alg_values_supported`): asymmetric only (§4.3: never `none` or a MAC).
pub const ALGS: [&str; 5] = ["ES256", "ES384", "RS256", "PS256", "EdDSA"];
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
    let header =
        jsonwebtoken::decode_header(proof).map_err(|_| DpopError::Malformed("not a JWT"))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(DpopError::Malformed("typ must be dpop+jwt"));
    }
    if !matches!(
        header.alg,
        Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::RS256
            | Algorithm::PS256
            | Algorithm::EdDSA
    ) {
        return Err(DpopError::Malformed("alg must be an asymmetric one"));
    }
    let jwk = header
        .jwk
        .as_ref()
        .ok_or(DpopError::Malformed("the header has no jwk"))?;
    let jwk_json = serde_json::to_value(jwk).map_err(|_| DpopError::Malformed("jwk"))?;
    // A private key in the header would be the client's secret published.
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| jwk_json.get(m).is_some())
    {
        return Err(DpopError::Malformed("the jwk holds a private key"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| DpopError::Malformed("jwk"))?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => DpopError::Signature,
            _ => DpopError::Malformed("its claims (jti, htm, htu, iat)"),
        })?
        .claims;
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err(DpopError::Malformed("jti"));
    }
    if !claims.htm.eq_ignore_ascii_case(request.method) {
        return Err(DpopError::WrongRequest("htm"));
    }
    if !same_url(&claims.htu, request.url) {
        return Err(DpopError::WrongRequest("htu"));
    }
    if (claims.iat - now_secs).abs() > WINDOW_SECS {
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
