//! The relying party's half of WebAuthn, over webauthn-rs: the options a browser gets, the
//! state kept until the browser answers, and the check of that answer. What is stored
//! where, and who may do what, is decided in `service::passkeys`.
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

/// How long a ceremony may take, from its options to the browser's answer.
pub const CEREMONY_TTL: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The browser's answer does not verify, or is not one we asked for.
    #[error("passkey refused: {0}")]
    Refused(String),
    /// The answer verified except for its signature counter, which did not move forward:
    /// a sign of a cloned authenticator.
    #[error("passkey counter went backwards")]
    CounterRegressed,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<WebauthnError> for PasskeyError {
    fn from(e: WebauthnError) -> Self {
        match e {
            WebauthnError::CredentialPossibleCompromise => PasskeyError::CounterRegressed,
            other => PasskeyError::Refused(other.to_string()),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(anyhow::anyhow!("{e}"))
}

/// Options for the browser (WebAuthn's JSON) and the server's state, serialised, keyed
/// by the hash of the challenge the options carry.
pub struct Started {
    pub options: Value,
    pub state: String,
    pub challenge_hash: String,
}

pub struct RelyingParty {
    webauthn: Webauthn,
}

impl RelyingParty {
    /// `rp_id` is a domain; `origins` are the web app's origins (scheme, host, port).
    pub fn new(rp_id: &str, origins: &[String], name: &str) -> anyhow::Result<Self> {
        let parsed: Vec<Url> = origins
            .iter()
            .map(|o| Url::parse(o).map_err(|e| anyhow::anyhow!("passkey origin `{o}`: {e}")))
            .collect::<anyhow::Result<_>>()?;
        let first = parsed
            .first()
            .ok_or_else(|| anyhow::anyhow!("no origin for passkeys: set PORTCULLIS_RP_ORIGINS"))?;
        let mut builder = WebauthnBuilder::new(rp_id, first)
            .map_err(|e| anyhow::anyhow!("passkey relying party `{rp_id}` for {first}: {e}"))?
            .rp_name(name)
            .timeout(CEREMONY_TTL);
        for origin in &parsed[1..] {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|e| anyhow::anyhow!("passkey relying party `{rp_id}`: {e}"))?;
        Ok(RelyingParty { webauthn })
    }

    /// Options to create a discoverable passkey for the account with this user handle;
    /// `exclude` are the credentials it has already.
    pub fn start_registration(
        &self,
        handle: Uuid,
        username: &str,
        exclude: &[Passkey],
    ) -> Result<Started, PasskeyError> {
        let exclude = exclude.iter().map(|p| p.cred_id().clone()).collect();
        let (options, state) =
            self.webauthn
                .start_passkey_registration(handle, username, username, Some(exclude))?;
        let mut options = serde_json::to_value(options).map_err(internal)?;
        // Signing in without a username needs the credential kept on the authenticator;
        // webauthn-rs asks for that only in its attested flows, and the state it returns
        // does not depend on it.
        if let Some(selection) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        started(options, &state)
    }

    pub fn finish_registration(
        &self,
        state: &str,
        credential: &RegisterPublicKeyCredential,
    ) -> Result<Passkey, PasskeyError> {
        let state: PasskeyRegistration = serde_json::from_str(state).map_err(internal)?;
        Ok(self
            .webauthn
            .finish_passkey_registration(credential, &state)?)
    }

    /// Options to sign in with whatever passkey of ours the authenticator holds.
    pub fn start_signin(&self) -> Result<Started, PasskeyError> {
        let (options, state) = self.webauthn.start_discoverable_authentication()?;
        let mut options = serde_json::to_value(options).map_err(internal)?;
        // webauthn-rs marks these options for autofill ("conditional"); ours follow a click
        // on a button, which wants the browser's ordinary dialog.
        if let Some(root) = options.as_object_mut() {
            root.remove("mediation");
        }
        started(options, &state)
    }

    /// Which account and which credential a discoverable sign-in claims (unverified).
    pub fn claimed<'c>(
        &self,
        credential: &'c PublicKeyCredential,
    ) -> Result<(Uuid, &'c [u8]), PasskeyError> {
        Ok(self
            .webauthn
            .identify_discoverable_authentication(credential)?)
    }

    pub fn finish_signin(
        &self,
        state: &str,
        credential: &PublicKeyCredential,
        passkey: &Passkey,
    ) -> Result<AuthenticationResult, PasskeyError> {
        let state: DiscoverableAuthentication = serde_json::from_str(state).map_err(internal)?;
        Ok(self.webauthn.finish_discoverable_authentication(
            credential,
            state,
            &[DiscoverableKey::from(passkey)],
        )?)
    }

    /// Options to prove, with one of these passkeys, the account a password named.
    pub fn start_second_factor(&self, passkeys: &[Passkey]) -> Result<Started, PasskeyError> {
        let (options, state) = self.webauthn.start_passkey_authentication(passkeys)?;
        let options = serde_json::to_value(options).map_err(internal)?;
        started(options, &state)
    }

    pub fn finish_second_factor(
        &self,
        state: &str,
        credential: &PublicKeyCredential,
    ) -> Result<AuthenticationResult, PasskeyError> {
        let state: PasskeyAuthentication = serde_json::from_str(state).map_err(internal)?;
        Ok(self
            .webauthn
            .finish_passkey_authentication(credential, &state)?)
    }
}

fn started(options: Value, state: &impl serde::Serialize) -> Result<Started, PasskeyError> {
    let challenge = options
        .pointer("/publicKey/challenge")
        .and_then(Value::as_str)
        .and_then(challenge_hash)
        .ok_or_else(|| internal("options without a challenge"))?;
    Ok(Started {
        state: serde_json::to_string(state).map_err(internal)?,
        options,
        challenge_hash: challenge,
    })
}

/// The key a ceremony is kept under: the SHA-256 of its challenge's bytes.
fn challenge_hash(challenge: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(challenge.trim_end_matches('='))
        .ok()?;
    (bytes.len() >= 16).then(|| super::refresh_token::hex(&Sha256::digest(&bytes)))
}

/// The ceremony a browser's answer belongs to, from the challenge in its client data
/// (which the signature covers, so a mismatch fails verification later).
fn answered_challenge(client_data_json: &[u8]) -> Option<String> {
    let data: Value = serde_json::from_slice(client_data_json).ok()?;
    challenge_hash(data.get("challenge")?.as_str()?)
}

pub fn registration_challenge(credential: &RegisterPublicKeyCredential) -> Option<String> {
    answered_challenge(credential.response.client_data_json.as_ref())
}

pub fn assertion_challenge(credential: &PublicKeyCredential) -> Option<String> {
    answered_challenge(credential.response.client_data_json.as_ref())
}

/// A credential id's storage key.
pub fn credential_hash(credential_id: &[u8]) -> String {
    super::refresh_token::hex(&Sha256::digest(credential_id))
}

pub fn new_handle() -> Uuid {
    Uuid::new_v4()
}

/// A stored passkey, read back.
pub fn parse_passkey(stored: &str) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(stored).map_err(internal)
}

