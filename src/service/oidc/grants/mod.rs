//! The token endpoint's grants, one file each.
mod authorization_code;
mod client_credentials;
mod refresh_token;

pub(super) use authorization_code::authorization_code;
pub(super) use client_credentials::client_credentials;
pub(super) use refresh_token::refresh_token;
