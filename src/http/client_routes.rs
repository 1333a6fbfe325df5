//! OpenID Connect clients, for admins (docs/API.md §5, "Clients"): the same use case as
//! `portcullis client create`.
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::clock::{rfc3339, Millis};
use crate::http::admin_routes::{actor, Admin};
use crate::http::branding_routes::{checked_logo, client_logo_url};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::json::{present, ApiJson};
use crate::service::clients::{self, ClientChange, ClientError, ClientSettings, NewClient};
use crate::store::oauth_clients::ClientRecord;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(update_client, delete_client))
        .routes(routes!(set_client_logo, remove_client_logo))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientItem {
    client_id: String,
    name: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    /// No secret: a browser or native app, which must use PKCE.
    public: bool,
    scopes: Vec<String>,
    /// The algorithm its ID tokens are signed with.
    #[schema(example = "RS256")]
    id_token_signed_response_alg: String,
    /// The grants it may use (its registered ones, else its kind's defaults).
    #[schema(example = json!(["authorization_code", "refresh_token"]))]
    grant_types: Vec<String>,
    /// Its access tokens' lifetime in seconds; null: the server's.
    access_token_lifetime: Option<i64>,
    /// Where its back-channel logout tokens go; null: none.
    backchannel_logout_uri: Option<String>,
    /// Its authorization requests must come through the PAR endpoint.
    require_pushed_authorization_requests: bool,
    /// Its tokens must be DPoP-bound.
    dpop_bound_access_tokens: bool,
    /// Its users are not asked for consent.
    first_party: bool,
    /// Its logo, shown on the sign-in and consent pages, naming its version; null: none.
    #[schema(example = "/api/branding/clients/notes/logo?v=1733550000000")]
    logo_url: Option<String>,
    created_at: String,
    /// Only in the answer to its creation, for a confidential client: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

impl ClientItem {
    fn of(c: ClientRecord, secret: Option<String>, logo: Option<Millis>) -> Self {
        let alg = clients::id_token_alg(&c).name().to_string();
        let grant_types = clients::grant_types(&c)
            .into_iter()
            .map(String::from)
            .collect();
        Self {
            grant_types,
            access_token_lifetime: c.access_token_ttl,
            backchannel_logout_uri: c.backchannel_logout_uri,
            require_pushed_authorization_requests: c.require_par,
            dpop_bound_access_tokens: c.require_dpop,
            first_party: c.first_party,
            logo_url: logo.map(|v| client_logo_url(&c.client_id, v)),
            id_token_signed_response_alg: alg,
            client_id: c.client_id,
            name: c.name,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_uris,
            public: c.public,
            scopes: c.scopes,
            created_at: rfc3339(c.created_at),
            client_secret: secret,
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid(why) => ApiError::bad_request(why),
            ClientError::NotFound => ApiError::not_found(),
            ClientError::Db(e) => ApiError::database(&e),
        }
    }
}

/// Every registered client.
#[utoipa::path(get, path = "/api/admin/clients", tag = "admin",
    responses((status = 200, body = [ClientItem]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_clients(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<ApiJson<Vec<ClientItem>>, ApiError> {
    let list = clients::list(&state.db).await?;
    let ids: Vec<&str> = list.iter().map(|c| c.client_id.as_str()).collect();
    let logos = clients::logo_versions(&state.db, &ids).await?;
    Ok(ApiJson(
        list.into_iter()
            .map(|c| {
                let logo = logos.get(&c.client_id).copied();
                ClientItem::of(c, None, logo)
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClientRequest {
    name: String,
    /// Matched byte for byte: https, http on a loopback address, or a native app's
    /// reverse-domain scheme; no fragment.
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    /// Default: all of openid profile email roles groups offline_access; openid is required.
    scopes: Option<Vec<String>>,
    /// `RS256` (the default, which every relying party can check), `ES256` or `EdDSA`.
    #[schema(example = "RS256")]
    id_token_signed_response_alg: Option<String>,
    /// Any of `authorization_code`, `refresh_token`, `client_credentials` (confidential
    /// clients) and `urn:ietf:params:oauth:grant-type:device_code`. Default:
    /// authorization_code and refresh_token, and client_credentials for a confidential client.
    grant_types: Option<Vec<String>>,
    /// Seconds, 30 to 86400, never longer than the server's access token lifetime.
    access_token_lifetime: Option<i64>,
    /// https (or http on a loopback address), no fragment.
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    #[serde(default)]
    dpop_bound_access_tokens: bool,
    #[serde(default)]
    first_party: bool,
}

/// What `PATCH` changes: each field given replaces the client's; a null clears the settings
/// that may be unset (grant types back to the defaults, the server's token lifetime, no
/// back-channel logout).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClientRequest {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    #[schema(example = "ES256")]
    id_token_signed_response_alg: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    grant_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    access_token_lifetime: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    backchannel_logout_uri: Option<Option<String>>,
    require_pushed_authorization_requests: Option<bool>,
    dpop_bound_access_tokens: Option<bool>,
    first_party: Option<bool>,
}

fn alg(name: Option<&str>) -> Result<Option<crate::auth::keys::KeyAlg>, ApiError> {
    name.map(str::parse).transpose().map_err(|_| {
        ApiError::bad_request("id_token_signed_response_alg must be RS256, ES256 or EdDSA.")
    })
}

/// Registers a client; a confidential one's secret is in this answer only.
#[utoipa::path(post, path = "/api/admin/clients", tag = "admin", request_body = CreateClientRequest,
    responses((status = 201, body = ClientItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn create_client(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<CreateClientRequest>,
) -> Result<(StatusCode, ApiJson<ClientItem>), ApiError> {
    let id_token_alg = alg(body.id_token_signed_response_alg.as_deref())?;
    let registered = clients::register(
        &state.db,
        &state.clock,
        actor(&admin, &origin),
        NewClient {
            name: body.name,
            redirect_uris: body.redirect_uris,
            post_logout_uris: body.post_logout_redirect_uris,
            public: body.public,
            scopes: body.scopes,
            id_token_alg,
            settings: ClientSettings {
                grant_types: body.grant_types,
                access_token_ttl: body.access_token_lifetime,
                backchannel_logout_uri: body.backchannel_logout_uri,
                require_par: body.require_pushed_authorization_requests,
                require_dpop: body.dpop_bound_access_tokens,
                first_party: body.first_party,
            },
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ClientItem::of(registered.client, registered.secret, None)),
    ))
}

/// Changes a client's settings; what is not in the body stays as it is. Every node applies
/// the change within the change feed's bound.
#[utoipa::path(patch, path = "/api/admin/clients/{client_id}", tag = "admin",
    params(("client_id" = String, Path)), request_body = UpdateClientRequest,
    responses((status = 200, body = ClientItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn update_client(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<UpdateClientRequest>,
) -> Result<ApiJson<ClientItem>, ApiError> {
    let Path(client_id) = path.map_err(|_| ApiError::not_found())?;
    let change = ClientChange {
        id_token_alg: alg(body.id_token_signed_response_alg.as_deref())?,
        name: body.name,
        redirect_uris: body.redirect_uris,
        post_logout_uris: body.post_logout_redirect_uris,
        scopes: body.scopes,
        grant_types: body.grant_types,
        access_token_ttl: body.access_token_lifetime,
        backchannel_logout_uri: body.backchannel_logout_uri,
        require_par: body.require_pushed_authorization_requests,
        require_dpop: body.dpop_bound_access_tokens,
        first_party: body.first_party,
    };
    let client = clients::update(
        &state.notifier(),
        actor(&admin, &origin),
        &client_id,
        change,
    )
    .await?;
    item(&state, client).await
}

/// Removes a client and the consents given to it. Its live tokens end with their sessions'
/// next check of the client (and at their expiry at the latest).
#[utoipa::path(delete, path = "/api/admin/clients/{client_id}", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn delete_client(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(client_id) = path.map_err(|_| ApiError::not_found())?;
    clients::delete(&state.notifier(), actor(&admin, &origin), &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The client as admins see it, with its logo's version.
async fn item(state: &AppState, client: ClientRecord) -> Result<ApiJson<ClientItem>, ApiError> {
    let logo = clients::logo_versions(&state.db, &[client.client_id.as_str()])
        .await?
        .remove(&client.client_id);
    Ok(ApiJson(ClientItem::of(client, None, logo)))
}

/// Sets the client's logo: the request's body is the image, its `Content-Type` says which
/// kind (as for the product's logo). The sign-in and consent pages show it.
#[utoipa::path(put, path = "/api/admin/clients/{client_id}/logo", tag = "admin",
    params(("client_id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/png", description = "the image: PNG, JPEG (`image/jpeg`), WebP (`image/webp`) or SVG (`image/svg+xml`), at most 64 KiB"),
    responses((status = 200, body = ClientItem),
              (status = 400, description = "the bytes are not the declared kind of image (`logo_invalid`)", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, description = "larger than 64 KiB", body = ErrorBody),
              (status = 415, description = "not PNG, JPEG, WebP or SVG", body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn set_client_logo(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<ApiJson<ClientItem>, ApiError> {
    let Path(client_id) = path.map_err(|_| ApiError::not_found())?;
    let kind = checked_logo(&headers, &body)?;
    let client = clients::set_logo(
        &state.db,
        &state.clock,
        actor(&admin, &origin),
        &client_id,
        kind,
        body.to_vec(),
    )
    .await?;
    item(&state, client).await
}

/// Removes the client's logo.
#[utoipa::path(delete, path = "/api/admin/clients/{client_id}/logo", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn remove_client_logo(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, PathRejection>,
) -> Result<ApiJson<ClientItem>, ApiError> {
    let Path(client_id) = path.map_err(|_| ApiError::not_found())?;
    let client =
        clients::remove_logo(&state.db, &state.clock, actor(&admin, &origin), &client_id).await?;
    item(&state, client).await
}
