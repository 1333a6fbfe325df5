//! The tutorial's four content routes, one per access level.
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::domain::Role;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::ApiCaller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(all))
        .routes(routes!(user))
        .routes(routes!(moderator))
        .routes(routes!(admin))
}

/// Anyone.
#[utoipa::path(get, path = "/api/test/all", tag = "test",
    responses((status = 200, content_type = "text/plain", body = String, example = "Public Content.")))]
async fn all() -> &'static str {
    "Public Content."
}

/// Any signed-in account.
#[utoipa::path(get, path = "/api/test/user", tag = "test",
    responses((status = 200, content_type = "text/plain", body = String, example = "User Content."), (status = 401, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("x-access-token" = []), ("cookie" = [])))]
async fn user(_user: ApiCaller) -> &'static str {
    "User Content."
}

/// Moderators and admins.
#[utoipa::path(get, path = "/api/test/mod", tag = "test",
    responses((status = 200, content_type = "text/plain", body = String, example = "Moderator Content."),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("x-access-token" = []), ("cookie" = [])))]
async fn moderator(ApiCaller(user): ApiCaller) -> Result<&'static str, ApiError> {
    if user.roles.contains(Role::Moderator) || user.roles.contains(Role::Admin) {
        Ok("Moderator Content.")
    } else {
        Err(ApiError::forbidden("Require Moderator Role!"))
    }
}

/// Admins.
#[utoipa::path(get, path = "/api/test/admin", tag = "test",
    responses((status = 200, content_type = "text/plain", body = String, example = "Admin Content."),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("x-access-token" = []), ("cookie" = [])))]
async fn admin(ApiCaller(user): ApiCaller) -> Result<&'static str, ApiError> {
    user.require(Role::Admin, "Require Admin Role!")?;
    Ok("Admin Content.")
}
