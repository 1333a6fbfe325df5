//! Signing up with a passkey and no password (docs/API.md §2, "Signing up with a passkey"),
//! when `PORTCULLIS_PASSKEY_SIGNUP` is on: the same two steps as registering a passkey, for
//! an account that exists only once the authenticator has answered.
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use crate::app::AppState;
use crate::http::auth_routes::{signed_in, SigninResponse};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::locale::RequestLocale;
use crate::http::passkey_routes::{valid_name, CeremonyOptions};
use crate::service::factors::FactorError;
use crate::service::passkey_signup::{self, PasskeySignupError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup_start))
        .routes(routes!(signup_finish))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignupStart {
    #[schema(example = "alice", min_length = 3, max_length = 20)]
    username: String,
    #[schema(example = "alice@example.com", max_length = 254, format = Email)]
    email: String,
}

/// Begins a sign-up with a passkey: options to create the new account's passkey, for a
/// username and email that are free.
#[utoipa::path(post, path = "/api/auth/passkeys/signup/start", tag = "passkeys", request_body = PasskeySignupStart,
    responses((status = 200, body = CeremonyOptions), (status = 400, body = ErrorBody),
              (status = 403, description = "passkey sign-up is off (`passkey_signup_disabled`), or passkeys are (`passkeys_disabled`)", body = ErrorBody),
              (status = 409, description = "the username or the email is taken", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 429, description = "this client began more passkey ceremonies than the server keeps; see Retry-After", body = ErrorBody),
              (status = 503, body = ErrorBody)))]
async fn signup_start(
    State(state): State<AppState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<PasskeySignupStart>,
) -> Result<ApiJson<CeremonyOptions>, ApiError> {
    let options = passkey_signup::start(
        &state.factors(),
        origin.client(),
        state.settings.passkey_signup,
        &body.username,
        &body.email,
    )
    .await?;
    Ok(ApiJson(CeremonyOptions::new(options)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignupFinish {
    /// The browser's `credential.toJSON()`.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
    /// The passkey's name, 1 to 64 characters; default `Passkey`.
    #[schema(example = "Laptop", max_length = 64)]
    name: Option<String>,
}

/// Finishes a sign-up with a passkey: the account is made with it, and signed in.
#[utoipa::path(post, path = "/api/auth/passkeys/signup/finish", tag = "passkeys", request_body = PasskeySignupFinish,
    params(("X-Token-Delivery" = Option<String>, Header, description = "`cookie`: answer without tokens in the body (browser apps)")),
    responses((status = 201, body = SigninResponse),
              (status = 400, description = "the answer does not verify or its ceremony is unknown, spent or expired (`passkey_rejected`), or a bad field", body = ErrorBody),
              (status = 403, description = "passkey sign-up is off (`passkey_signup_disabled`), or the address must be verified before signing in (`email_not_verified`)", body = ErrorBody),
              (status = 409, description = "the username or the email was taken meanwhile", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn signup_finish(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<PasskeySignupFinish>,
) -> Result<Response, ApiError> {
    // Off is said first, whatever the body holds.
    if !state.settings.passkey_signup {
        return Err(PasskeySignupError::Off.into());
    }
    let name = body.name.as_deref().map(valid_name).transpose()?;
    let credential: RegisterPublicKeyCredential = serde_json::from_value(body.credential)
        .map_err(|_| ApiError::from(FactorError::PasskeyRejected))?;
    let done = passkey_signup::finish(
        &state.factors_in(locale),
        origin.client(),
        state.settings.passkey_signup,
        &credential,
        name,
    )
    .await?;
    let mut response = signed_in(&state, &headers, jar, done);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}
