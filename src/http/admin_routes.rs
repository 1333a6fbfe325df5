//! Administration (docs/API.md §2): users with search and paging, role changes, disabling,
//! deletion, and the audit trail. Admins only.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::domain::{PermissionName, Role};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::extractors::{ApiCaller, AuthUser};
use crate::http::json::ApiJson;
use crate::service::admin::{self, Actor, KeyLimit, UserChange};
use crate::service::factors;
use crate::store::{self, audit::Via, users::UserRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(update_user, delete_user))
        .routes(routes!(reset_factors))
        .routes(routes!(list_audit))
}

/// An admin, or 403.
pub struct Admin(pub AuthUser);

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let ApiCaller(user) = ApiCaller::from_request_parts(parts, state).await?;
        user.require(Role::Admin, "Require Admin Role!")?;
        Ok(Admin(user))
    }
}

/// An admin, or an account whose roles give `portcullis:users:manage` (it may list users
/// and change their roles and groups within the roles it holds itself), or 403.
pub struct Manager(pub AuthUser);

impl axum::extract::FromRequestParts<AppState> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let ApiCaller(user) = ApiCaller::from_request_parts(parts, state).await?;
        if user.roles.contains(Role::Admin)
            || user.rights.has_permission(PermissionName::MANAGE_USERS)
        {
            Ok(Manager(user))
        } else {
            Err(ApiError::forbidden("Require Admin Role!"))
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserItem {
    id: i64,
    username: String,
    email: String,
    /// Every role that holds for every client, its own and its groups'.
    #[schema(example = json!(["ROLE_USER"]))]
    roles: Vec<String>,
    /// The roles given to the account itself, by name: what `PATCH` replaces.
    #[schema(example = json!(["user", "editor"]))]
    own_roles: Vec<String>,
    /// An account for machines: it never signs in, only its API keys act.
    service_account: bool,
    disabled: bool,
    created_at: String,
    last_signin_at: Option<String>,
    /// The address was proven its owner's by a link mailed to it.
    email_verified: bool,
    /// A TOTP app is enabled.
    totp: bool,
    /// How many passkeys the account has (each also a second factor).
    passkeys: i64,
}

impl From<UserRecord> for UserItem {
    fn from(u: UserRecord) -> Self {
        UserItem {
            id: u.id,
            roles: u.authorities(),
            own_roles: u.own_role_names(),
            service_account: u.service_account,
            disabled: u.disabled,
            created_at: rfc3339(u.created_at),
            last_signin_at: u.last_signin_at.map(rfc3339),
            email_verified: u.email_verified_at.is_some(),
            totp: false,
            passkeys: 0,
            username: u.username,
            email: u.email,
        }
    }
}

/// The users as the admin API shows them, with their second factors.
async fn items(state: &AppState, users: Vec<UserRecord>) -> Result<Vec<UserItem>, ApiError> {
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let totp = store::totp::enabled_among(&state.db, &ids).await?;
    let passkeys = store::passkeys::counts(&state.db, &ids).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let id = u.id;
            UserItem {
                totp: totp.contains(&id),
                passkeys: passkeys.get(&id).copied().unwrap_or(0),
                ..UserItem::from(u)
            }
        })
        .collect())
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    items: Vec<UserItem>,
    total: i64,
    page: i64,
    limit: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// A username or email prefix, any case.
    query: Option<String>,
    /// From 1.
    #[param(minimum = 1)]
    page: Option<i64>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

const MAX_LIMIT: i64 = 100;

/// Users ordered by id, optionally filtered by a username or email prefix.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(UserQuery),
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_users(
    State(state): State<AppState>,
    _manager: Manager,
    query: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ApiJson<UserPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let page = q.page.unwrap_or(1);
    let limit = q.limit.unwrap_or(20);
    if !(1..=1_000_000).contains(&page) {
        return Err(ApiError::bad_request("page must be 1 to 1000000."));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}."
        )));
    }
    let prefix = q.query.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if prefix.is_some_and(|p| p.chars().count() > 254 || p.chars().any(char::is_control)) {
        return Err(ApiError::bad_request(
            "query must be at most 254 printable characters.",
        ));
    }
    let (users, total) = store::users::list(&state.db, prefix, (page - 1) * limit, limit).await?;
    Ok(ApiJson(UserPage {
        items: items(&state, users).await?,
        total,
        page,
        limit,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// The roles to give the account itself, by name: user, moderator, admin, or any an
    /// admin defined. `user` is always kept. Replaces its own roles (not its groups').
    roles: Option<Vec<String>>,
    disabled: Option<bool>,
}

/// The `{id}` of a user route: a malformed one gets our JSON 400, not axum's plain text.
pub(crate) fn user_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("The user id must be an integer."))
}

