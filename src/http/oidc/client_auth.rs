//! How a client authenticates to the token, revocation and introspection endpoints: HTTP
//! Basic or the form's `client_id` and `client_secret` (RFC 6749 §2.3.1).
use axum::extract::rejection::FormRejection;
use axum::http::{header, HeaderMap};
use axum::Form;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use crate::service::oidc::{self, ClientAuth, OAuthCode, Provider};
use crate::store::oauth_clients::ClientRecord;

use super::error::{form_error, OAuthError};

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, each part form-encoded) or the
/// form's `client_id` and `client_secret`, never both.
fn client_auth(
    headers: &HeaderMap,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<(ClientAuth, bool), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let Some(encoded) = basic else {
        return Ok((
            ClientAuth {
                client_id: form_id,
                secret: form_secret,
            },
            false,
        ));
    };
    if form_secret.is_some() {
        return Err(OAuthError::new(
            OAuthCode::InvalidRequest,
            "use one way of client authentication",
        ));
    }
    let malformed = || {
        let mut e = OAuthError::new(OAuthCode::InvalidClient, "malformed Basic credentials");
        e.basic = true;
        e
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| malformed())
    };
    let id = decode(id)?;
    if form_id.as_deref().is_some_and(|f| f != id) {
        return Err(OAuthError::new(
            OAuthCode::InvalidRequest,
            "client_id differs from the Basic credentials'",
        ));
    }
    Ok((
        ClientAuth {
            client_id: Some(id),
            secret: Some(decode(secret)?),
        },
        true,
    ))
}

/// The calling client, authenticated.
pub(super) async fn authenticated_client(
    p: &Provider<'_>,
    headers: &HeaderMap,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<std::sync::Arc<ClientRecord>, OAuthError> {
    let (auth, basic) = client_auth(headers, form_id, form_secret)?;
    oidc::authenticate_client(p, &auth).await.map_err(|e| {
        let mut e = OAuthError::from(e);
        e.basic = basic;
        e
    })
}

/// The form of revocation and introspection.
#[derive(Deserialize)]
pub(super) struct TokenForm {
    token: Option<String>,
    #[allow(dead_code)] // accepted as RFC 7009 asks; we find the token either way
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// What revocation and introspection both begin with: the calling client, authenticated,
/// and the token it asks about.
pub(super) async fn client_and_token(
    p: &Provider<'_>,
    headers: &HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<(std::sync::Arc<ClientRecord>, String), OAuthError> {
    let Form(form) = form.map_err(form_error)?;
    let client = authenticated_client(p, headers, form.client_id, form.client_secret).await?;
    let token = form
        .token
        .ok_or_else(|| OAuthError::new(OAuthCode::InvalidRequest, "token is missing"))?;
    Ok((client, token))
}

/// The client that a request's HTTP Basic credentials prove, if they do (the decision
/// endpoint's callers).
pub(crate) async fn basic_client(
    p: &Provider<'_>,
    headers: &HeaderMap,
) -> Option<std::sync::Arc<ClientRecord>> {
    authenticated_client(p, headers, None, None).await.ok()
}
