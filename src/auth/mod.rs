//! Who you are and what you may do: password hashing, access and refresh tokens, the
//! server-side session lifecycle, its in-process cache, sign-in throttling, and the second
//! factors (passkeys over WebAuthn, TOTP codes), and the relying-party side of signing in
//! with an upstream identity provider (`upstream`, which calls out over HTTP). Nothing
//! here serves HTTP: the extractors and cookies that carry these over it are in `http/`.
pub mod access_token;
pub mod change_feed;
pub mod dpop;
pub mod key_store;
pub mod keys;
pub mod mail_token;
pub mod mfa_token;
pub mod notify;
pub mod passkeys;
pub mod password;
pub mod refresh_token;
pub mod session_cache;
pub mod sessions;
pub mod signing_key;
pub mod sso_cookie;
pub mod starts;
pub mod throttle;
pub mod totp;
pub mod upstream;
