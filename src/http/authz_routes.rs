//! The decision endpoint (docs/API.md §2, "Asking whether a user may"): a resource server
//! that cannot read claims asks "may user U do P" and gets yes or no, from the session
//! cache like any request's check.
use axum::extract::State;
use axum::http::{header, HeaderMap};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::domain::{PermissionName, Role};
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::{authenticate, Keys};
use crate::http::json::ApiJson;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckRequest {
    /// The user asked about (or give `username`).
    user_id: Option<i64>,
    username: Option<String>,
    #[schema(example = "invoices:write")]
    permission: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckAnswer {
    allowed: bool,
    user_id: i64,
}

/// Who asks: a confidential client (its application roles' permissions count too), or an
/// account or API key holding `portcullis:authz:check` (or an admin).
enum Asker {
    Client(String),
    Account,
}

async fn asker(state: &AppState, parts: &axum::http::request::Parts) -> Result<Asker, ApiError> {
    let basic = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("basic "));
    if basic {
        let p = state.provider();
        let client = crate::http::oidc::client_auth::basic_client(&p, &parts.headers)
            .await
            .ok_or_else(ApiError::invalid_token)?;
        if client.public {
            return Err(ApiError::forbidden("Only a confidential client may ask."));
        }
        return Ok(Asker::Client(client.client_id.clone()));
    }
    let user = authenticate(state, parts, Keys::Accepted).await?;
    if user.roles.contains(Role::Admin) || user.rights.has_permission(PermissionName::AUTHZ_CHECK) {
        Ok(Asker::Account)
    } else {
        Err(ApiError::forbidden(
            "Asking needs the portcullis:authz:check permission.",
        ))
    }
}

/// Whether a user holds a permission now: an enabled account whose roles (its own or its
/// groups') give it. A client asking also counts its own application roles' permissions.
#[utoipa::path(post, path = "/api/authz/check", tag = "account", request_body = CheckRequest,
    responses((status = 200, body = CheckAnswer), (status = 400, body = ErrorBody),
              (status = 401, description = "no credentials, or wrong ones", body = ErrorBody),
              (status = 403, description = "a public client, or an account without portcullis:authz:check", body = ErrorBody),
              (status = 404, description = "no such user", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("basic" = []), ("bearer" = [])))]
async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<ApiJson<CheckAnswer>, ApiError> {
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    let asker = asker(&state, &parts).await?;
    PermissionName::parse(&body.permission).map_err(ApiError::bad_request)?;
    let user_id = match (body.user_id, body.username.as_deref()) {
        (Some(id), None) => id,
        // A username, not an address (which `find_by_login` would also take): no lookup.
        (None, Some(name)) if name.contains('@') => return Err(ApiError::not_found()),
        (None, Some(name)) => {
            crate::store::users::find_by_login(&state.db, name)
                .await?
                .ok_or_else(ApiError::not_found)?
                .id
        }
        _ => return Err(ApiError::bad_request("Give one of userId and username.")),
    };
    let db = &state.db;
    let user = state
        .cache
        .user(user_id, crate::store::users::auth_state(db, user_id))
        .await
        .map_err(|e| ApiError::database(&e))?
        .ok_or_else(ApiError::not_found)?;
    let allowed = !user.disabled
        && match &asker {
            Asker::Client(client) => user.rights.has_permission_for(client, &body.permission),
            Asker::Account => user.rights.has_permission(&body.permission),
        };
    Ok(ApiJson(CheckAnswer { allowed, user_id }))
}
