//! The pushed authorization request endpoint (RFC 9126).
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::app::AppState;
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::json::ApiJson;
use crate::service::oidc::{self, AuthorizeParams};

use super::client_auth::authenticated_client;
use super::error::{form_error, OAuthError, OAuthErrorBody};
use super::PAR;

/// The form: the authorization request's parameters and the client's credentials.
#[derive(Deserialize)]
pub(super) struct ParForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    client_secret: Option<String>,
}

/// Pushes an authorization request (RFC 9126 §2): checked as the authorization endpoint
/// would, kept for a minute, and named by the `request_uri` the browser is then sent with
/// (`/api/oauth/authorize?client_id=…&request_uri=…`), once.
#[utoipa::path(post, path = PAR, tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "the authorization request's parameters (as for GET /api/oauth/authorize, without request_uri); client_id/client_secret unless sent by HTTP Basic"),
    responses((status = 201, description = "`{request_uri, expires_in}`: `urn:ietf:params:oauth:request_uri:…`, for 60 seconds"),
              (status = 400, description = "`{error, error_description}`: invalid_request, invalid_scope, unsupported_response_type, …", body = OAuthErrorBody),
              (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address; see Retry-After", body = OAuthErrorBody),
              (status = 503, description = "temporarily_unavailable; see Retry-After", body = OAuthErrorBody)))]
pub(super) async fn push(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    form: Result<Form<ParForm>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(ParForm {
        params,
        client_secret,
    }) = form.map_err(form_error)?;
    let p = state.provider();
    let client =
        authenticated_client(&p, &headers, params.client_id.clone(), client_secret).await?;
    let pushed = oidc::push(&p, &client, params, origin.client().ip).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        ApiJson(pushed),
    )
        .into_response())
}
