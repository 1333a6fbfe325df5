//! Upstream identity providers, for admins (docs/API.md §2, "Identity providers"): the
//! same use cases as `service::providers`. A client secret goes in and never comes out.
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::domain::ProviderConfig;
use crate::http::admin_routes::{actor, Admin};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::service::providers::{self, NewProvider, Ports, Provider, ProviderChange};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_providers, create_provider))
        .routes(routes!(get_provider, update_provider, delete_provider))
}

fn ports(state: &AppState) -> Ports<'_> {
    Ports {
        db: &state.db,
        clock: &state.clock,
        sealer: &state.provider_sealer,
    }
}

/// Where an OAuth 2 provider's user-info answer holds the account's fields: JSON pointers.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimPointersBody {
    #[schema(example = "/id")]
    id: String,
    #[schema(example = "/login")]
    username: Option<String>,
    #[schema(example = "/email")]
    email: Option<String>,
    email_verified: Option<String>,
}

/// Roles and groups from an upstream claim, at each sign-in with the provider.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleMappingBody {
    /// The claim read: a string or a list of strings (`groups`, `roles`, …); `orgs` for
    /// `github` (the person's organisations).
    #[schema(example = "groups")]
    claim: String,
    /// 1 to 50.
    rules: Vec<MappingRuleBody>,
}

/// When the claim holds `value`, the account has these roles and groups; a role or group
/// some rule names is taken away when no rule gives it.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingRuleBody {
    #[schema(example = "portcullis-moderators")]
    value: String,
    #[serde(default)]
    #[schema(example = json!(["moderator"]))]
    roles: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// A provider's settings. Which apply depends on `kind` (docs/API.md); a field of another
/// kind is refused.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSettings {
    #[schema(example = "Acme SSO")]
    display_name: String,
    /// A `data:image/svg+xml` or `data:image/png;base64` URL, at most 16 KiB.
    icon: Option<String>,
    /// `oidc` (required); `gitlab` (self-managed), `google`, `apple` (default their own).
    #[schema(example = "https://sso.example.com")]
    issuer: Option<String>,
    /// `github`: a GitHub Enterprise Server; `microsoft`: a national cloud's authority host.
    base_url: Option<String>,
    /// `microsoft`: a tenant id or domain, `common` (the default), `organizations`,
    /// `consumers`.
    tenant: Option<String>,
    /// `oauth2` only, as the next two and `claims`.
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    claims: Option<ClaimPointersBody>,
    #[schema(example = "portcullis")]
    client_id: String,
    /// `apple`: the team and key that sign the client secret (the key is `clientSecret`).
    team_id: Option<String>,
    key_id: Option<String>,
    /// Default: the kind's own (`openid email profile` for OpenID Connect).
    #[serde(default)]
    #[schema(example = json!(["openid", "email", "profile"]))]
    scopes: Vec<String>,
    /// `open`, `domains` (verified emails of `allowedDomains`) or `existing` (the default:
    /// no new accounts).
    #[serde(default)]
    #[schema(example = "existing")]
    signup: Option<String>,
    #[serde(default)]
    allowed_domains: Vec<String>,
    /// Its sign-in counts as both factors: no second step follows it.
    #[serde(default)]
    trusted_for_mfa: bool,
    role_mapping: Option<RoleMappingBody>,
}

/// A provider as admins see it: never its secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderItem {
    #[schema(example = "acme")]
    id: String,
    /// `oidc`, `oauth2`, `github`, `google`, `microsoft`, `gitlab` or `apple`.
    #[schema(example = "oidc")]
    kind: &'static str,
    #[serde(flatten)]
    settings: ProviderSettings,
    has_secret: bool,
    enabled: bool,
    /// Accounts' identities linked through it.
    identities: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Provider> for ProviderItem {
    type Error = ApiError;

    fn try_from(p: Provider) -> Result<Self, ApiError> {
        // The domain's settings as the answer's shape: every field present, unset ones null.
        let settings = serde_json::to_value(&p.config)
            .and_then(serde_json::from_value)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(ProviderItem {
            id: p.id,
            kind: p.kind.name(),
            settings,
            has_secret: p.has_secret,
            enabled: p.enabled,
            identities: p.identities,
            created_at: p.created_at,
            updated_at: p.updated_at,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProviderList {
    items: Vec<ProviderItem>,
}

/// A new provider: `id`, `kind`, `clientSecret`, `enabled`, and its settings (as
/// `ProviderSettings`).
// The schema of the body, which is read as a JSON object (`settings_of`) so that the
// settings reach the domain's checks whole.
#[allow(dead_code)]
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateProviderRequest {
    /// Its name in URLs: 1 to 32 of `a-z 0-9 -`, starting with a letter.
    #[schema(example = "acme")]
    id: String,
    #[schema(example = "oidc")]
    kind: String,
    /// Sealed with `PORTCULLIS_KEY_ENCRYPTION_KEY` when set; never answered.
    #[schema(value_type = Option<String>)]
    client_secret: Option<SecretString>,
    /// Default `true`.
    enabled: Option<bool>,
    #[schema(example = "Acme SSO")]
    display_name: String,
    icon: Option<String>,
    #[schema(example = "https://sso.example.com")]
    issuer: Option<String>,
    base_url: Option<String>,
    tenant: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    claims: Option<ClaimPointersBody>,
    #[schema(example = "portcullis")]
    client_id: String,
    team_id: Option<String>,
    key_id: Option<String>,
    scopes: Option<Vec<String>>,
    /// `open`, `domains` or `existing` (the default).
    signup: Option<String>,
    allowed_domains: Option<Vec<String>>,
    trusted_for_mfa: Option<bool>,
    role_mapping: Option<RoleMappingBody>,
}

/// What to change: any setting (null removes an optional one), `clientSecret` (null
/// removes it), `enabled`. `id` and `kind` stay.
#[allow(dead_code)]
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProviderRequest {
    #[schema(value_type = Option<String>)]
    client_secret: Option<SecretString>,
    enabled: Option<bool>,
    display_name: Option<String>,
    icon: Option<String>,
    signup: Option<String>,
    allowed_domains: Option<Vec<String>>,
    trusted_for_mfa: Option<bool>,
    scopes: Option<Vec<String>>,
    /// null removes it.
    role_mapping: Option<RoleMappingBody>,
}

/// Splits a JSON object body: `id`, `kind`, `clientSecret` and `enabled` stay in it, the
/// rest is returned as the provider's settings.
fn settings_of(body: &mut Map<String, Value>) -> Map<String, Value> {
    let mut settings = std::mem::take(body);
    for field in ["id", "kind", "clientSecret", "enabled"] {
        if let Some(value) = settings.remove(field) {
            body.insert(field.into(), value);
        }
    }
    settings
}

fn field<T: serde::de::DeserializeOwned>(
    body: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    match body.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("{name} has the wrong type."))),
    }
}

fn secret_field(body: &mut Map<String, Value>) -> Result<Option<Option<SecretString>>, ApiError> {
    match body.remove("clientSecret") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(SecretString::from(s)))),
        Some(_) => Err(ApiError::bad_request("clientSecret is a string.")),
    }
}

