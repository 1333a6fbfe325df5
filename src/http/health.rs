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
const READY_TIMEOUT: Duration = Duration::from_millis(1500);

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

/// The process is up, its database answers, and it hears the change feed (so its cache of
/// sessions can be believed; `PORTCULLIS_FEED_STALE_AFTER`).
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = Status), (status = 503, description = "the database does not answer, or the change feed was not heard within PORTCULLIS_FEED_STALE_AFTER", body = ErrorBody)))]
async fn ready(State(state): State<AppState>) -> Result<ApiJson<Status>, ApiError> {
    let not_ready = |message: String| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NotReady,
            message,
        )
        .retry_after(1)
    };
    if !state.cache.vouches() {
        return Err(not_ready(format!(
            "Change feed not heard for {} s (the bound is {} s): sessions ended on other nodes may be unknown here.",
            state.cache.feed_silent_for().as_secs(),
            state.cache.stale_after().as_secs()
        )));
    }
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(ApiJson(Status { status: "ready" })),
        _ => Err(not_ready("Database unavailable.".to_string())),
    }
}
