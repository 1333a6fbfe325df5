//! The applications a user let in: listed, and taken back.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::service::oidc;

use super::authorize::page_error;
use super::{CONSENT, CONSENTS};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentItem {
    client_id: String,
    name: String,
    scopes: Vec<String>,
    granted_at: String,
}

/// The applications the signed-in user let in, and with what.
#[utoipa::path(get, path = CONSENTS, tag = "openid",
    responses((status = 200, body = [ConsentItem]), (status = 401, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn list_consents(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<Vec<ConsentItem>>, ApiError> {
    let p = state.provider();
    let list = oidc::consents(&p, user.id).await.map_err(page_error)?;
    Ok(ApiJson(
        list.into_iter()
            .map(|c| ConsentItem {
                client_id: c.client_id,
                name: c.name,
                scopes: c.scopes,
                granted_at: rfc3339(c.created_at),
            })
            .collect(),
    ))
}

/// Takes back a consent: the application must ask again, and its sessions for this user end.
#[utoipa::path(delete, path = CONSENT, tag = "openid",
    params(("client_id" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 401, body = ErrorBody),
              (status = 403, description = "a cross-site request (`csrf`)", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn revoke_consent(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    user: AuthUser,
    origin: RequestOrigin,
) -> Result<StatusCode, ApiError> {
    let Path(client_id) = path.map_err(|_| ApiError::not_found())?;
    let p = state.provider();
    if oidc::revoke_consent(&p, user.id, &client_id, origin.client())
        .await
        .map_err(page_error)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}