pub fn store_passkey(passkey: &Passkey) -> Result<String, PasskeyError> {
    serde_json::to_string(passkey).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_options_ask_for_a_discoverable_credential_and_key_the_state_by_challenge() {
        let origins = vec!["http://localhost:8080".to_string()];
        let rp = RelyingParty::new("localhost", &origins, "Portcullis").expect("rp");
        let started = rp
            .start_registration(new_handle(), "alice", &[])
            .expect("options");
        let selection = &started.options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["requireResidentKey"], true);
        assert_eq!(selection["userVerification"], "required");
        let challenge = started.options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge");
        let client_data = format!(r#"{{"type":"webauthn.create","challenge":"{challenge}"}}"#);
        assert_eq!(
            answered_challenge(client_data.as_bytes()),
            Some(started.challenge_hash)
        );
    }

    #[test]
    fn signin_options_are_for_a_button_not_autofill() {
        let origins = vec!["https://app.example.com".to_string()];
        let rp = RelyingParty::new("example.com", &origins, "Portcullis").expect("rp");
        let started = rp.start_signin().expect("options");
        assert!(started.options.get("mediation").is_none());
        assert_eq!(started.options["publicKey"]["rpId"], "example.com");
    }

    #[test]
    fn a_foreign_rp_id_is_refused_at_start() {
        let origins = vec!["https://app.example.com".to_string()];
        assert!(RelyingParty::new("other.org", &origins, "Portcullis").is_err());
    }

    #[test]
    fn short_or_garbled_challenges_find_nothing() {
        assert_eq!(answered_challenge(b"{}"), None);
        assert_eq!(answered_challenge(br#"{"challenge":"abc"}"#), None);
        assert_eq!(answered_challenge(b"not json"), None);
    }
}
