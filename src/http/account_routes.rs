//! The signed-in user's own account (docs/API.md §2): who am I, the password policy, changing
//! the password, and the sessions: list, end one, end all.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::domain::{Email, PasswordPolicy, SecondFactor, SigninMethod, Username};
use crate::http::client_ip::RequestOrigin;
use crate::http::cookies;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::extractors::{ApiCaller, AuthUser};
use crate::http::json::ApiJson;
use crate::service::accounts::{self, Owner};
use crate::service::sessions;
use crate::store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(policy))
        .routes(routes!(change_password))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .routes(routes!(signout_all))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    id: i64,
    username: String,
    email: String,
    /// Every role that holds for every client, the account's own and its groups': the
    /// built-in ones first, then those an admin defined, by name.
    #[schema(example = json!(["ROLE_USER", "ROLE_EDITOR"]))]
    roles: Vec<String>,
    /// RFC 3339, UTC.
    created_at: String,
    /// The address was proven its owner's by a link mailed to it.
    email_verified: bool,
    /// The groups the account is in, by name.
    groups: Vec<String>,
    /// What its roles give it, by name (outside any client's application roles).
    permissions: Vec<String>,
    /// With an API key: the key's id (its rights are within what it was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_id: Option<i64>,
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/auth/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn me(ApiCaller(user): ApiCaller) -> ApiJson<Me> {
    // All of it from the session cache, as every signed-in read: the web app asks on every
    // page, and a change made on any node reaches this one as a role change does.
    ApiJson(Me {
        id: user.id,
        username: user.username.to_string(),
        email: user.email.to_string(),
        roles: user.authorities(),
        created_at: rfc3339(user.created_at),
        email_verified: user.email_verified,
        groups: user.rights.groups.iter().map(|g| g.to_string()).collect(),
        permissions: user
            .rights
            .permissions
            .iter()
            .map(|p| p.to_string())
            .collect(),
        api_key_id: user.api_key,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LengthRule {
    min_length: usize,
    max_length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaxLengthRule {
    max_length: usize,
}

/// What the server's mail allows, for clients to show the matching pages.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailPolicy {
    /// Mail is on: password reset and verification links can be sent.
    enabled: bool,
    /// Sign-in waits for a verified address.
    require_verified_email: bool,
    /// Sign-in links can be asked for (`POST /api/auth/magic-link`).
    magic_links: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    username: LengthRule,
    email: MaxLengthRule,
    password: LengthRule,
    mail: MailPolicy,
    /// Passkeys are on (a relying party browsers accept is configured).
    passkeys: bool,
    /// Signing up with a passkey and no password is on (`PORTCULLIS_PASSKEY_SIGNUP`, and
    /// passkeys on).
    passkey_signup: bool,
}

/// The rules signup applies, for clients to mirror.
#[utoipa::path(get, path = "/api/auth/policy", tag = "account", responses((status = 200, body = Policy)))]
async fn policy(State(state): State<AppState>) -> ApiJson<Policy> {
    ApiJson(Policy {
        username: LengthRule {
            min_length: Username::MIN,
            max_length: Username::MAX,
            pattern: Some(Username::PATTERN),
        },
        email: MaxLengthRule {
            max_length: Email::MAX,
        },
        password: LengthRule {
            min_length: state.policy.min_length,
            max_length: PasswordPolicy::MAX,
            pattern: None,
        },
        mail: MailPolicy {
            enabled: state.mail.is_some(),
            require_verified_email: state.settings.require_verified_email,
            magic_links: state.settings.magic_links,
        },
        passkeys: state.relying_party.is_some(),
        passkey_signup: state.relying_party.is_some() && state.settings.passkey_signup,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordChange {
    #[schema(value_type = String)]
    current_password: SecretString,
    #[schema(value_type = String)]
    new_password: SecretString,
}

/// Changes the password; every other session of the account ends.
#[utoipa::path(post, path = "/api/auth/password", tag = "account", request_body = PasswordChange,
    responses((status = 200, body = MessageBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "wrong current password", body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<ApiJson<MessageBody>, ApiError> {
    let owner = Owner {
        user_id: user.id,
        session_id: &user.session_id,
    };
    let client = origin.client();
    accounts::change_password(
        &state.notifier(),
        &state.hasher,
        &state.throttle,
        &state.policy,
        owner,
        client,
        body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(ApiJson(MessageBody::new("Password changed.")))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionItem {
    id: String,
    created_at: String,
    last_used_at: String,
    user_agent: Option<String>,
    ip: Option<String>,
    /// The session this request belongs to.
    current: bool,
    /// How it was signed in.
    method: SessionMethod,
    /// What completed the sign-in's second step; `null` when there was none.
    second_factor: Option<SessionSecondFactor>,
}

/// A second factor: a TOTP app's code, a recovery code, or a passkey.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionSecondFactor {
    Totp,
    RecoveryCode,
    Passkey,
}

/// How a session was signed in: a password, a sign-in link mailed to the account, a
/// passkey, or an upstream identity provider (`provider_mfa`: one trusted for both
/// factors).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionMethod {
    Password,
    MagicLink,
    Passkey,
    Provider,
    ProviderMfa,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    items: Vec<SessionItem>,
}

/// The account's live sessions, newest first.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "account",
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<SessionList>, ApiError> {
    let now = state.clock.now_ms();
    let sessions = store::sessions::list_live(&state.db, user.id, now).await?;
    // Unused for the refresh idle lifetime, a session has ended (its refresh token expired);
    // the one this request proves is in use is always listed.
    let idle_ms = state.settings.refresh_ttl.as_millis() as i64;
    Ok(ApiJson(SessionList {
        items: sessions
            .into_iter()
            .filter(|s| s.id == user.session_id || now < s.last_used_at + idle_ms)
            .map(|s| SessionItem {
                current: s.id == user.session_id,
                id: s.id,
                created_at: rfc3339(s.created_at),
                last_used_at: rfc3339(s.last_used_at),
                user_agent: s.user_agent,
                ip: s.ip,
                method: match s.method {
                    SigninMethod::Password => SessionMethod::Password,
                    SigninMethod::MagicLink => SessionMethod::MagicLink,
                    SigninMethod::Passkey => SessionMethod::Passkey,
                    SigninMethod::Provider => SessionMethod::Provider,
                    SigninMethod::ProviderMfa => SessionMethod::ProviderMfa,
                },
                second_factor: s.second_factor.map(|f| match f {
                    SecondFactor::Totp => SessionSecondFactor::Totp,
                    SecondFactor::RecoveryCode => SessionSecondFactor::RecoveryCode,
                    SecondFactor::Passkey => SessionSecondFactor::Passkey,
                }),
            })
            .collect(),
    }))
}

/// Ends one of the account's own sessions.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "session id")),
    responses((status = 204, description = "ended"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn end_session(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found());
    };
    if !sessions::end_own(&state.sessions(), origin.client(), user.id, &id).await? {
        return Err(ApiError::not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the account, this one included.
#[utoipa::path(post, path = "/api/auth/signout-all", tag = "account",
    responses((status = 200, body = MessageBody), (status = 401, body = ErrorBody), (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn signout_all(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    sessions::signout_all(&state.notifier(), origin.client(), user.id).await?;
    let jar = if state.settings.token_delivery.uses_cookies() {
        cookies::add_to(jar, cookies::cleared(&state))
    } else {
        jar
    };
    Ok((
        jar,
        ApiJson(MessageBody::new("You've been signed out everywhere!")),
    )
        .into_response())
}
