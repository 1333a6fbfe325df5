//! The token endpoint (RFC 6749 §3.2).
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Form;

use crate::app::AppState;
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::json::ApiJson;
use crate::service::oidc::dpop::Presented;
use crate::service::oidc::{self, OAuthCode, TokenParams};

use super::client_auth::authenticated_client;
use super::error::{form_error, OAuthError, OAuthErrorBody};
use super::{dpop_header, TOKEN};

/// The token endpoint (RFC 6749 §3.2): `authorization_code` (with the PKCE verifier),
/// `refresh_token` (rotated; a reused one ends the grant), `client_credentials`, the device
/// code; with a `DPoP` proof (RFC 9449), what is issued is bound to its key.
#[utoipa::path(post, path = TOKEN, tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "grant_type, and code + redirect_uri + code_verifier, or refresh_token, or scope; client_id/client_secret unless sent by HTTP Basic"),
    responses((status = 200, description = "access_token (a JWT, typ at+jwt), token_type Bearer, expires_in, scope, id_token (code grant), refresh_token (with offline_access, and on refresh)"),
              (status = 400, description = "`{error, error_description}`: invalid_request, invalid_grant, unsupported_grant_type, invalid_scope, unauthorized_client, invalid_dpop_proof; for a device's poll authorization_pending, slow_down, access_denied, expired_token", body = OAuthErrorBody),
              (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 503, description = "temporarily_unavailable; see Retry-After", body = OAuthErrorBody)))]
pub(super) async fn token(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(mut params) = form.map_err(form_error)?;
    let p = state.provider();
    let client = authenticated_client(
        &p,
        &headers,
        params.client_id.take(),
        params.client_secret.take(),
    )
    .await?;
    let proof = dpop_header(&headers)
        .map_err(|_| OAuthError::new(OAuthCode::InvalidDpopProof, "send one DPoP header"))?;
    let dpop = proof.map(|proof| Presented {
        proof,
        method: "POST",
        url: format!("{}{TOKEN}", state.settings.public_base()),
    });
    let answer = oidc::token(&p, &client, params, origin.client(), dpop).await?;
    Ok((
        [(header::PRAGMA, HeaderValue::from_static("no-cache"))],
        ApiJson(answer),
    )
        .into_response())
}
