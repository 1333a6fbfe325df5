//! Passkeys (docs/API.md §2, "Passkeys and two factors"): registering them on a signed-in
//! account, listing, renaming, removing, and signing in with one.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::http::auth_routes::{signed_in, SigninResponse};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::http::json_body::OptionalJson;
use crate::http::locale::RequestLocale;
use crate::service::factors::FactorError;
use crate::service::passkeys;
use crate::store::passkeys::PasskeyRecord;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_start))
        .routes(routes!(register_finish))
        .routes(routes!(list))
        .routes(routes!(rename, remove))
        .routes(routes!(signin_start))
        .routes(routes!(signin_finish))
}

/// WebAuthn options for the browser, as its JSON form: pass `publicKey` to
/// `PublicKeyCredential.parseCreationOptionsFromJSON` (or `parseRequestOptionsFromJSON`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CeremonyOptions {
    /// `PublicKeyCredentialCreationOptions` or `PublicKeyCredentialRequestOptions`.
    #[schema(value_type = Object)]
    public_key: serde_json::Value,
}

impl CeremonyOptions {
    pub fn new(mut options: serde_json::Value) -> Self {
        CeremonyOptions {
            public_key: options
                .get_mut("publicKey")
                .map(serde_json::Value::take)
                .unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyItem {
    id: i64,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
}

impl From<PasskeyRecord> for PasskeyItem {
    fn from(p: PasskeyRecord) -> Self {
        PasskeyItem {
            id: p.id,
            name: p.name,
            created_at: rfc3339(p.created_at),
            last_used_at: p.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyList {
    items: Vec<PasskeyItem>,
}

const MAX_NAME_CHARS: usize = 64;

/// A passkey's name: 1 to 64 characters, none of them control characters.
pub(crate) fn valid_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name must be 1 to 64 characters, without control characters.",
        ));
    }
    Ok(name)
}

/// Starts registering a passkey for the signed-in account: a sign-in within the last 10
/// minutes, or the password again (as for removing one).
#[utoipa::path(post, path = "/api/auth/passkeys/register/start", tag = "passkeys", request_body(content = Option<Reauthentication>),
    responses((status = 200, body = CeremonyOptions), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "passkeys are off (`passkeys_disabled`), not signed in recently (`reauthentication_required`), or a wrong password", body = ErrorBody),
              (status = 409, description = "20 passkeys already (`too_many_passkeys`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn register_start(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    OptionalJson(body): OptionalJson<Reauthentication>,
) -> Result<ApiJson<CeremonyOptions>, ApiError> {
    let password = body.and_then(|b| b.password);
    let f = state.factors();
    let options =
        passkeys::register_start(&f, user.id, &user.session_id, origin.client(), password).await?;
    Ok(ApiJson(CeremonyOptions::new(options)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterFinish {
    /// The browser's `credential.toJSON()`.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
    /// 1 to 64 characters; default `Passkey`.
    #[schema(example = "Laptop", max_length = 64)]
    name: Option<String>,
}

/// Finishes registering a passkey with the browser's answer.
#[utoipa::path(post, path = "/api/auth/passkeys/register/finish", tag = "passkeys", request_body = RegisterFinish,
    responses((status = 201, body = PasskeyItem),
              (status = 400, description = "the answer does not verify (`passkey_rejected`), or a bad field", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, description = "passkeys are off (`passkeys_disabled`)", body = ErrorBody),
              (status = 409, description = "registered already (`passkey_exists`), or 20 passkeys already", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn register_finish(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    user: AuthUser,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<RegisterFinish>,
) -> Result<Response, ApiError> {
    let name = match body.name.as_deref() {
        Some(name) => valid_name(name)?,
        None => passkeys::DEFAULT_NAME,
    };
    let credential: RegisterPublicKeyCredential = serde_json::from_value(body.credential)
        .map_err(|_| ApiError::from(FactorError::PasskeyRejected))?;
    let record = passkeys::register_finish(
        &state.factors_in(locale),
        user.id,
        origin.client(),
        &credential,
        name,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(PasskeyItem::from(record))).into_response())
}

/// The signed-in account's passkeys, oldest first.
#[utoipa::path(get, path = "/api/auth/passkeys", tag = "passkeys",
    responses((status = 200, body = PasskeyList), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<PasskeyList>, ApiError> {
    let items = passkeys::list(&state.factors(), user.id).await?;
    Ok(ApiJson(PasskeyList {
        items: items.into_iter().map(PasskeyItem::from).collect(),
    }))
}

fn passkey_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("The passkey id must be an integer."))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRename {
    #[schema(example = "Phone", min_length = 1, max_length = 64)]
    name: String,
}

/// Renames one of the account's passkeys.
#[utoipa::path(patch, path = "/api/auth/passkeys/{id}", tag = "passkeys", request_body = PasskeyRename,
    params(("id" = i64, Path, description = "passkey id")),
    responses((status = 200, body = PasskeyItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn rename(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    id: Result<Path<i64>, PathRejection>,
    ApiJson(body): ApiJson<PasskeyRename>,
) -> Result<ApiJson<PasskeyItem>, ApiError> {
    let id = passkey_id(id)?;
    let name = valid_name(&body.name)?;
    let record = passkeys::rename(&state.factors(), user.id, origin.client(), id, name).await?;
    Ok(ApiJson(record.into()))
}

/// The password again, for what needs a recent sign-in when the session is older.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reauthentication {
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretString>,
}

/// Removes one of the account's passkeys (a recent sign-in, or the password).
#[utoipa::path(delete, path = "/api/auth/passkeys/{id}", tag = "passkeys", request_body(content = Option<Reauthentication>),
    params(("id" = i64, Path, description = "passkey id")),
    responses((status = 200, body = MessageBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "not signed in recently (`reauthentication_required`) or a wrong password", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn remove(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    user: AuthUser,
    origin: RequestOrigin,
    id: Result<Path<i64>, PathRejection>,
    OptionalJson(body): OptionalJson<Reauthentication>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    let id = passkey_id(id)?;
    let password = body.and_then(|b| b.password);
    passkeys::remove(
        &state.factors_in(locale),
        user.id,
        &user.session_id,
        origin.client(),
        id,
        password,
    )
    .await?;
    Ok(ApiJson(MessageBody::new("Passkey removed.")))
}

/// Starts a sign-in with a passkey (no username: the browser offers the passkeys it has).
#[utoipa::path(post, path = "/api/auth/passkeys/signin/start", tag = "passkeys",
    responses((status = 200, body = CeremonyOptions), (status = 403, description = "passkeys are off (`passkeys_disabled`)", body = ErrorBody),
              (status = 429, description = "this client began more sign-ins than the server keeps (`PORTCULLIS_ANONYMOUS_STARTS_PER_MINUTE`); see Retry-After", body = ErrorBody),
              (status = 503, body = ErrorBody)))]
async fn signin_start(
    State(state): State<AppState>,
    origin: RequestOrigin,
) -> Result<ApiJson<CeremonyOptions>, ApiError> {
    let options = passkeys::signin_start(&state.factors(), origin.client()).await?;
    Ok(ApiJson(CeremonyOptions::new(options)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAssertion {
    /// The browser's `credential.toJSON()`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// Finishes a passkey sign-in: the answer of `POST /api/auth/signin`.
#[utoipa::path(post, path = "/api/auth/passkeys/signin/finish", tag = "passkeys", request_body = PasskeyAssertion,
    params(("X-Token-Delivery" = Option<String>, Header, description = "`cookie`: answer without tokens in the body (browser apps)")),
    responses((status = 200, body = SigninResponse), (status = 400, body = ErrorBody),
              (status = 401, description = "the passkey or its challenge does not verify (`passkey_invalid`)", body = ErrorBody),
              (status = 403, description = "passkeys are off (`passkeys_disabled`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn signin_finish(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<PasskeyAssertion>,
) -> Result<Response, ApiError> {
    let credential = assertion(body.credential)?;
    let done = passkeys::signin_finish(&state.factors(), origin.client(), &credential).await?;
    Ok(signed_in(&state, &headers, jar, done))
}

/// A browser's answer to request options; one that cannot be is a failed sign-in.
pub fn assertion(value: serde_json::Value) -> Result<PublicKeyCredential, ApiError> {
    serde_json::from_value(value).map_err(|_| FactorError::PasskeyInvalid.into())
}
