//! JSON request bodies, read into `ApiJson`: our error shape, 415 for another
//! Content-Type, 413 past the limit, 400 naming the field for anything malformed.
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::error_code::ErrorCode;
use super::json::ApiJson;

/// Request bodies above this answer 413 (docs/API.md conventions).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = declares_json(req.headers());
        if !is_json {
            return Err(unsupported(true));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(from_bytes_rejection)?;
        require_object(&bytes)?;
        #[allow(clippy::disallowed_types)] // reading only: its rejections name the field
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(from_json_rejection(rejection)),
        }
    }
}

/// A JSON body that may be absent: refresh and signout also take their token from a
/// cookie, and the tutorial's clients send those requests with no body at all.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = declares_json(req.headers());
        let has_content_type = req.headers().contains_key(header::CONTENT_TYPE);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(from_bytes_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        if !is_json {
            return Err(unsupported(has_content_type));
        }
        require_object(&bytes)?;
        serde_json::from_slice(&bytes)
            .map(|v| OptionalJson(Some(v)))
            .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
    }
}

/// serde reads a struct from a JSON array too (`["alice", "pw"]`); our bodies are objects.
fn require_object(bytes: &[u8]) -> Result<(), ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => Ok(()),
        Some(_) => Err(ApiError::bad_request(
            "Invalid request body: expected a JSON object.",
        )),
    }
}

fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_content_type)
}

fn is_json_content_type(value: &str) -> bool {
    let mime = value.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json")
}

fn unsupported(_has_content_type: bool) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
        "Content-Type must be application/json.",
    )
}

fn from_json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => unsupported(true),
        JsonRejection::JsonDataError(e) => ApiError::bad_request(format!(
            "Invalid request body: {}",
            inner_message(&e.body_text())
        )),
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::bad_request(format!("Malformed JSON: {}", inner_message(&e.body_text())))
        }
        JsonRejection::BytesRejection(e) => from_bytes_rejection(e),
        other => ApiError::bad_request(other.body_text()),
    }
}

fn from_bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::bad_request("Could not read the request body.")
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        "Request body is larger than 64 KiB.",
    )
}

/// axum's messages start with its own preamble; keep serde's part, which names the field.
fn inner_message(text: &str) -> &str {
    text.split_once(": ").map(|(_, rest)| rest).unwrap_or(text)
}
