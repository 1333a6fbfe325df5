//! The token endpoint's grants, one file each, and what the two that sign a user in share
//! (`user_signin`).
mod authorization_code;
mod client_credentials;
mod device_code;
mod refresh_token;
mod user_signin;

pub(super) use authorization_code::authorization_code;
pub(super) use client_credentials::client_credentials;
pub(super) use device_code::device_code;
pub(super) use refresh_token::refresh_token;
