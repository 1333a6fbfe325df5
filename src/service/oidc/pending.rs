//! What waits between the provider's steps, each its own type: an authorization request
//! checked and waiting for the user's consent, and a code waiting for its exchange, which
//! carries the request and the browser sign-in it was issued on. Both are stored as JSON
//! (`oauth_grants.request`); a code's JSON is the request's with the sign-in's fields added,
//! as it always was, so rows written before this split still read.
use serde::{Deserialize, Serialize};

use crate::clock::Millis;

/// A request checked and waiting for consent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct WaitingForConsent {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `prompt=login` or `max_age`: only a session signed in after this counts.
    #[serde(default)]
    pub login_after: Option<Millis>,
    #[serde(default)]
    pub prompt_consent: bool,
    /// A device authorization's (`store::device_codes`) id: the answer goes to the device,
    /// not to a redirect URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<i64>,
}

/// A code waiting for its exchange: the request it answers, and the browser session it was
/// issued on, with when and how that signed in (for the ID token).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct CodeForExchange {
    #[serde(flatten)]
    pub request: WaitingForConsent,
    #[serde(default)]
    pub browser_session: Option<String>,
    #[serde(default)]
    pub auth_time: Option<i64>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub second_factor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_stored_before_the_split_still_reads() {
        let stored = r#"{"client_id":"c","redirect_uri":"https://app/cb","scope":"openid","state":"s",
            "nonce":null,"code_challenge":null,"login_after":null,"prompt_consent":false,
            "browser_session":"sid","auth_time":1700000000,"method":"password","second_factor":null}"#;
        let code: CodeForExchange = serde_json::from_str(stored).unwrap();
        assert_eq!(code.request.redirect_uri, "https://app/cb");
        assert_eq!(code.browser_session.as_deref(), Some("sid"));
        let request: WaitingForConsent = serde_json::from_str(stored).unwrap();
        assert_eq!(request.scope, "openid");
    }
}
