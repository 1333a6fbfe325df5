//! The token endpoint's grants, one file each.
mod authorization_code;
mod client_credentials;
mod device_code;
mod refresh_token;

pub(super) use authorization_code::authorization_code;
pub(super) use client_credentials::client_credentials;
pub(super) use device_code::device_code;
pub(super) use refresh_token::refresh_token;
