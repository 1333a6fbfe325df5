//! The token endpoint (RFC 6749 §3.2): the client authenticated, then the grant it asks
//! for (`grants/`).
use serde::{Deserialize, Serialize};

use crate::domain::oauth::{DEVICE_CODE, GRANT_TYPES};
use crate::service::clients::{allows_grant, secret_matches};
use crate::service::Client;
use std::sync::Arc;

use crate::store::oauth_clients::ClientRecord;

use super::dpop::{self, Presented, ProofError};
use super::error::{token_error, OAuthCode, OidcError};
use super::grants;
use super::Provider;

/// `token_type` of a token bound to `jkt`, or not.
pub(super) fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
}

/// How the client proved who it is at the token endpoint.
pub struct ClientAuth {
    pub client_id: Option<String>,
    pub secret: Option<String>,
}

/// The client behind `auth`: a confidential one by its secret, a public one by its id.
pub async fn authenticate_client(
    p: &Provider<'_>,
    auth: &ClientAuth,
) -> Result<Arc<ClientRecord>, OidcError> {
    let invalid = || token_error(OAuthCode::InvalidClient, "client authentication failed");
    let client_id = auth.client_id.as_deref().ok_or_else(invalid)?;
    let client = p.client(client_id).await?.ok_or_else(invalid)?;
    match (&auth.secret, client.public) {
        (Some(secret), false) if secret_matches(&client, secret) => Ok(client),
        (None, true) => Ok(client),
        _ => Err(invalid()),
    }
}

/// The token endpoint's form, as given.
#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub device_code: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to a DPoP key.
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The token endpoint's answer to an authenticated client; `dpop`: the request's DPoP
/// proof, whose key what is issued is then bound to (RFC 9449 §5).
pub async fn token(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
    from: Client<'_>,
    dpop: Option<Presented<'_>>,
) -> Result<TokenResponse, OidcError> {
    let jkt = match &dpop {
        Some(presented) => Some(dpop::check(p, presented, None).await.map_err(|e| match e {
            ProofError::Db(e) => OidcError::from(e),
            other => token_error(OAuthCode::InvalidDpopProof, other.to_string()),
        })?),
        None if client.require_dpop => {
            return Err(token_error(
                OAuthCode::InvalidDpopProof,
                "this client's tokens must be DPoP-bound: send a DPoP proof",
            ))
        }
        None => None,
    };
    let jkt = jkt.as_deref();
    if let Some(grant) = params.grant_type.as_deref() {
        if GRANT_TYPES.contains(&grant) && !allows_grant(client, grant) {
            return Err(token_error(
                OAuthCode::UnauthorizedClient,
                format!("this client may not use the {grant} grant"),
            ));
        }
    }
    match params.grant_type.as_deref() {
        Some("authorization_code") => {
            grants::authorization_code(p, client, params, from, jkt).await
        }
        Some("refresh_token") => grants::refresh_token(p, client, params, jkt).await,
        Some("client_credentials") => grants::client_credentials(p, client, params, jkt),
        Some(DEVICE_CODE) => grants::device_code(p, client, params, from, jkt).await,
        None => Err(token_error(
            OAuthCode::InvalidRequest,
            "grant_type is missing",
        )),
        Some(_) => Err(token_error(
            OAuthCode::UnsupportedGrantType,
            "grant_type must be authorization_code, refresh_token, client_credentials or the device code",
        )),
    }
}
