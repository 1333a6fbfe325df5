//! Revocation (RFC 7009) and introspection (RFC 7662).
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;

use crate::app::AppState;
use crate::http::docs::ErrorBody;
use crate::http::json::ApiJson;
use crate::service::oidc;

use super::client_auth::{client_and_token, TokenForm};
use super::error::{OAuthError, OAuthErrorBody};
use super::{INTROSPECT, REVOKE};

/// Token revocation (RFC 7009): ends the grant of a refresh or access token of the calling
/// client. 200 whatever the token was, as the RFC asks.
#[utoipa::path(post, path = REVOKE, tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "token, token_type_hint; the client's credentials"),
    responses((status = 200, description = "revoked, or nothing to revoke"),
              (status = 400, description = "invalid_request", body = OAuthErrorBody), (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody)))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<StatusCode, OAuthError> {
    let p = state.provider();
    let (client, token) = client_and_token(&p, &headers, form).await?;
    oidc::revoke(&p, &client, &token).await?;
    Ok(StatusCode::OK)
}

/// Token introspection (RFC 7662), for confidential clients such as resource servers.
#[utoipa::path(post, path = INTROSPECT, tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "token; the client's credentials"),
    responses((status = 200, description = "`{active: false}`, or active with scope, client_id, sub, username, aud, iss, exp, iat, jti, token_type"),
              (status = 400, description = "invalid_request, unauthorized_client (a public client)", body = OAuthErrorBody), (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody)))]
pub(super) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, OAuthError> {
    let p = state.provider();
    let (client, token) = client_and_token(&p, &headers, form).await?;
    Ok(ApiJson(oidc::introspect(&p, &client, &token).await?).into_response())
}
