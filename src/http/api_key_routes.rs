//! API keys (docs/API.md §2, "API keys and service accounts"): a signed-in user's own, and
//! an admin's view of anyone's, with keys made for service accounts.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::http::admin_routes::{actor, user_id, Admin};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::service::api_keys::{self, KeyError, KeyRequest};
use crate::store::{self, api_keys::ApiKeyRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_own, create_own))
        .routes(routes!(revoke_own))
        .routes(routes!(create_service_account))
        .routes(routes!(list_of_user, create_for_service_account))
        .routes(routes!(revoke_of_user))
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Invalid(message) => ApiError::bad_request(message),
            KeyError::NotHeld(message) => ApiError::new(
                StatusCode::FORBIDDEN,
                crate::http::error_code::ErrorCode::Forbidden,
                message,
            ),
            KeyError::TooMany => ApiError::new(
                StatusCode::CONFLICT,
                crate::http::error_code::ErrorCode::TooManyApiKeys,
                format!(
                    "An account has at most {} live API keys; revoke one first.",
                    api_keys::MAX_LIVE_KEYS
                ),
            ),
            KeyError::NotFound => ApiError::not_found(),
            KeyError::Admin(e) => e.into(),
            KeyError::Db(e) => e.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyItem {
    id: i64,
    name: String,
    /// The key's first characters, to tell keys apart.
    #[schema(example = "pck_Xy3kQ9ab")]
    prefix: String,
    roles: Vec<String>,
    permissions: Vec<String>,
    created_at: String,
    expires_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    /// The admin who made it (a service account's key).
    created_by: Option<i64>,
    /// Only in the answer to its creation: the key itself, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl ApiKeyItem {
    fn of(k: ApiKeyRecord, key: Option<String>) -> Self {
        ApiKeyItem {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            roles: k.roles,
            permissions: k.permissions,
            created_at: rfc3339(k.created_at),
            expires_at: rfc3339(k.expires_at),
            last_used_at: k.last_used_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
            created_by: k.created_by,
            key,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    items: Vec<ApiKeyItem>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// 1 to 64 printable characters.
    #[schema(example = "billing script")]
    name: String,
    /// 1 to 365; default 90.
    expires_in_days: Option<i64>,
    /// Roles the account holds that the key may use (none: only `user`).
    #[schema(example = json!(["editor"]))]
    roles: Option<Vec<String>>,
    /// Permissions the account holds that the key may use.
    #[schema(example = json!(["invoices:write"]))]
    permissions: Option<Vec<String>>,
    /// The account's password, when it did not sign in within the last 10 minutes (a key
    /// outlives the session: a stolen session alone must not mint one). Ignored for a
    /// service account's key, which an admin makes.
    #[schema(value_type = Option<String>)]
    password: Option<secrecy::SecretString>,
}

impl From<CreateApiKeyRequest> for KeyRequest {
    fn from(body: CreateApiKeyRequest) -> Self {
        KeyRequest {
            name: body.name,
            expires_in_days: body.expires_in_days,
            roles: body.roles.unwrap_or_default(),
            permissions: body.permissions.unwrap_or_default(),
        }
    }
}

/// The account's API keys, newest first (revoked and expired ones too).
#[utoipa::path(get, path = "/api/auth/api-keys", tag = "account",
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorBody),
              (status = 403, description = "an API key cannot list keys", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_own(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<ApiKeyList>, ApiError> {
    let keys = store::api_keys::of_user(&state.db, user.id).await?;
    Ok(ApiJson(ApiKeyList {
        items: keys.into_iter().map(|k| ApiKeyItem::of(k, None)).collect(),
    }))
}

/// Makes an API key with some of the account's roles and permissions; the key is in this
/// answer only. Needs a sign-in within the last 10 minutes, or the password again. It works as `Authorization: Bearer` on the API and at forward
/// authentication, never on the account itself (password, factors, sessions, keys).
#[utoipa::path(post, path = "/api/auth/api-keys", tag = "account", request_body = CreateApiKeyRequest,
    responses((status = 201, body = ApiKeyItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "a role or permission the account does not hold, an API key, not signed in recently (`reauthentication_required`), or a wrong password", body = ErrorBody),
              (status = 409, description = "too many live keys", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_own(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    ApiJson(mut body): ApiJson<CreateApiKeyRequest>,
) -> Result<(StatusCode, ApiJson<ApiKeyItem>), ApiError> {
    crate::service::factors::require_recent(
        &state.factors(),
        user.id,
        &user.session_id,
        origin.client(),
        body.password.take(),
        crate::audit::Event::ApiKeyCreated,
    )
    .await?;
    let owner = crate::domain::UserState {
        username: user.username.clone(),
        roles: user.roles,
        rights: user.rights.clone(),
        service_account: false,
        disabled: false,
        email: user.email.clone(),
        email_verified: user.email_verified,
        created_at: user.created_at,
    };
    let made = api_keys::create(
        &state.notifier(),
        (user.id, &user.username),
        &owner,
        body.into(),
        None,
        origin.client().entry(Some(user.id), None, None),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ApiKeyItem::of(made.record, Some(made.key))),
    ))
}

fn key_id(path: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("The key id must be an integer."))
}

/// Revokes one of the account's keys: it stops working on every node at once.
#[utoipa::path(delete, path = "/api/auth/api-keys/{id}", tag = "account",
    params(("id" = i64, Path, description = "key id")),
    responses((status = 204, description = "revoked"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "an API key cannot revoke keys", body = ErrorBody),
              (status = 404, description = "no such live key of the account", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn revoke_own(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    path: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = key_id(path)?;
    let entry = origin.client().entry(Some(user.id), None, None);
    api_keys::revoke(&state.notifier(), (user.id, &user.username), id, entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateServiceAccountRequest {
    /// The username rules: 3 to 20 of `A-Z a-z 0-9 . _ -`.
    #[schema(example = "billing-bot")]
    username: String,
    description: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountItem {
    id: i64,
    username: String,
}

/// Makes a service account: an account for machines that never signs in; give it roles
/// and groups as any account, and keys with `POST /api/admin/users/{id}/api-keys`.
#[utoipa::path(post, path = "/api/admin/service-accounts", tag = "admin", request_body = CreateServiceAccountRequest,
    responses((status = 201, body = ServiceAccountItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "the username is taken", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_service_account(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<CreateServiceAccountRequest>,
) -> Result<(StatusCode, ApiJson<ServiceAccountItem>), ApiError> {
    let id = api_keys::create_service_account(
        &state.notifier(),
        actor(&admin, &origin),
        &state.hasher,
        &body.username,
        body.description.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ServiceAccountItem {
            id,
            username: body.username,
        }),
    ))
}

/// Any account's API keys, newest first.
#[utoipa::path(get, path = "/api/admin/users/{id}/api-keys", tag = "admin",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = ApiKeyList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_of_user(
    State(state): State<AppState>,
    _admin: Admin,
    path: Result<Path<i64>, PathRejection>,
) -> Result<ApiJson<ApiKeyList>, ApiError> {
    let id = user_id(path)?;
    if store::users::find_by_id(&state.db, id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    let keys = store::api_keys::of_user(&state.db, id).await?;
    Ok(ApiJson(ApiKeyList {
        items: keys.into_iter().map(|k| ApiKeyItem::of(k, None)).collect(),
    }))
}

/// Makes a key for a service account, within the roles and permissions it holds; the key
/// is in this answer only.
#[utoipa::path(post, path = "/api/admin/users/{id}/api-keys", tag = "admin", request_body = CreateApiKeyRequest,
    params(("id" = i64, Path, description = "the service account's user id")),
    responses((status = 201, body = ApiKeyItem), (status = 400, description = "not a service account, or a malformed request", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, description = "a role or permission the account does not hold", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "too many live keys", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_for_service_account(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> Result<(StatusCode, ApiJson<ApiKeyItem>), ApiError> {
    let id = user_id(path)?;
    let owner = store::users::auth_state(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !owner.service_account {
        return Err(ApiError::bad_request(
            "Keys are made for service accounts only; a person makes their own.",
        ));
    }
    let by = actor(&admin, &origin).entry(Some(id), None);
    let made = api_keys::create(
        &state.notifier(),
        (id, &owner.username),
        &owner,
        body.into(),
        Some(by.clone()),
        by,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ApiKeyItem::of(made.record, Some(made.key))),
    ))
}

/// Revokes any account's key.
#[utoipa::path(delete, path = "/api/admin/users/{id}/api-keys/{key_id}", tag = "admin",
    params(("id" = i64, Path, description = "user id"), ("key_id" = i64, Path, description = "key id")),
    responses((status = 204, description = "revoked"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, description = "no such live key of the account", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn revoke_of_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path((id, key)) = path.map_err(|_| ApiError::bad_request("The ids must be integers."))?;
    let owner = store::users::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let entry = actor(&admin, &origin).entry(Some(id), None);
    api_keys::revoke(&state.notifier(), (id, &owner.username), key, entry).await?;
    Ok(StatusCode::NO_CONTENT)
}
