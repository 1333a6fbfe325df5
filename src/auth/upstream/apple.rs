//! Sign in with Apple's client secret: not a fixed string but a JWT the relying party signs
//! with its private key (the `.p8` file Apple hands out once), ES256, naming the team
//! (`iss`), the Services ID (`sub`), Apple (`aud`) and the key (`kid`). Apple accepts one
//! valid for up to six months; one is made per code exchange, valid for five minutes, so a
//! copy that leaks from a log or a proxy is useless almost at once.
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::UpstreamError;

/// Apple's own issuer: the `aud` its token endpoint expects of a client secret.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
const LIFETIME_SECS: i64 = 300;

/// Who signs: the team and key ids Apple gave, the Services ID, and the key itself.
pub struct Signer<'a> {
    pub team_id: &'a str,
    pub key_id: &'a str,
    pub client_id: &'a str,
    /// The `.p8` file's text: a PKCS#8 PEM of a P-256 key.
    pub private_key: &'a SecretString,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// The key of a `.p8` file, or why it is not one: checked when an admin stores it, so a
/// wrong file is refused then and not at the first sign-in.
pub fn signing_key(private_key: &SecretString) -> Result<EncodingKey, String> {
    let pem = private_key.expose_secret();
    if !pem.contains("-----BEGIN PRIVATE KEY-----") {
        return Err("An Apple provider's clientSecret is its .p8 key file's text.".into());
    }
    let key = EncodingKey::from_ec_pem(pem.as_bytes())
        .map_err(|_| "The .p8 key is not a P-256 private key.".to_string())?;
    // A key of another curve parses too; signing once tells.
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), &serde_json::json!({}), &key)
        .map_err(|_| "The .p8 key is not a P-256 private key.".to_string())?;
    Ok(key)
}

/// A client secret for the token endpoint whose audience is `audience` (Apple's issuer).
pub fn client_secret(
    signer: &Signer<'_>,
    audience: &str,
    now_secs: i64,
) -> Result<SecretString, UpstreamError> {
    let key = signing_key(signer.private_key).map_err(UpstreamError::Garbage)?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(signer.key_id.to_string());
    let claims = Claims {
        iss: signer.team_id,
        sub: signer.client_id,
        aud: audience,
        iat: now_secs,
        exp: now_secs + LIFETIME_SECS,
    };
    let jwt = jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| UpstreamError::Garbage(format!("signing Apple's client secret: {e}")))?;
    Ok(SecretString::from(jwt))
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;
    use crate::auth::keys::{generate, load, KeyAlg};

    fn p8(der: &[u8]) -> SecretString {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        SecretString::from(format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ))
    }

    #[test]
    fn the_secret_is_an_es256_jwt_naming_team_service_and_key_for_five_minutes() {
        let (kid, der) = generate(KeyAlg::ES256).unwrap();
        let pair = load(&kid, KeyAlg::ES256, &der, 0, None).unwrap();
        let key = p8(&der);
        let signer = Signer {
            team_id: "TEAM123456",
            key_id: "KEY1234567",
            client_id: "com.example.web",
            private_key: &key,
        };
        let jwt = client_secret(&signer, APPLE_ISSUER, 1_700_000_000).unwrap();
        let header = jsonwebtoken::decode_header(jwt.expose_secret()).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("KEY1234567"));
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.set_audience(&[APPLE_ISSUER]);
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            jwt.expose_secret(),
            &DecodingKey::from_jwk(&serde_json::from_value(pair.jwk).unwrap()).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims["iss"], "TEAM123456");
        assert_eq!(decoded.claims["sub"], "com.example.web");
        assert_eq!(decoded.claims["exp"], 1_700_000_300);
    }

    #[test]
    fn only_a_p256_pkcs8_key_is_taken() {
        assert!(signing_key(&SecretString::from("not a key")).is_err());
        let (_, rsa) = generate(KeyAlg::RS256).unwrap();
        assert!(signing_key(&p8(&rsa)).is_err(), "an RSA key");
        let (_, ec) = generate(KeyAlg::ES256).unwrap();
        assert!(signing_key(&p8(&ec)).is_ok());
    }
}
