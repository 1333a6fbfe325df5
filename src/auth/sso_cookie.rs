//! The single sign-on cookie's value: the browser's session id and an HMAC of it under the
//! server key, so that only this server can have made it (a session id alone is no secret:
//! it is the `sid` of tokens clients hold). Only the authorization endpoint reads it, on the
//! cross-site navigations that bring no SameSite=Strict cookie (docs/SECURITY.md, "Single
//! sign-on across sites").
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const CONTEXT: &[u8] = b"portcullis sso cookie\0";

fn mac(key: &[u8], session_id: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(CONTEXT);
    mac.update(session_id.as_bytes());
    Some(mac)
}

/// `<session id>.<mac>`; empty (which opens to nothing) should the key be unusable.
pub fn value(key: &[u8], session_id: &str) -> String {
    match mac(key, session_id) {
        Some(mac) => format!(
            "{session_id}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        ),
        None => String::new(),
    }
}

/// The session id a cookie value names, if this server made it.
pub fn session_id<'a>(key: &[u8], value: &'a str) -> Option<&'a str> {
    let (session_id, tag) = value.rsplit_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(key, session_id)?.verify_slice(&tag).ok()?;
    Some(session_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_value_this_key_made_opens() {
        let made = value(b"key", "session-1");
        assert_eq!(session_id(b"key", &made), Some("session-1"));
        assert_eq!(session_id(b"other key", &made), None);
        let forged = made.replacen("session-1", "session-2", 1);
        assert_eq!(session_id(b"key", &forged), None);
        assert_eq!(session_id(b"key", "session-1"), None);
        assert_eq!(session_id(b"key", ""), None);
    }
}
