//! OAuth's error answer (RFC 6749 §5.2, RFC 6750 §3) for the protocol endpoints.
use axum::extract::rejection::FormRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::service::oidc::{OAuthCode, OidcError};

use super::{DEVICE_AUTHORIZATION, INTROSPECT, PAR, REVOKE, TOKEN, USERINFO};

/// The error answer of the OAuth endpoints (RFC 6749 §5.2, RFC 6750 §3).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_token`, `server_error`,
    /// `temporarily_unavailable`; for a device's poll `authorization_pending`, `slow_down`,
    /// `access_denied`, `expired_token`.
    error: String,
    error_description: Option<String>,
}

/// OAuth's error answer (RFC 6749 §5.2).
pub(super) struct OAuthError {
    status: StatusCode,
    error: OAuthCode,
    description: String,
    /// Set when the client tried HTTP Basic: the 401 then names the scheme.
    pub basic: bool,
    /// Seconds, for a 429 or a 503.
    retry_after: u64,
}

impl OAuthError {
    pub fn new(error: OAuthCode, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
            error,
            description: description.into(),
            basic: false,
            retry_after: 1,
        }
    }
}

impl From<OidcError> for OAuthError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Token { code, description } => OAuthError::new(code, description),
            OidcError::Internal(e) => {
                let api = ApiError::failure(&e);
                if api.status == StatusCode::SERVICE_UNAVAILABLE {
                    OAuthError::new(OAuthCode::TemporarilyUnavailable, "try again in a moment")
                } else {
                    OAuthError::new(OAuthCode::ServerError, "internal error")
                }
            }
            OidcError::TooManyRequests(retry_after) => OAuthError {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after,
                ..OAuthError::new(
                    OAuthCode::InvalidRequest,
                    "too many requests from this address; try again later",
                )
            },
            other => OAuthError::new(OAuthCode::InvalidRequest, other.to_string()),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error.as_str(), "error_description": self.description});
        let mut response = (self.status, ApiJson(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let scheme = if self.basic {
                r#"Basic realm="portcullis""#
            } else {
                r#"Bearer error="invalid_client""#
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(scheme));
        }
        if matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(self.retry_after));
        }
        response
    }
}

/// The OAuth endpoints' answer to a request the server gave up on (`http::middleware::
/// deadline`): RFC 6749's `temporarily_unavailable`, where their clients look for it.
pub fn temporarily_unavailable() -> Response {
    OAuthError::new(OAuthCode::TemporarilyUnavailable, "try again in a moment").into_response()
}

/// Whether `path` answers with OAuth's error shape rather than the API's.
pub fn answers_oauth_errors(path: &str) -> bool {
    [
        TOKEN,
        PAR,
        DEVICE_AUTHORIZATION,
        USERINFO,
        REVOKE,
        INTROSPECT,
    ]
    .contains(&path)
}

/// A protocol endpoint's form that does not parse.
pub(super) fn form_error(e: FormRejection) -> OAuthError {
    OAuthError::new(
        OAuthCode::InvalidRequest,
        format!("send application/x-www-form-urlencoded: {}", e.body_text()),
    )
}
