//! An account's identities at upstream providers (docs/API.md §2, "Signing in with a
//! provider"): the profile's list and unlink, and an admin's.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::http::admin_routes::{user_id, Admin};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::http::json_body::OptionalJson;
use crate::http::passkey_routes::Reauthentication;
use crate::service::identities::{self, Linked};
use crate::store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_own_identities))
        .routes(routes!(unlink_own_identity))
        .routes(routes!(list_user_identities))
        .routes(routes!(unlink_user_identity))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityItem {
    id: i64,
    /// The provider's id.
    #[schema(example = "acme")]
    provider: String,
    /// Its display name; null once the provider is gone.
    #[schema(example = "Acme SSO")]
    provider_name: Option<String>,
    /// The email the provider gave at the last sign-in.
    email: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
}

impl From<Linked> for IdentityItem {
    fn from(l: Linked) -> Self {
        IdentityItem {
            id: l.identity.id,
            provider: l.identity.provider_id,
            provider_name: l.provider_name,
            email: l.identity.email,
            created_at: rfc3339(l.identity.created_at),
            last_used_at: l.identity.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IdentityList {
    items: Vec<IdentityItem>,
}

fn identity_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("The identity id must be an integer."))
}

/// The signed-in account's identities at providers.
#[utoipa::path(get, path = "/api/auth/identities", tag = "account",
    responses((status = 200, body = IdentityList), (status = 401, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_own_identities(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<IdentityList>, ApiError> {
    let items = identities::of_user(&state.factors(), user.id).await?;
    Ok(ApiJson(IdentityList {
        items: items.into_iter().map(IdentityItem::from).collect(),
    }))
}

/// Unlinks one of the account's identities. Needs a recent sign-in or the password, and
/// is refused (409 `last_signin_method`) for the account's only way to sign in.
#[utoipa::path(delete, path = "/api/auth/identities/{id}", tag = "account",
    request_body(content = Option<Reauthentication>),
    params(("id" = i64, Path, description = "identity id")),
    responses((status = 204, description = "unlinked"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "not signed in recently (`reauthentication_required`) or a wrong password", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "the account's last way to sign in", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn unlink_own_identity(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    id: Result<Path<i64>, PathRejection>,
    OptionalJson(body): OptionalJson<Reauthentication>,
) -> Result<StatusCode, ApiError> {
    let id = identity_id(id)?;
    let password = body.and_then(|b| b.password);
    identities::unlink_own(
        &state.factors(),
        (user.id, &user.session_id),
        origin.client(),
        password,
        id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account's identities at providers.
#[utoipa::path(get, path = "/api/admin/users/{id}/identities", tag = "admin",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = IdentityList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_user_identities(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    id: Result<Path<i64>, PathRejection>,
) -> Result<ApiJson<IdentityList>, ApiError> {
    let id = user_id(id)?;
    store::users::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let items = identities::of_user(&state.factors(), id).await?;
    Ok(ApiJson(IdentityList {
        items: items.into_iter().map(IdentityItem::from).collect(),
    }))
}

/// Unlinks an account's identity (even its last way to sign in: the account can still
/// reset its password by mail).
#[utoipa::path(delete, path = "/api/admin/users/{id}/identities/{identity_id}", tag = "admin",
    params(("id" = i64, Path, description = "user id"), ("identity_id" = i64, Path, description = "identity id")),
    responses((status = 204, description = "unlinked"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn unlink_user_identity(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path((id, identity)) =
        path.map_err(|_| ApiError::bad_request("The ids must be integers."))?;
    identities::unlink_by_admin(&state.factors(), admin.id, origin.client(), id, identity).await?;
    Ok(StatusCode::NO_CONTENT)
}
