//! Who you are and what you may do: password hashing, access and refresh tokens, the
//! server-side session lifecycle, its in-process cache and sign-in throttling. Nothing
//! here knows HTTP: the extractors and cookies that carry these over it are in `http/`.
pub mod access_token;
pub mod change_feed;
pub mod mail_token;
pub mod notify;
pub mod password;
pub mod refresh_token;
pub mod session_cache;
pub mod sessions;
pub mod signing_key;
pub mod throttle;
