//! Forward authentication for reverse proxies (issue 15): nginx `auth_request`, Traefik
//! `forwardAuth` or Caddy `forward_auth` ask `GET /api/auth/forward` with the browser's
//! cookies (or its Authorization header) before they let a request through to an app.
//! The check never spends a refresh token (its answer goes to the proxy, which drops any
//! cookie on it): a browser whose access cookie lapsed is sent to `GET /api/auth/resume`,
//! where its cookie session is refreshed, and back.
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::domain::{PermissionName, RightsName, Role, RoleSet};
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::{ApiCaller, MaybeAuthUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(forward))
        .routes(routes!(resume))
}

/// The path of the route that refreshes a browser's session on the way back to an app.
pub const RESUME: &str = "/api/auth/resume";

pub const USER_HEADER: &str = "x-portcullis-user";
pub const USER_ID_HEADER: &str = "x-portcullis-user-id";
pub const ROLES_HEADER: &str = "x-portcullis-roles";
pub const GROUPS_HEADER: &str = "x-portcullis-groups";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ForwardQuery {
    /// A role the account must have: `user`, `moderator` or `admin` (an admin passes these
    /// checks, as on `/api/test/mod`), or one an admin defined (held, itself or through a
    /// group).
    role: Option<String>,
    /// A group the account must be in.
    group: Option<String>,
    /// A permission one of its roles must give, such as `invoices:write`.
    permission: Option<String>,
}

/// Whether `roles` satisfy `required`: the role itself, or admin, which outranks all.
fn allows(roles: RoleSet, required: Role) -> bool {
    roles.contains(required) || roles.contains(Role::Admin)
}

/// 200 with the account in headers when the request carries a live session or API key;
/// 401 when it does not; 403 when it lacks what `role`, `group` or `permission` ask (all
/// that are given must hold).
#[utoipa::path(get, path = "/api/auth/forward", tag = "account", params(ForwardQuery),
    responses((status = 200, description = "signed in: `X-Portcullis-User` (username), `X-Portcullis-User-Id`, `X-Portcullis-Roles` (comma-separated role names), `X-Portcullis-Groups` (comma-separated group names); no body"),
              (status = 400, description = "a malformed role, group or permission, or an unknown query parameter", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, description = "signed in without the role, group or permission asked for", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn forward(
    query: Result<Query<ForwardQuery>, axum::extract::rejection::QueryRejection>,
    ApiCaller(user): ApiCaller,
) -> Result<HeaderMap, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if let Some(name) = q.role.as_deref() {
        let held = match Role::from_name(name) {
            Some(role) => allows(user.roles, role),
            None => {
                RightsName::parse(name, "role").map_err(ApiError::bad_request)?;
                user.rights.has_role(name)
            }
        };
        if !held {
            return Err(ApiError::forbidden(
                "The account lacks the role this asks for.",
            ));
        }
    }
    if let Some(name) = q.group.as_deref() {
        RightsName::parse(name, "group").map_err(ApiError::bad_request)?;
        if !user.rights.in_group(name) {
            return Err(ApiError::forbidden(
                "The account is not in the group this asks for.",
            ));
        }
    }
    if let Some(name) = q.permission.as_deref() {
        PermissionName::parse(name).map_err(ApiError::bad_request)?;
        if !user.rights.has_permission(name) {
            return Err(ApiError::forbidden(
                "The account lacks the permission this asks for.",
            ));
        }
    }
    let roles: Vec<&str> = user
        .roles
        .iter()
        .map(|r| r.name())
        .chain(user.rights.roles.iter().map(|r| r.as_ref()))
        .collect();
    let groups: Vec<&str> = user.rights.groups.iter().map(AsRef::as_ref).collect();
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
    set(GROUPS_HEADER, groups.join(","))?;
    Ok(headers)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ResumeQuery {
    /// Where to go back to: a path on this host (`/app/page`), or an address on the public
    /// URL's origin or one of `PORTCULLIS_CORS_ORIGINS`.
    return_url: String,
}

/// Where a browser may be sent back to: a path on this host, or an address on an origin
/// the operator named. `None` for anything else (an open redirect otherwise).
fn allowed_return(state: &AppState, url: &str) -> Option<String> {
    if url.len() > 2048 || url.chars().any(|c| c.is_control() || c == ' ' || c == '\\') {
        return None;
    }
    if url.starts_with('/') && !url.starts_with("//") {
        return Some(url.to_string());
    }
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "https" | "http") || !parsed.username().is_empty() {
        return None;
    }
    let origin = parsed.origin().ascii_serialization();
    let public = url::Url::parse(&state.settings.public_base())
        .ok()
        .map(|u| u.origin().ascii_serialization());
    let named = public.as_deref() == Some(origin.as_str()) || state.cors_origins.contains(&origin);
    named.then(|| parsed.to_string())
}

/// Back to an app behind forward authentication. A browser whose access cookie lapsed was
/// refused by `GET /api/auth/forward` (which never spends a refresh token): here, a top-level
/// navigation, its cookie session is refreshed like on any other route and it goes back to
/// `returnUrl`; a browser that is not signed in goes to the login page, and then back.
#[utoipa::path(get, path = "/api/auth/resume", tag = "account", params(ResumeQuery),
    responses((status = 302, description = "signed in (the cookie session refreshed if it had to be): to `returnUrl`; not signed in: to `/login?returnUrl=…`"),
              (status = 400, description = "no `returnUrl`, or one on an origin not allowed", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn resume(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    query: Result<Query<ResumeQuery>, axum::extract::rejection::QueryRejection>,
    user: MaybeAuthUser,
) -> Result<Response, ApiError> {
    // A proxy cannot encode what it passes (nginx's `$request_uri` is the request line's
    // target as the browser sent it), so a `returnUrl` that is a raw path is the rest of
    // the query, taken as it is: decoding it would cut `?a=1&b=2` at the `&`.
    let raw = uri
        .query()
        .and_then(|q| q.strip_prefix("returnUrl="))
        .filter(|rest| rest.starts_with('/'));
    let return_url = match raw {
        Some(rest) => rest.to_string(),
        None => {
            let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
            q.return_url
        }
    };
    let back = allowed_return(&state, &return_url).ok_or_else(|| {
        ApiError::bad_request("returnUrl must be a path on this host or an allowed origin.")
    })?;
    let to = if user.0.is_some() {
        back
    } else if back.starts_with('/') {
        let mut login = url::form_urlencoded::Serializer::new(String::new());
        login.append_pair("returnUrl", &back);
        format!("/login?{}", login.finish())
    } else {
        "/login".to_string()
    };
    let mut response = Redirect::to(&to).into_response();
    *response.status_mut() = StatusCode::FOUND;
    Ok(response)
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
