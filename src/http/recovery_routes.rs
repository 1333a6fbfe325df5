//! Recovery and proof of address by mail (docs/API.md §4): asking for a password reset
//! link and using it, verifying an address, asking for a verification link again.
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::service::recovery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
}

/// The one answer to a reset request, whether or not the address has an account.
const RESET_ACCEPTED: &str =
    "If an account has this address, a link to reset its password is on its way.";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[schema(example = "alice@example.com", max_length = 254, format = Email)]
    email: String,
}

/// Mails a password reset link to the account with this address, if there is one. The
/// answer is the same, in about the same time, either way.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "recovery", request_body = ResetRequest,
    responses((status = 202, body = MessageBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 429, description = "too many requests for this address or from this client; see Retry-After", body = ErrorBody),
              (status = 503, description = "mail is off (`mail_disabled`), or the database is unreachable", body = ErrorBody)))]
async fn request_reset(
    State(state): State<AppState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<(StatusCode, ApiJson<MessageBody>), ApiError> {
    recovery::request_reset(
        state.outbox(),
        &state.mail_throttle,
        origin.client(),
        &body.email,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(MessageBody::new(RESET_ACCEPTED)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResetConfirm {
    /// From the link's `token=`.
    token: String,
    #[schema(value_type = String, min_length = 8, max_length = 128)]
    new_password: SecretString,
}

/// Sets a new password with a reset link's token. Every session of the account ends.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "recovery", request_body = ResetConfirm,
    responses((status = 200, body = MessageBody),
              (status = 400, description = "the token is unknown, used or expired (`invalid_token`), or the password is refused", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn confirm_reset(
    State(state): State<AppState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<ResetConfirm>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    recovery::confirm_reset(
        &state.notifier(),
        &state.hasher,
        &state.throttle,
        &state.policy,
        state.outbox(),
        origin.client(),
        &body.token,
        &body.new_password,
    )
    .await?;
    Ok(ApiJson(MessageBody::new(
        "Your password has been changed. Sign in with the new one.",
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// From the link's `token=`.
    token: String,
}

/// Proves the account's address with a verification link's token.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "recovery", request_body = VerifyRequest,
    responses((status = 200, body = MessageBody),
              (status = 400, description = "the token is unknown, used or expired (`invalid_token`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn verify_email(
    State(state): State<AppState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    recovery::verify_email(&state.notifier(), origin.client(), &body.token).await?;
    Ok(ApiJson(MessageBody::new("Your email address is verified.")))
}

/// Mails the signed-in account a new verification link.
#[utoipa::path(post, path = "/api/auth/verify-email/resend", tag = "recovery",
    responses((status = 202, body = MessageBody), (status = 401, body = ErrorBody),
              (status = 409, description = "the address is verified already", body = ErrorBody),
              (status = 429, body = ErrorBody),
              (status = 503, description = "mail is off (`mail_disabled`), or the database is unreachable", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn resend_verification(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
) -> Result<(StatusCode, ApiJson<MessageBody>), ApiError> {
    recovery::resend_verification(
        state.outbox(),
        &state.mail_throttle,
        origin.client(),
        user.id,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(MessageBody::new("A new verification link is on its way.")),
    ))
}
