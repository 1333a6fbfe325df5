//! The rules of OpenID Connect that need no database: scopes, what a registered redirect
//! URI may be, and the PKCE check (RFC 7636).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The scopes a client may ask for (docs/API.md §5, "Scopes").
pub const SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "roles",
    "groups",
    "offline_access",
];

/// A space-separated scope list, each one known, without repeats, in `SCOPES` order.
pub fn parse_scopes(text: &str) -> Result<Vec<&'static str>, String> {
    let mut wanted = Vec::new();
    for scope in text.split(' ').filter(|s| !s.is_empty()) {
        match SCOPES.iter().find(|known| **known == scope) {
            Some(known) => wanted.push(*known),
            None => return Err(format!("unknown scope {scope:?}")),
        }
    }
    Ok(SCOPES
        .iter()
        .copied()
        .filter(|s| wanted.contains(s))
        .collect())
}

/// The device authorization grant's type (RFC 8628 §3.4).
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The grants a client may be allowed (docs/API.md §5, "Clients").
pub const GRANT_TYPES: [&str; 4] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    DEVICE_CODE,
];

/// A list of grant types, each known, without repeats, in `GRANT_TYPES` order.
pub fn parse_grant_types<S: AsRef<str>>(list: &[S]) -> Result<Vec<&'static str>, String> {
    let mut wanted = Vec::new();
    for grant in list.iter().map(AsRef::as_ref) {
        match GRANT_TYPES.iter().find(|known| **known == grant) {
            Some(known) => wanted.push(*known),
            None => return Err(format!("unknown grant type {grant:?}")),
        }
    }
    Ok(GRANT_TYPES
        .iter()
        .copied()
        .filter(|g| wanted.contains(g))
        .collect())
}

pub fn join_scopes(scopes: &[&str]) -> String {
    scopes.join(" ")
}

/// A redirect URI a client may register: absolute, no fragment, and `https`, except for
/// loopback addresses (RFC 8252 §7.3, a native app or a developer's machine) and private
/// schemes of native apps (`com.example.app:/cb`, RFC 8252 §7.1). Requests must then name
/// it byte for byte.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > 2000 {
        return Err("a redirect URI is at most 2000 characters".into());
    }
    let parsed = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URL"))?;
    if parsed.fragment().is_some() {
        return Err(format!(
            "{uri:?} has a fragment, which redirect URIs may not"
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("{uri:?} carries credentials"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(format!(
            "{uri:?} is http: only https, or http on localhost/127.0.0.1/[::1], is allowed"
        )),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => {
            Err(format!("{uri:?} has a scheme no redirect may use"))
        }
        // A native app's private scheme: reverse domain name style.
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(format!(
            "{uri:?}: use https, http on a loopback address, or a reverse-domain private scheme"
        )),
    }
}

/// Where a client takes back-channel logout tokens (Back-Channel Logout 1.0 §2.2): an
/// absolute https URL without a fragment, or http on a loopback address.
pub fn check_backchannel_logout_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URL"))?;
    if uri.len() > 2000 || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(format!(
            "{uri:?}: a back-channel logout URI has no fragment or credentials"
        ));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        _ => Err(format!(
            "{uri:?}: a back-channel logout URI is https, or http on a loopback address"
        )),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// RFC 7636 §4.1: a verifier is 43 to 128 unreserved characters.
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A challenge as S256 makes it: 43 characters of base64url.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Whether `verifier` is the one `challenge` was made from (S256).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    use subtle::ConstantTimeEq;
    let made = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    valid_verifier(verifier) && bool::from(made.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_known_ordered_and_deduplicated() {
        assert_eq!(
            parse_scopes("email openid  email").unwrap(),
            vec!["openid", "email"]
        );
        assert!(parse_scopes("openid admin").is_err());
        assert_eq!(parse_scopes("").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn grant_types_are_known_and_ordered() {
        assert_eq!(
            parse_grant_types(&[DEVICE_CODE, "authorization_code", DEVICE_CODE]).unwrap(),
            vec!["authorization_code", DEVICE_CODE]
        );
        assert!(parse_grant_types(&["password"]).is_err());
        assert!(parse_grant_types(&["implicit"]).is_err());
    }

    #[test]
    fn redirect_uris_are_https_loopback_or_private_schemes() {
        for good in [
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            "http://localhost:3000/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "com.example.app:/oauth",
        ] {
            assert!(check_redirect_uri(good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "https://user:pw@app.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/relative/cb",
            "myapp:/cb",
            "http://localhost.evil.example/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_challenge(challenge));
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            challenge
        ));
        // "plain": the verifier presented as its own challenge is no match.
        assert!(!pkce_matches(verifier, verifier));
        assert!(!valid_verifier("short"));
    }
}