pub(crate) fn actor<'a>(admin: &'a AuthUser, origin: &'a RequestOrigin) -> Actor<'a> {
    Actor::Admin {
        id: admin.id,
        ip: &origin.ip_text,
        user_agent: origin.user_agent.as_deref(),
        key: admin.api_key.map(|_| KeyLimit {
            roles: admin.roles,
            rights: &admin.rights,
        }),
    }
}

/// Changes a user's roles or disabled flag; effective on their very next request. A
/// manager (`portcullis:users:manage`) may change roles only, only roles it holds, and
/// never an admin's.
#[utoipa::path(patch, path = "/api/admin/users/{id}", tag = "admin", request_body = UserUpdate,
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn update_user(
    State(state): State<AppState>,
    Manager(admin): Manager,
    origin: RequestOrigin,
    id: Result<Path<i64>, PathRejection>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> Result<ApiJson<UserItem>, ApiError> {
    let id = user_id(id)?;
    let change = UserChange {
        roles: body.roles,
        disabled: body.disabled,
    };
    let actor = actor(&admin, &origin);
    let notify = state.notifier();
    let updated = admin::update_user(&notify, actor, id, change).await?;
    let mut items = items(&state, vec![updated]).await?;
    items.pop().map(ApiJson).ok_or_else(ApiError::not_found)
}

/// Deletes a user; their tokens stop working at once.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 204, description = "deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn delete_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = user_id(id)?;
    let notify = state.notifier();
    admin::delete_user(&notify, actor(&admin, &origin), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a user's TOTP app, recovery codes and passkeys (a user who lost them).
#[utoipa::path(delete, path = "/api/admin/users/{id}/mfa", tag = "admin",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = MessageBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn reset_factors(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    id: Result<Path<i64>, PathRejection>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    let id = user_id(id)?;
    factors::reset(&state.factors(), admin.id, origin.client(), id).await?;
    Ok(ApiJson(MessageBody::new("Second factors removed.")))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditItem {
    id: i64,
    at: String,
    #[schema(example = "signin")]
    event: String,
    outcome: AuditOutcome,
    actor_id: Option<i64>,
    /// The actor's username now; none when the account is gone (or for the command line).
    actor_username: Option<String>,
    subject_id: Option<i64>,
    /// The subject's username now; none when the account is gone.
    subject_username: Option<String>,
    /// The username as the event recorded it (what was typed, for a failed sign-in).
    username: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    via: AuditVia,
    /// The OpenID Connect client the event concerns, for the client and consent events.
    client_id: Option<String>,
    /// What a change to roles, groups, permissions or keys was about, and what changed.
    detail: Option<String>,
}

/// Whether the audited step worked.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    Ok,
    Failed,
}

/// `api`, or `cli` for a change made with the command line (no actor, no address).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuditVia {
    Api,
    Cli,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditItem>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Only events with an id below this one (the last id of the previous page).
    before: Option<i64>,
}

/// The audit trail, newest first.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_audit(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}."
        )));
    }
    let records = store::audit::list(&state.db, limit, q.before).await?;
    Ok(ApiJson(AuditPage {
        items: records
            .into_iter()
            .map(|r| AuditItem {
                id: r.id,
                at: rfc3339(r.at),
                event: r.event,
                outcome: if r.ok {
                    AuditOutcome::Ok
                } else {
                    AuditOutcome::Failed
                },
                actor_id: r.actor_id,
                actor_username: r.actor_username,
                subject_id: r.subject_id,
                subject_username: r.subject_username,
                username: r.username,
                ip: r.ip,
                user_agent: r.user_agent,
                via: match r.via {
                    Via::Api => AuditVia::Api,
                    Via::Cli => AuditVia::Cli,
                },
                client_id: r.client_id,
                detail: r.detail,
            })
            .collect(),
    }))
}
