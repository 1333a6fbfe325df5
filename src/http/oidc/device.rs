//! The device authorization grant over HTTP (RFC 8628): the device authorization endpoint,
//! for devices, and the verification page's lookup of a user code, for the web app.
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::service::oidc::{self, Browser};

use super::authorize::page_error;
use super::client_auth::authenticated_client;
use super::error::{form_error, OAuthError, OAuthErrorBody};
use super::{DEVICE_AUTHORIZATION, DEVICE_CODE_ENTRY};

#[derive(Deserialize)]
pub(super) struct DeviceForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

/// The device authorization endpoint (RFC 8628 §3.1): a device code to poll the token
/// endpoint with, and the user code and page to show the user.
#[utoipa::path(post, path = DEVICE_AUTHORIZATION, tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "client_id (and client_secret for a confidential client, or HTTP Basic), scope (default openid)"),
    responses((status = 200, description = "`{device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval}` (RFC 8628 §3.2)"),
              (status = 400, description = "`{error, error_description}`: invalid_request, invalid_scope, unauthorized_client (the client may not use the device grant)", body = OAuthErrorBody),
              (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 413, body = ErrorBody),
              (status = 503, description = "temporarily_unavailable; see Retry-After", body = OAuthErrorBody)))]
pub(super) async fn device_authorization(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<DeviceForm>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(form) = form.map_err(form_error)?;
    let p = state.provider();
    let client = authenticated_client(&p, &headers, form.client_id, form.client_secret).await?;
    let answer = oidc::start_device(&p, &client, form.scope.as_deref()).await?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        ApiJson(answer),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceCodeRequest {
    /// As the user typed it: case, spaces and the dash do not matter.
    #[schema(example = "WDJB-MJHT")]
    user_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceCodeBody {
    /// The consent page's request: go to `/oauth/consent?request=<this>`.
    request: String,
}

/// The verification page's lookup: the signed-in user typed a device's user code. A live
/// one becomes a request on the consent page, which always asks.
#[utoipa::path(post, path = DEVICE_CODE_ENTRY, tag = "openid", request_body = DeviceCodeRequest,
    responses((status = 200, body = DeviceCodeBody),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "a cross-site request (`csrf`)", body = ErrorBody),
              (status = 404, description = "`device_code_unknown`: no device waits for this code (mistyped, expired or answered)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 429, description = "more than 10 codes a minute from this address; see Retry-After", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn enter_user_code(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<DeviceCodeRequest>,
) -> Result<ApiJson<DeviceCodeBody>, ApiError> {
    let p = state.provider();
    let browser = Browser {
        user_id: user.id,
        session_id: user.session_id.clone(),
    };
    let request = oidc::enter_user_code(&p, &browser, &body.user_code, origin.client().ip)
        .await
        .map_err(page_error)?;
    Ok(ApiJson(DeviceCodeBody { request }))
}
