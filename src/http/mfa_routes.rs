//! Two factors (docs/API.md §2, "Passkeys and two factors"): enrolling a TOTP app and its
//! recovery codes, removing them, and the second step of a sign-in.
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::auth_routes::{signed_in, signed_in_with_codes, SigninResponse};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::extractors::{AuthUser, MaybeAuthUser};
use crate::http::json::ApiJson;
use crate::http::json_body::OptionalJson;
use crate::http::locale::RequestLocale;
use crate::http::passkey_routes::{assertion, CeremonyOptions, Reauthentication};
use crate::service::enrolment::{self, Enroller};
use crate::service::factors;
use crate::service::mfa::{self, Proof};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(totp_setup))
        .routes(routes!(totp_confirm))
        .routes(routes!(totp_remove))
        .routes(routes!(recovery_codes))
        .routes(routes!(passkey_start))
        .routes(routes!(verify))
}

/// What the signed-in account has.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaStatus {
    totp: bool,
    passkeys: i64,
    recovery_codes_left: i64,
}

#[utoipa::path(get, path = "/api/auth/mfa", tag = "mfa",
    responses((status = 200, body = MfaStatus), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn status(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<MfaStatus>, ApiError> {
    let has = factors::enrolled(&state.factors(), user.id).await?;
    Ok(ApiJson(MfaStatus {
        totp: has.totp,
        passkeys: has.passkeys,
        recovery_codes_left: has.recovery_codes_left,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SetupRequest {
    /// Of a sign-in that must enrol; a signed-in account sends none.
    mfa_token: Option<String>,
    /// A signed-in account whose sign-in is older than 10 minutes gives its password again.
    #[schema(value_type = Option<String>)]
    password: Option<SecretString>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpSetup {
    /// Base32, for typing into the app.
    secret: String,
    /// For the QR code.
    otpauth_uri: String,
}

/// Who enrols: the signed-in account, or else the sign-in whose token came in the body.
fn enroller<'a>(
    caller: &'a Option<AuthUser>,
    token: Option<&'a str>,
) -> Result<Enroller<'a>, ApiError> {
    match (caller, token) {
        (Some(user), _) => Ok(Enroller::Account {
            user_id: user.id,
            session_id: &user.session_id,
        }),
        (None, Some(token)) => Ok(Enroller::Signin(token)),
        (None, None) => Err(ApiError::no_token()),
    }
}

/// Starts (or restarts) enrolling a TOTP app. A signed-in account needs a sign-in within
/// the last 10 minutes, or its password again (as for removing the app).
#[utoipa::path(post, path = "/api/auth/mfa/totp/setup", tag = "mfa", request_body(content = Option<SetupRequest>),
    responses((status = 200, body = TotpSetup), (status = 400, body = ErrorBody),
              (status = 401, description = "not signed in, or the `mfaToken` is not live (`mfa_token_invalid`)", body = ErrorBody),
              (status = 403, description = "not signed in recently (`reauthentication_required`) or a wrong password", body = ErrorBody),
              (status = 409, description = "a TOTP app is enabled already (`totp_already_enabled`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn totp_setup(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    origin: RequestOrigin,
    OptionalJson(body): OptionalJson<SetupRequest>,
) -> Result<ApiJson<TotpSetup>, ApiError> {
    let (token, password) = body.map_or((None, None), |b| (b.mfa_token, b.password));
    let who = enroller(&caller, token.as_deref())?;
    let f = state.factors();
    let setup = enrolment::totp_setup(&f, who, origin.client(), password).await?;
    Ok(ApiJson(TotpSetup {
        secret: setup.secret,
        otpauth_uri: setup.uri,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfirmRequest {
    #[schema(example = "123456")]
    code: String,
    /// Of a sign-in that must enrol; a signed-in account sends none.
    mfa_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    /// Ten one-time codes, shown this once.
    recovery_codes: Vec<String>,
}

/// Enables the pending TOTP app with a code from it. With an `mfaToken`, the answer is
/// that of `POST /api/auth/signin` with `recoveryCodes` added.
#[utoipa::path(post, path = "/api/auth/mfa/totp/confirm", tag = "mfa", request_body = ConfirmRequest,
    params(("X-Token-Delivery" = Option<String>, Header, description = "`cookie`: answer without tokens in the body (browser apps)")),
    responses((status = 200, body = RecoveryCodes), (status = 400, description = "a wrong code (`mfa_code_invalid`), or a bad field", body = ErrorBody),
              (status = 401, description = "not signed in, or the `mfaToken` is not live (`mfa_token_invalid`)", body = ErrorBody),
              (status = 409, description = "no setup pending (`totp_not_pending`), or enabled already", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn totp_confirm(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    MaybeAuthUser(caller): MaybeAuthUser,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Result<Response, ApiError> {
    use axum::response::IntoResponse;
    let who = enroller(&caller, body.mfa_token.as_deref())?;
    let confirmed =
        enrolment::totp_confirm(&state.factors_in(locale), who, origin.client(), &body.code)
            .await?;
    Ok(match confirmed.signed_in {
        Some(done) => {
            signed_in_with_codes(&state, &headers, jar, done, Some(confirmed.recovery_codes))
        }
        None => ApiJson(RecoveryCodes {
            recovery_codes: confirmed.recovery_codes,
        })
        .into_response(),
    })
}

/// Removes the TOTP app and its recovery codes (a recent sign-in, or the password).
#[utoipa::path(delete, path = "/api/auth/mfa/totp", tag = "mfa", request_body(content = Option<Reauthentication>),
    responses((status = 200, body = MessageBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "not signed in recently (`reauthentication_required`) or a wrong password", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn totp_remove(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    user: AuthUser,
    origin: RequestOrigin,
    OptionalJson(body): OptionalJson<Reauthentication>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    let password = body.and_then(|b| b.password);
    let f = state.factors_in(locale);
    enrolment::totp_remove(&f, user.id, &user.session_id, origin.client(), password).await?;
    Ok(ApiJson(MessageBody::new("TOTP removed.")))
}

/// Ten new recovery codes in place of the old (a recent sign-in, or the password).
#[utoipa::path(post, path = "/api/auth/mfa/recovery-codes", tag = "mfa", request_body(content = Option<Reauthentication>),
    responses((status = 200, body = RecoveryCodes), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "not signed in recently (`reauthentication_required`) or a wrong password", body = ErrorBody),
              (status = 404, description = "no TOTP app enabled", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn recovery_codes(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    OptionalJson(body): OptionalJson<Reauthentication>,
) -> Result<ApiJson<RecoveryCodes>, ApiError> {
    let password = body.and_then(|b| b.password);
    let f = state.factors();
    let codes =
        enrolment::new_recovery_codes(&f, user.id, &user.session_id, origin.client(), password)
            .await?;
    Ok(ApiJson(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MfaTokenRequest {
    mfa_token: String,
}

/// Options for a passkey to finish a sign-in's second step with.
#[utoipa::path(post, path = "/api/auth/mfa/passkey/start", tag = "mfa", request_body = MfaTokenRequest,
    responses((status = 200, body = CeremonyOptions), (status = 400, body = ErrorBody),
              (status = 401, description = "the `mfaToken` is not live (`mfa_token_invalid`)", body = ErrorBody),
              (status = 403, description = "passkeys are off (`passkeys_disabled`)", body = ErrorBody),
              (status = 409, description = "the account has no passkey (`no_passkey`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn passkey_start(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MfaTokenRequest>,
) -> Result<ApiJson<CeremonyOptions>, ApiError> {
    let options = mfa::passkey_challenge(&state.factors(), &body.mfa_token).await?;
    Ok(ApiJson(CeremonyOptions::new(options)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerifyRequest {
    mfa_token: String,
    /// A TOTP code or a recovery code.
    #[schema(example = "123456")]
    code: Option<String>,
    /// Or a passkey's `credential.toJSON()`, after `POST /api/auth/mfa/passkey/start`.
    #[schema(value_type = Option<Object>)]
    credential: Option<serde_json::Value>,
}

/// The second step of a sign-in: the answer of `POST /api/auth/signin`.
#[utoipa::path(post, path = "/api/auth/mfa/verify", tag = "mfa", request_body = VerifyRequest,
    params(("X-Token-Delivery" = Option<String>, Header, description = "`cookie`: answer without tokens in the body (browser apps)")),
    responses((status = 200, body = SigninResponse), (status = 400, body = ErrorBody),
              (status = 401, description = "a wrong code (`mfa_code_invalid`), or the `mfaToken` is not live (`mfa_token_invalid`)", body = ErrorBody),
              (status = 403, description = "passkeys are off (`passkeys_disabled`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> Result<Response, ApiError> {
    let credential;
    let proof = match (&body.code, body.credential) {
        (Some(code), None) => Proof::Code(code),
        (None, Some(value)) => {
            credential = assertion(value)?;
            Proof::Passkey(&credential)
        }
        _ => return Err(ApiError::bad_request("Give a code or a passkey.")),
    };
    let done = mfa::verify(&state.factors(), origin.client(), &body.mfa_token, proof).await?;
    Ok(signed_in(&state, &headers, jar, done))
}
