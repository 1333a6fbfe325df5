//! JSON answers: the one place that decides a JSON answer's Content-Type (docs/API.md
//! conventions: with its charset). `json_body` reads JSON requests into the same type.
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::error_code::ErrorCode;

/// A JSON body: read from a request (an extractor, `json_body`) or written as an answer.
pub struct ApiJson<T>(pub T);

/// The Content-Type of every JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => with_json_type(Response::new(Body::from(bytes))),
            // Only a map with non-string keys or a failing Serialize impl gets here: ours
            // are plain structs, so this is a bug worth a log line, not a client's fault.
            // The body is the error shape, written out: it cannot fail in turn.
            Err(e) => {
                tracing::error!(error = %e, "answer could not be serialized");
                let body = serde_json::json!({
                    "message": "Internal server error.",
                    "code": ErrorCode::Internal.as_str(),
                });
                let mut response = with_json_type(Response::new(Body::from(body.to_string())));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    }
}

fn with_json_type(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

/// For `#[serde(default, deserialize_with = "present")]`: a field that is present, even as
/// null, is `Some` (null: `Some(None)`), so that a `PATCH` can clear it.
pub fn present<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