fn provider_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id).map_err(|_| ApiError::not_found())
}

/// Every provider, by id.
#[utoipa::path(get, path = "/api/admin/providers", tag = "admin",
    responses((status = 200, body = ProviderList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_providers(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> Result<ApiJson<ProviderList>, ApiError> {
    let items = providers::list(&state.db).await?;
    Ok(ApiJson(ProviderList {
        items: items
            .into_iter()
            .map(ProviderItem::try_from)
            .collect::<Result<_, _>>()?,
    }))
}

/// Configures a provider people may sign in with.
#[utoipa::path(post, path = "/api/admin/providers", tag = "admin", request_body = CreateProviderRequest,
    responses((status = 201, body = ProviderItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "the id is taken", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_provider(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, ApiJson<ProviderItem>), ApiError> {
    let settings = settings_of(&mut body);
    let id: String = field(&mut body, "id")?.ok_or(ApiError::bad_request("id is required."))?;
    let kind: String =
        field(&mut body, "kind")?.ok_or(ApiError::bad_request("kind is required."))?;
    let client_secret = secret_field(&mut body)?.flatten();
    let enabled = field(&mut body, "enabled")?.unwrap_or(true);
    let config: ProviderConfig = serde_json::from_value(Value::Object(settings))
        .map_err(|e| ApiError::bad_request(format!("The provider's settings: {e}.")))?;
    let new = NewProvider {
        id,
        kind,
        config,
        client_secret,
        enabled,
    };
    let created = providers::create(ports(&state), actor(&admin, &origin), new).await?;
    Ok((StatusCode::CREATED, ApiJson(created.try_into()?)))
}

/// One provider.
#[utoipa::path(get, path = "/api/admin/providers/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = ProviderItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn get_provider(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    path: Result<Path<String>, PathRejection>,
) -> Result<ApiJson<ProviderItem>, ApiError> {
    let id = provider_id(path)?;
    Ok(ApiJson(providers::get(&state.db, &id).await?.try_into()?))
}

/// Changes a provider's settings, secret or `enabled`; the result is checked whole.
#[utoipa::path(patch, path = "/api/admin/providers/{id}", tag = "admin", params(("id" = String, Path)),
    request_body = UpdateProviderRequest,
    responses((status = 200, body = ProviderItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn update_provider(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> Result<ApiJson<ProviderItem>, ApiError> {
    let id = provider_id(path)?;
    let settings = settings_of(&mut body);
    if body.contains_key("id") || body.contains_key("kind") {
        return Err(ApiError::bad_request(
            "A provider's id and kind do not change: delete it and create another.",
        ));
    }
    let change = ProviderChange {
        settings,
        client_secret: secret_field(&mut body)?,
        enabled: field(&mut body, "enabled")?,
    };
    let updated = providers::update(ports(&state), actor(&admin, &origin), &id, change).await?;
    Ok(ApiJson(updated.try_into()?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteProviderQuery {
    /// Unlink every account's identity at it too, instead of refusing (409 `in_use`).
    cascade: Option<bool>,
}

/// Deletes a provider. Refused (409 `in_use`) while accounts have identities at it,
/// unless `cascade=true`, which unlinks them.
#[utoipa::path(delete, path = "/api/admin/providers/{id}", tag = "admin",
    params(("id" = String, Path), DeleteProviderQuery),
    responses((status = 204, description = "deleted"), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "identities are linked through it, and no `cascade`", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn delete_provider(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<DeleteProviderQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let id = provider_id(path)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let cascade = q.cascade.unwrap_or(false);
    providers::delete(ports(&state), actor(&admin, &origin), &id, cascade).await?;
    Ok(StatusCode::NO_CONTENT)
}
