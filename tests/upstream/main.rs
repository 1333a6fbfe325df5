//! The relying-party core (`portcullis::auth::upstream`) against real HTTP servers on
//! 127.0.0.1, standing in for an upstream provider's discovery, JWKS, token and userinfo
//! endpoints: what each call accepts, refuses, and how long it waits.
mod cache;
mod discovery;
mod testing;
mod token;
