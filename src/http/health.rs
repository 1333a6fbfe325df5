//! Liveness (the process answers) and readiness (the database answers too).
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::json::ApiJson;

/// How long readiness waits for the database before calling it unavailable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = Status)))]
async fn live() -> ApiJson<Status> {
    ApiJson(Status { status: "ok" })
}

/// The process is up and its database answers.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = Status), (status = 503, description = "database unavailable", body = ErrorBody)))]
async fn ready(State(state): State<AppState>) -> Result<ApiJson<Status>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(ApiJson(Status { status: "ready" })),
        _ => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NotReady,
            "Database unavailable.",
        )),
    }
}
