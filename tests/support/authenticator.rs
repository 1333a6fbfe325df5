//! A software passkey for the tests: a P-256 key (ES256) that answers WebAuthn options
//! as a browser with a platform authenticator would (`credential.toJSON()`), with
//! attestation `none`, user verification, and a signature counter the test controls.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle the relying party gave at registration.
    pub user_handle: Vec<u8>,
    pub rp_id: String,
    /// What the "browser" reports as the page's origin.
    pub origin: String,
    /// The next assertion signs this plus one.
    pub counter: u32,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .expect("base64url")
}

/// CBOR byte string / text string headers (major types 2 and 3).
fn cbor_head(major: u8, len: usize, out: &mut Vec<u8>) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=255 => out.extend([major | 24, len as u8]),
        _ => {
            out.push(major | 25);
            out.extend((len as u16).to_be_bytes());
        }
    }
}

fn cbor_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, bytes.len(), out);
    out.extend_from_slice(bytes);
}

fn cbor_text(text: &str, out: &mut Vec<u8>) {
    cbor_head(3, text.len(), out);
    out.extend_from_slice(text.as_bytes());
}

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

impl SoftPasskey {
    pub fn new(origin: &str, rp_id: &str) -> Self {
        let mut id = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut id);
        SoftPasskey {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            credential_id: id,
            user_handle: Vec::new(),
            rp_id: rp_id.to_string(),
            origin: origin.to_string(),
            counter: 0,
        }
    }

    /// The passkey of `http://localhost:8080`, the default public URL.
    pub fn localhost() -> Self {
        Self::new("http://localhost:8080", "localhost")
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .expect("json")
    }

    fn auth_data(&self, flags: u8, counter: u32) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(counter.to_be_bytes());
        data
    }

    /// The COSE form of the public key: EC2, ES256, P-256, x, y.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(x, &mut out);
        out.push(0x22);
        cbor_bytes(y, &mut out);
        out
    }

    /// Answers `POST …/register/start`'s options (the whole `{"publicKey": …}` answer).
    pub fn register(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let challenge = public_key["challenge"].as_str().expect("challenge");
        self.user_handle = unb64(public_key["user"]["id"].as_str().expect("user id"));
        let client_data = self.client_data("webauthn.create", challenge);
        let mut auth_data = self.auth_data(UP | UV | AT, self.counter);
        auth_data.extend([0u8; 16]); // AAGUID: none, as attestation `none` allows
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        let mut attestation = vec![0xa3];
        cbor_text("fmt", &mut attestation);
        cbor_text("none", &mut attestation);
        cbor_text("attStmt", &mut attestation);
        attestation.push(0xa0);
        cbor_text("authData", &mut attestation);
        cbor_bytes(&auth_data, &mut attestation);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// Answers request options (`…/signin/start`, `…/mfa/passkey/start`), counting up.
    pub fn sign(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.sign_with_counter(options, self.counter)
    }

    /// An assertion with exactly this counter (a clone's, say).
    pub fn sign_with_counter(&self, options: &Value, counter: u32) -> Value {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge");
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(UP | UV, counter);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}
