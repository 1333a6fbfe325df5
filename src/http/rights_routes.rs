//! Roles, permissions and groups, for admins (docs/API.md §2, "Roles, permissions and
//! groups"): the same use cases as `portcullis role …` and `portcullis group …`. Group
//! membership and a user's rights are also a manager's (`portcullis:users:manage`).
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::domain::PermissionName;
use crate::http::admin_routes::{actor, user_id, Admin, Manager};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::json::{present, ApiJson};
use crate::service::groups::{self, GroupChange, NewGroup};
use crate::service::roles::{self, NewRole, RoleChange};
use crate::store::{self, groups::GroupRecord, roles::PermissionRecord, roles::RoleRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(update_role, delete_role))
        .routes(routes!(list_permissions, create_permission))
        .routes(routes!(delete_permission))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(update_group, delete_group))
        .routes(routes!(list_members))
        .routes(routes!(add_member, remove_member))
        .routes(routes!(user_rights))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleItem {
    #[schema(example = "editor")]
    name: String,
    description: Option<String>,
    /// An application role's client: it appears only in that client's tokens.
    client_id: Option<String>,
    /// `user`, `moderator` or `admin`: cannot be renamed or deleted.
    built_in: bool,
    #[schema(example = json!(["invoices:write"]))]
    permissions: Vec<String>,
    /// Accounts given it themselves.
    users: i64,
    /// Groups that carry it.
    groups: i64,
}

