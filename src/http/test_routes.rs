//! The tutorial's four content routes, one per access level.
use axum::routing::get;
use axum::Router;

use crate::app::AppState;
use crate::auth::extractors::AuthUser;
use crate::domain::Role;
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/test/all", get(all))
        .route("/api/test/user", get(user))
        .route("/api/test/mod", get(moderator))
        .route("/api/test/admin", get(admin))
}

async fn all() -> &'static str {
    "Public Content."
}

async fn user(_user: AuthUser) -> &'static str {
    "User Content."
}

async fn moderator(user: AuthUser) -> Result<&'static str, ApiError> {
    if user.roles.contains(Role::Moderator) || user.roles.contains(Role::Admin) {
        Ok("Moderator Content.")
    } else {
        Err(ApiError::forbidden("Require Moderator Role!"))
    }
}

async fn admin(user: AuthUser) -> Result<&'static str, ApiError> {
    user.require(Role::Admin, "Require Admin Role!")?;
    Ok("Admin Content.")
}
