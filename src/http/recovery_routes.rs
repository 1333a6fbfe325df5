//! Recovery and proof of address by mail (docs/API.md §2): asking for a password reset
//! link and using it, verifying an address, asking for a verification link again.
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::auth_routes::{answer, SigninAnswer};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::http::locale::RequestLocale;
use crate::service::recovery::{self, Verified};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(change_email))
        .routes(routes!(request_magic_link))
        .routes(routes!(confirm_magic_link))
}

/// 202 with `message`: the mail is queued, not sent.
fn accepted(message: &'static str) -> (StatusCode, ApiJson<MessageBody>) {
    (StatusCode::ACCEPTED, ApiJson(MessageBody::new(message)))
}

/// The one answer to a reset request, whether or not the address has an account.
const RESET_ACCEPTED: &str =
    "If an account has this address, a link to reset its password is on its way.";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[schema(example = "alice@example.com", max_length = 254, format = Email)]
    email: String,
}

/// Mails a password reset link to the account with this address, if there is one. The
/// answer is the same, in about the same time, either way.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "recovery", request_body = EmailRequest,
    responses((status = 202, body = MessageBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 429, description = "too many requests for this address or from this client; see Retry-After", body = ErrorBody),
              (status = 503, description = "mail is off (`mail_disabled`), or the database is unreachable", body = ErrorBody)))]
async fn request_reset(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, ApiJson<MessageBody>), ApiError> {
    recovery::request_reset(
        state.outbox_in(locale),
        &state.mail_throttle,
        origin.client(),
        &body.email,
    )
    .await?;
    Ok(accepted(RESET_ACCEPTED))
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
    RequestLocale(locale): RequestLocale,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<ResetConfirm>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    recovery::confirm_reset(
        &state.notifier(),
        &state.hasher,
        &state.throttle,
        &state.policy,
        state.outbox_in(locale),
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
pub struct TokenRequest {
    /// From the link's `token=`.
    token: String,
}

/// Proves the account's address with a verification link's token.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "recovery", request_body = TokenRequest,
    responses((status = 200, body = MessageBody),
              (status = 400, description = "the token is unknown, used or expired (`invalid_token`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn verify_email(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    let verified = recovery::verify_email(
        &state.notifier(),
        state.outbox_in(locale),
        origin.client(),
        &body.token,
    )
    .await?;
    Ok(ApiJson(MessageBody::new(match verified {
        Verified::Address => "Your email address is verified.",
        Verified::NewAddress => "Your email address has been changed.",
    })))
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
    RequestLocale(locale): RequestLocale,
    user: AuthUser,
    origin: RequestOrigin,
) -> Result<(StatusCode, ApiJson<MessageBody>), ApiError> {
    recovery::resend_verification(
        state.outbox_in(locale),
        &state.mail_throttle,
        origin.client(),
        user.id,
    )
    .await?;
    Ok(accepted("A new verification link is on its way."))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailChange {
    #[schema(value_type = String)]
    current_password: SecretString,
    #[schema(example = "alice@example.org", max_length = 254, format = Email)]
    new_email: String,
}

/// Mails a link to a new address; the address changes when the link is followed
/// (`POST /api/auth/verify-email`), and the old address is told.
#[utoipa::path(post, path = "/api/auth/email", tag = "recovery", request_body = EmailChange,
    responses((status = 202, body = MessageBody),
              (status = 400, description = "not an address, or the current one", body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "wrong current password", body = ErrorBody),
              (status = 409, description = "another account has the address", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 503, description = "mail is off (`mail_disabled`), the hashing queue is full, or the database is unreachable", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn change_email(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    user: AuthUser,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<EmailChange>,
) -> Result<(StatusCode, ApiJson<MessageBody>), ApiError> {
    recovery::request_email_change(
        state.outbox_in(locale),
        &state.hasher,
        &state.throttle,
        &state.mail_throttle,
        origin.client(),
        user.id,
        body.current_password,
        &body.new_email,
    )
    .await?;
    Ok(accepted(
        "A link to confirm the new address is on its way to it.",
    ))
}

/// The one answer to a sign-in link request, whether or not the address has an account.
const MAGIC_LINK_ACCEPTED: &str = "If an account has this address, a sign-in link is on its way.";

/// Mails a sign-in link to the account with this address, if there is one
/// (`PORTCULLIS_MAGIC_LINKS`). The answer is the same either way.
#[utoipa::path(post, path = "/api/auth/magic-link", tag = "recovery", request_body = EmailRequest,
    responses((status = 202, body = MessageBody), (status = 400, body = ErrorBody),
              (status = 403, description = "sign-in links are off (`magic_links_disabled`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 503, description = "mail is off (`mail_disabled`), or the database is unreachable", body = ErrorBody)))]
async fn request_magic_link(
    State(state): State<AppState>,
    RequestLocale(locale): RequestLocale,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, ApiJson<MessageBody>), ApiError> {
    recovery::request_magic_link(
        state.outbox_in(locale),
        state.settings.magic_links,
        &state.mail_throttle,
        origin.client(),
        &body.email,
    )
    .await?;
    Ok(accepted(MAGIC_LINK_ACCEPTED))
}

/// Signs in with a sign-in link's token: the answer of `POST /api/auth/signin`.
#[utoipa::path(post, path = "/api/auth/magic-link/confirm", tag = "recovery", request_body = TokenRequest,
    params(("X-Token-Delivery" = Option<String>, Header, description = "`cookie`: answer without tokens in the body (browser apps)")),
    responses((status = 200, body = SigninAnswer),
              (status = 400, description = "the token is unknown, used or expired (`invalid_token`)", body = ErrorBody),
              (status = 403, description = "sign-in links are off (`magic_links_disabled`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn confirm_magic_link(
    State(state): State<AppState>,
    origin: RequestOrigin,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let outcome = recovery::signin_with_magic_link(
        &state.factors(),
        state.settings.magic_links,
        state.signin_rules(),
        origin.client(),
        &body.token,
    )
    .await?;
    Ok(answer(&state, &headers, jar, outcome))
}