impl From<RoleRecord> for RoleItem {
    fn from(r: RoleRecord) -> Self {
        RoleItem {
            built_in: r.built_in().is_some(),
            name: r.name,
            description: r.description,
            client_id: r.client_id,
            permissions: r.permissions,
            users: r.users,
            groups: r.groups,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoleList {
    items: Vec<RoleItem>,
}

/// Path names are looked up as given; a malformed path is a 404, as an unknown name is.
fn name(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(name)| name)
        .map_err(|_| ApiError::not_found())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CascadeQuery {
    /// Take it from every account, group or role that holds it, instead of refusing (409
    /// `in_use`) while any does.
    cascade: Option<bool>,
}

fn cascade(query: Result<Query<CascadeQuery>, QueryRejection>) -> Result<bool, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(q.cascade.unwrap_or(false))
}

/// Every role: the built-in three, then those admins defined, by name.
#[utoipa::path(get, path = "/api/admin/roles", tag = "admin",
    responses((status = 200, body = RoleList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_roles(
    State(state): State<AppState>,
    _manager: Manager,
) -> Result<ApiJson<RoleList>, ApiError> {
    let roles = store::roles::list(&state.db).await?;
    Ok(ApiJson(RoleList {
        items: roles.into_iter().map(RoleItem::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// 3 to 20 of `A-Z a-z 0-9 . _ -`, unique without regard to case (application roles
    /// included).
    #[schema(example = "editor")]
    name: String,
    description: Option<String>,
    /// Makes it an application role of this client.
    client_id: Option<String>,
    #[schema(example = json!(["invoices:write"]))]
    permissions: Option<Vec<String>>,
}

/// Defines a role.
#[utoipa::path(post, path = "/api/admin/roles", tag = "admin", request_body = CreateRoleRequest,
    responses((status = 201, body = RoleItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "the name is taken", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<CreateRoleRequest>,
) -> Result<(StatusCode, ApiJson<RoleItem>), ApiError> {
    let role = NewRole {
        name: body.name,
        description: body.description,
        client_id: body.client_id,
        permissions: body.permissions.unwrap_or_default(),
    };
    let created = roles::create_role(&state.notifier(), actor(&admin, &origin), role).await?;
    Ok((StatusCode::CREATED, ApiJson(created.into())))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRoleRequest {
    /// null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// Replaces the permissions it gives.
    permissions: Option<Vec<String>>,
}

/// Changes a role's description or permissions (built-in roles too); every holder's rights
/// follow on their next request, on every node.
#[utoipa::path(patch, path = "/api/admin/roles/{name}", tag = "admin", request_body = UpdateRoleRequest,
    params(("name" = String, Path, description = "the role's name, any case")),
    responses((status = 200, body = RoleItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn update_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<UpdateRoleRequest>,
) -> Result<ApiJson<RoleItem>, ApiError> {
    let name = name(path)?;
    let change = RoleChange {
        description: body.description,
        permissions: body.permissions,
    };
    let updated =
        roles::update_role(&state.notifier(), actor(&admin, &origin), &name, change).await?;
    Ok(ApiJson(updated.into()))
}

/// Deletes a role an admin defined. Refused (409 `in_use`) while an account or group holds
/// it, unless `cascade=true`.
#[utoipa::path(delete, path = "/api/admin/roles/{name}", tag = "admin",
    params(("name" = String, Path, description = "the role's name, any case"), CascadeQuery),
    responses((status = 204, description = "deleted"), (status = 400, description = "a built-in role", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "still held, and no `cascade`", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn delete_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<CascadeQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let name = name(path)?;
    let cascade = cascade(query)?;
    roles::delete_role(&state.notifier(), actor(&admin, &origin), &name, cascade).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionItem {
    #[schema(example = "invoices:write")]
    name: String,
    description: Option<String>,
    /// Portcullis's own (`portcullis:…`): cannot be deleted.
    built_in: bool,
    /// The roles that give it.
    roles: Vec<String>,
}

impl From<PermissionRecord> for PermissionItem {
    fn from(p: PermissionRecord) -> Self {
        PermissionItem {
            built_in: p.name.starts_with(PermissionName::RESERVED_PREFIX),
            name: p.name,
            description: p.description,
            roles: p.roles,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PermissionList {
    items: Vec<PermissionItem>,
}

/// Every permission, by name.
#[utoipa::path(get, path = "/api/admin/permissions", tag = "admin",
    responses((status = 200, body = PermissionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_permissions(
    State(state): State<AppState>,
    _manager: Manager,
) -> Result<ApiJson<PermissionList>, ApiError> {
    let all = store::roles::permissions(&state.db).await?;
    Ok(ApiJson(PermissionList {
        items: all.into_iter().map(PermissionItem::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePermissionRequest {
    /// 1 to 100 of `a-z 0-9 : . _ -`, starting with a letter or digit; not `portcullis:…`.
    #[schema(example = "invoices:write")]
    name: String,
    description: Option<String>,
}

/// Defines a permission, for roles to give.
#[utoipa::path(post, path = "/api/admin/permissions", tag = "admin", request_body = CreatePermissionRequest,
    responses((status = 201, body = PermissionItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "the name is taken", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_permission(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<CreatePermissionRequest>,
) -> Result<(StatusCode, ApiJson<PermissionItem>), ApiError> {
    let created = roles::create_permission(
        &state.notifier(),
        actor(&admin, &origin),
        &body.name,
        body.description.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(created.into())))
}

/// Deletes a permission. Refused (409 `in_use`) while a role gives it, unless
/// `cascade=true`.
#[utoipa::path(delete, path = "/api/admin/permissions/{name}", tag = "admin",
    params(("name" = String, Path), CascadeQuery),
    responses((status = 204, description = "deleted"), (status = 400, description = "a built-in permission", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "still given by a role, and no `cascade`", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn delete_permission(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<CascadeQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let name = name(path)?;
    let cascade = cascade(query)?;
    roles::delete_permission(&state.notifier(), actor(&admin, &origin), &name, cascade).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupItem {
    #[schema(example = "payments")]
    name: String,
    description: Option<String>,
    /// The roles it carries to its members.
    roles: Vec<String>,
    members: i64,
}

impl From<GroupRecord> for GroupItem {
    fn from(g: GroupRecord) -> Self {
        GroupItem {
            name: g.name,
            description: g.description,
            roles: g.roles,
            members: g.members,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GroupList {
    items: Vec<GroupItem>,
}

/// Every group, by name.
#[utoipa::path(get, path = "/api/admin/groups", tag = "admin",
    responses((status = 200, body = GroupList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_groups(
    State(state): State<AppState>,
    _manager: Manager,
) -> Result<ApiJson<GroupList>, ApiError> {
    let all = store::groups::list(&state.db).await?;
    Ok(ApiJson(GroupList {
        items: all.into_iter().map(GroupItem::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroupRequest {
    /// 3 to 20 of `A-Z a-z 0-9 . _ -`, unique without regard to case.
    #[schema(example = "payments")]
    name: String,
    description: Option<String>,
    /// The roles it carries (never `admin`).
    #[schema(example = json!(["editor"]))]
    roles: Option<Vec<String>>,
}

/// Defines a group.
#[utoipa::path(post, path = "/api/admin/groups", tag = "admin", request_body = CreateGroupRequest,
    responses((status = 201, body = GroupItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "the name is taken", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_group(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<CreateGroupRequest>,
) -> Result<(StatusCode, ApiJson<GroupItem>), ApiError> {
    let group = NewGroup {
        name: body.name,
        description: body.description,
        roles: body.roles.unwrap_or_default(),
    };
    let created = groups::create_group(&state.notifier(), actor(&admin, &origin), group).await?;
    Ok((StatusCode::CREATED, ApiJson(created.into())))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGroupRequest {
    /// null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// Replaces the roles it carries.
    roles: Option<Vec<String>>,
}

/// Changes a group's description or roles; its members' rights follow on their next
/// request, on every node.
#[utoipa::path(patch, path = "/api/admin/groups/{name}", tag = "admin", request_body = UpdateGroupRequest,
    params(("name" = String, Path, description = "the group's name, any case")),
    responses((status = 200, body = GroupItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn update_group(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<UpdateGroupRequest>,
) -> Result<ApiJson<GroupItem>, ApiError> {
    let name = name(path)?;
    let change = GroupChange {
        description: body.description,
        roles: body.roles,
    };
    let updated =
        groups::update_group(&state.notifier(), actor(&admin, &origin), &name, change).await?;
    Ok(ApiJson(updated.into()))
}

/// Deletes a group; its members lose what it carried.
#[utoipa::path(delete, path = "/api/admin/groups/{name}", tag = "admin",
    params(("name" = String, Path, description = "the group's name, any case")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn delete_group(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let name = name(path)?;
    groups::delete_group(&state.notifier(), actor(&admin, &origin), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberItem {
    id: i64,
    username: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberPage {
    items: Vec<MemberItem>,
    page: i64,
    limit: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// From 1.
    #[param(minimum = 1)]
    page: Option<i64>,
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// A group's members by username, a page at a time.
#[utoipa::path(get, path = "/api/admin/groups/{name}/members", tag = "admin",
    params(("name" = String, Path, description = "the group's name, any case"), PageQuery),
    responses((status = 200, body = MemberPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_members(
    State(state): State<AppState>,
    _manager: Manager,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<ApiJson<MemberPage>, ApiError> {
    let name = name(path)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let page = q.page.unwrap_or(1);
    let limit = q.limit.unwrap_or(50);
    if !(1..=1_000_000).contains(&page) || !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            "page must be 1 to 1000000 and limit 1 to 100.",
        ));
    }
    let group = store::groups::find(&state.db, &name)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let members = store::groups::members(&state.db, group.id, (page - 1) * limit, limit).await?;
    Ok(ApiJson(MemberPage {
        items: members
            .into_iter()
            .map(|m| MemberItem {
                id: m.user_id,
                username: m.username,
            })
            .collect(),
        page,
        limit,
    }))
}

fn member_path(
    path: Result<Path<(String, i64)>, PathRejection>,
) -> Result<(String, i64), ApiError> {
    path.map(|Path(p)| p)
        .map_err(|_| ApiError::bad_request("The user id must be an integer."))
}

/// Puts an account in a group (idempotent). A manager may, for a group whose every role it
/// holds.
#[utoipa::path(put, path = "/api/admin/groups/{name}/members/{id}", tag = "admin",
    params(("name" = String, Path, description = "the group's name, any case"), ("id" = i64, Path, description = "user id")),
    responses((status = 204, description = "a member"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, description = "no such group or user", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn add_member(
    State(state): State<AppState>,
    Manager(manager): Manager,
    origin: RequestOrigin,
    path: Result<Path<(String, i64)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (group, user_id) = member_path(path)?;
    let actor = actor(&manager, &origin);
    groups::set_membership(&state.notifier(), actor, &group, user_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes an account out of a group (idempotent).
#[utoipa::path(delete, path = "/api/admin/groups/{name}/members/{id}", tag = "admin",
    params(("name" = String, Path, description = "the group's name, any case"), ("id" = i64, Path, description = "user id")),
    responses((status = 204, description = "not a member"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, description = "no such group or user", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn remove_member(
    State(state): State<AppState>,
    Manager(manager): Manager,
    origin: RequestOrigin,
    path: Result<Path<(String, i64)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (group, user_id) = member_path(path)?;
    let actor = actor(&manager, &origin);
    groups::set_membership(&state.notifier(), actor, &group, user_id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A role an account holds, and where from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeldRole {
    name: String,
    /// An application role's client.
    client_id: Option<String>,
    /// `own`, or the group it comes through.
    #[schema(example = json!(["own", "payments"]))]
    from: Vec<String>,
}

/// A permission an account holds, and the roles that give it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeldPermission {
    name: String,
    /// Within this client only (an application role gives it).
    client_id: Option<String>,
    roles: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRights {
    id: i64,
    username: String,
    roles: Vec<HeldRole>,
    groups: Vec<String>,
    permissions: Vec<HeldPermission>,
}

/// A user's effective rights and where each comes from: roles (their own, or which group's),
/// groups, and the permissions the roles give.
#[utoipa::path(get, path = "/api/admin/users/{id}/rights", tag = "admin",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserRights), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn user_rights(
    State(state): State<AppState>,
    _manager: Manager,
    path: Result<Path<i64>, PathRejection>,
) -> Result<ApiJson<UserRights>, ApiError> {
    let id = user_id(path)?;
    let db = &state.db;
    let user = store::users::find_by_id(db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let sources = store::rights::role_sources(db, id).await?;
    let defined = store::roles::list(db).await?;
    let mut roles: Vec<HeldRole> = Vec::new();
    for (role_id, group) in sources {
        let Some(role) = defined.iter().find(|r| r.id == role_id) else {
            continue;
        };
        let from = group.unwrap_or_else(|| "own".to_string());
        match roles.iter_mut().find(|h| h.name == role.name) {
            Some(held) => held.from.push(from),
            None => roles.push(HeldRole {
                name: role.name.clone(),
                client_id: role.client_id.clone(),
                from: vec![from],
            }),
        }
    }
    let mut permissions: Vec<HeldPermission> = Vec::new();
    for held in &roles {
        let Some(role) = defined.iter().find(|r| r.name == held.name) else {
            continue;
        };
        for permission in &role.permissions {
            let found = permissions
                .iter_mut()
                .find(|p| &p.name == permission && p.client_id == role.client_id);
            match found {
                Some(p) => p.roles.push(role.name.clone()),
                None => permissions.push(HeldPermission {
                    name: permission.clone(),
                    client_id: role.client_id.clone(),
                    roles: vec![role.name.clone()],
                }),
            }
        }
    }
    permissions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ApiJson(UserRights {
        id,
        username: user.username,
        roles,
        groups: store::rights::groups_of(db, id).await?,
        permissions,
    }))
}
