//! Forward authentication for reverse proxies (issue 15): nginx `auth_request`, Traefik
//! `forwardAuth` or Caddy `forward_auth` ask `GET /api/auth/forward` with the browser's
//! cookies (or its Authorization header) before they let a request through to an app.
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::domain::{Role, RoleSet};
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(forward))
}

pub const USER_HEADER: &str = "x-portcullis-user";
pub const USER_ID_HEADER: &str = "x-portcullis-user-id";
pub const ROLES_HEADER: &str = "x-portcullis-roles";

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ForwardQuery {
    /// A role the account must have: `user`, `moderator` or `admin` (an admin passes every
    /// check, as on `/api/test/mod`).
    role: Option<String>,
}

/// Whether `roles` satisfy `required`: the role itself, or admin, which outranks all.
fn allows(roles: RoleSet, required: Role) -> bool {
    roles.contains(required) || roles.contains(Role::Admin)
}

/// 200 with the account in headers when the request carries a live session; 401 when it
/// does not; 403 when it lacks `?role=`.
#[utoipa::path(get, path = "/api/auth/forward", tag = "account", params(ForwardQuery),
    responses((status = 200, description = "signed in: `X-Portcullis-User` (username), `X-Portcullis-User-Id`, `X-Portcullis-Roles` (comma-separated role names); no body"),
              (status = 400, description = "an unknown role or query parameter", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, description = "signed in without the role asked for", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn forward(
    query: Result<Query<ForwardQuery>, axum::extract::rejection::QueryRejection>,
    user: AuthUser,
) -> Result<HeaderMap, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let required = match q.role.as_deref() {
        None => None,
        Some(name) => Some(
            Role::from_name(name)
                .ok_or_else(|| ApiError::bad_request("role must be user, moderator or admin."))?,
        ),
    };
    if let Some(role) = required {
        if !allows(user.roles, role) {
            return Err(ApiError::forbidden(
                "The account lacks the role this asks for.",
            ));
        }
    }
    let roles: Vec<&str> = user.roles.iter().map(Role::name).collect();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| -> Result<(), ApiError> {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| ApiError::internal(&"a header value that is not printable"))?;
        headers.insert(HeaderName::from_static(name), value);
        Ok(())
    };
    set(USER_HEADER, user.username.to_string())?;
    set(USER_ID_HEADER, user.id.to_string())?;
    set(ROLES_HEADER, roles.join(","))?;
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_passes_every_role_check_and_a_user_only_its_own() {
        let user: RoleSet = [Role::User].into_iter().collect();
        let moderator: RoleSet = [Role::User, Role::Moderator].into_iter().collect();
        let admin: RoleSet = [Role::User, Role::Admin].into_iter().collect();
        assert!(allows(user, Role::User));
        assert!(!allows(user, Role::Moderator));
        assert!(allows(moderator, Role::Moderator));
        assert!(!allows(moderator, Role::Admin));
        assert!(allows(admin, Role::Moderator));
        assert!(allows(admin, Role::Admin));
    }
}
