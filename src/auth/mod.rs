//! Who you are and what you may do: password hashing, access and refresh tokens, the
//! server-side session lifecycle, its in-process cache, sign-in throttling, and the
//! extractors handlers use to demand a signed-in user.
pub mod access_token;
pub mod change_feed;
pub mod cookies;
pub mod extractors;
pub mod password;
pub mod refresh_token;
pub mod session_cache;
pub mod sessions;
pub mod throttle;
