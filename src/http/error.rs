//! The one error type of the HTTP layer. Every error is `{"message", "code"}` JSON; a
//! server-side failure is logged with its cause and shown only as an opaque 500 (503 when
//! the database cannot be reached).
use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error_code::ErrorCode;
use super::json::ApiJson;
use crate::auth::password::HashError;
use crate::db::DbError;
use crate::domain::{PasswordRejection, RoleSet};
use crate::service::accounts::AccountError;
use crate::service::admin::AdminError;
use crate::service::factors::FactorError;
use crate::service::identities::UnlinkError;
use crate::service::passkey_signup::PasskeySignupError;
use crate::service::recovery::RecoveryError;
use crate::service::signin::SigninError;
use crate::service::signup::SignupError;
use crate::service::upstream::ProviderSigninError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    retry_after: Option<u64>,
    /// The tutorial's failed signin body carries `"accessToken": null`.
    null_access_token: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            null_access_token: false,
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }

    pub fn forbidden(message: &'static str) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub fn no_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "No token provided!",
        )
    }

    pub fn token_expired() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TokenExpired,
            "Unauthorized! Access Token was expired!",
        )
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            "Unauthorized!",
        )
    }

    pub fn invalid_credentials() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidCredentials,
            "Invalid username or password!",
        );
        e.null_access_token = true;
        e
    }

    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
            "Too many failed sign-in attempts. Try again later.",
        );
        e.retry_after = Some(retry_after_secs);
        e
    }

    /// One client started more than the server keeps for anyone (`auth::starts`).
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
            "Too many requests from this client. Try again later.",
        );
        e.retry_after = Some(retry_after_secs);
        e
    }

    /// The hashing pool is full: come back shortly rather than queue without bound.
    pub fn overloaded() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Overloaded,
            "The server is busy. Try again in a moment.",
        );
        e.retry_after = Some(1);
        e
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "Not found.")
    }

    /// Logs the cause; the client learns nothing about it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Internal server error.",
        )
    }

    /// 503 with Retry-After: a moment's trouble the client may retry.
    pub fn unavailable() -> Self {
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "The service is temporarily unavailable. Try again in a moment.",
        );
        err.retry_after = Some(1);
        err
    }

    /// The same answer, telling the client to try again in `seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn is_server_error(&self) -> bool {
        self.status.is_server_error()
    }
}

impl ApiError {
    /// A failed database call. When the database cannot be reached it is a 503 the client
    /// may retry, as /health/ready says, not an internal error.
    pub fn database(e: &DbError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            Self::unavailable()
        } else {
            Self::internal(e)
        }
    }

    /// A failure from a lower layer: a 503 when anything in its chain of causes is an
    /// unreachable database, else a 500 (logged with its whole chain).
    pub fn failure(e: &anyhow::Error) -> Self {
        if DbError::unavailable_in(e.chain()) {
            tracing::warn!(error = format!("{e:#}"), "database unavailable");
            Self::unavailable()
        } else {
            Self::internal(&format!("{e:#}"))
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::failure(&e)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::database(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = if self.null_access_token {
            json!({"message": self.message, "code": self.code.as_str(), "accessToken": null})
        } else {
            json!({"message": self.message, "code": self.code.as_str()})
        };
        let mut response = (self.status, ApiJson(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED && !self.null_access_token {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

// The one mapping of each lower layer's errors to an answer.

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Overloaded => ApiError::overloaded(),
            HashError::Failed(why) => ApiError::internal(&why),
        }
    }
}

impl From<PasswordRejection> for ApiError {
    fn from(rejection: PasswordRejection) -> Self {
        match rejection {
            PasswordRejection::Invalid(why) => ApiError::bad_request(why),
            PasswordRejection::TooCommon => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::PasswordTooCommon,
                "Password is too common.",
            ),
        }
    }
}

fn unknown_role(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::UnknownRole,
        format!("Failed! Role does not exist = {name}"),
    )
}

/// The roles a request names, always including `user`.
pub fn requested_roles(names: &[String]) -> Result<RoleSet, ApiError> {
    RoleSet::from_names(names).map_err(|name| unknown_role(&name))
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Gone => ApiError::invalid_token(),
            AccountError::Throttled(retry_after) => ApiError::too_many_attempts(retry_after),
            AccountError::Password(rejection) => rejection.into(),
            AccountError::WrongPassword => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::WrongPassword,
                "Current password is incorrect.",
            ),
            AccountError::Hash(e) => e.into(),
            AccountError::Db(e) => e.into(),
        }
    }
}

impl From<SigninError> for ApiError {
    fn from(e: SigninError) -> Self {
        match e {
            SigninError::Missing => ApiError::bad_request("username and password are required."),
            SigninError::Throttled(retry_after) => ApiError::too_many_attempts(retry_after),
            SigninError::InvalidCredentials => ApiError::invalid_credentials(),
            SigninError::EmailNotVerified => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::EmailNotVerified,
                "Verify your email address first: follow the link we mailed you.",
            ),
            SigninError::Hash(e) => e.into(),
            SigninError::Db(e) => e.into(),
            SigninError::Internal(e) => e.into(),
        }
    }
}

impl From<RecoveryError> for ApiError {
    fn from(e: RecoveryError) -> Self {
        match e {
            RecoveryError::MailDisabled => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::MailDisabled,
                "Mail is not set up on this server.",
            ),
            RecoveryError::InvalidEmail(why) => ApiError::bad_request(why),
            RecoveryError::Throttled(retry_after) => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::TooManyAttempts,
                    "Too many requests for this address or from this client. Try again later.",
                );
                e.retry_after = Some(retry_after);
                e
            }
            RecoveryError::InvalidToken => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidToken,
                "This link is invalid or has expired.",
            ),
            RecoveryError::Password(rejection) => rejection.into(),
            RecoveryError::AlreadyVerified => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::AlreadyVerified,
                "Your email address is verified already.",
            ),
            RecoveryError::MagicLinksDisabled => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::MagicLinksDisabled,
                "Sign-in links are not enabled on this server.",
            ),
            RecoveryError::WrongPassword => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::WrongPassword,
                "Current password is incorrect.",
            ),
            RecoveryError::SameEmail => {
                ApiError::bad_request("newEmail is the account's address already.")
            }
            RecoveryError::EmailTaken => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::EmailTaken,
                "Failed! Email is already in use!",
            ),
            RecoveryError::Gone => ApiError::invalid_token(),
            RecoveryError::Hash(e) => e.into(),
            RecoveryError::Db(e) => e.into(),
            RecoveryError::Internal(e) => e.into(),
        }
    }
}

impl From<SignupError> for ApiError {
    fn from(e: SignupError) -> Self {
        match e {
            SignupError::InvalidUsername(why) | SignupError::InvalidEmail(why) => {
                ApiError::bad_request(why)
            }
            SignupError::Password(rejection) => rejection.into(),
            SignupError::UnknownRole(name) => unknown_role(&name),
            SignupError::RolesNeedAdmin => {
                ApiError::forbidden("Require Admin Role to assign roles!")
            }
            SignupError::UsernameTaken => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::UsernameTaken,
                "Failed! Username is already in use!",
            ),
            SignupError::EmailTaken => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::EmailTaken,
                "Failed! Email is already in use!",
            ),
            SignupError::Hash(e) => e.into(),
            SignupError::Db(e) => e.into(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound => ApiError::not_found(),
            AdminError::LastAdmin => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::LastAdmin,
                "Cannot remove the last admin.",
            ),
            AdminError::NotAdmin => ApiError::forbidden("Require Admin Role!"),
            AdminError::ActorGone => ApiError::invalid_token(),
            busy @ AdminError::Busy(_) => {
                tracing::warn!(error = %busy, "admin change not started");
                ApiError::unavailable()
            }
            AdminError::UnknownRole(name) => unknown_role(&name),
            AdminError::UnknownPermission(name) => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::UnknownPermission,
                format!("No permission is named {name}."),
            ),
            AdminError::NameTaken => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::NameTaken,
                "That name is taken.",
            ),
            AdminError::InUse(message) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::InUse, message)
            }
            AdminError::Invalid(message) => ApiError::bad_request(message),
            AdminError::Escalation(message) => ApiError::forbidden(message),
            AdminError::Db(e) => ApiError::from(e),
            AdminError::Internal(e) => ApiError::internal(&e),
        }
    }
}

impl From<PasskeySignupError> for ApiError {
    fn from(e: PasskeySignupError) -> Self {
        match e {
            PasskeySignupError::Off => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::PasskeySignupDisabled,
                "Signing up with a passkey is off on this server.",
            ),
            PasskeySignupError::Account(e) => e.into(),
            PasskeySignupError::Factor(e) => e.into(),
        }
    }
}

impl From<UnlinkError> for ApiError {
    fn from(e: UnlinkError) -> Self {
        match e {
            UnlinkError::NotFound => ApiError::not_found(),
            UnlinkError::LastWay => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::LastSigninMethod,
                "This is the account's only way to sign in: set a password or add a passkey first.",
            ),
            UnlinkError::Factor(e) => ApiError::from(e),
        }
    }
}

impl From<ProviderSigninError> for ApiError {
    fn from(e: ProviderSigninError) -> Self {
        use ProviderSigninError as E;
        match e {
            E::UnknownProvider => ApiError::not_found(),
            E::TooManyStarts(retry_after) => ApiError::too_many_requests(retry_after),
            unreachable @ E::Unavailable(_) => {
                tracing::warn!(error = %unreachable, "an identity provider is unavailable");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::ProviderUnavailable,
                    "The identity provider cannot be reached. Try again later.",
                )
            }
            E::Factor(e) => ApiError::from(e),
            E::Db(e) => ApiError::from(e),
            E::Internal(e) => ApiError::internal(&e),
            // The callback's own refusals: they reach the login page as a code, not here.
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<FactorError> for ApiError {
    fn from(e: FactorError) -> Self {
        use StatusCode as S;
        let e401 = |code, message| ApiError::new(S::UNAUTHORIZED, code, message);
        match e {
            FactorError::TokenInvalid => e401(
                ErrorCode::MfaTokenInvalid,
                "The sign-in has expired. Sign in again.",
            ),
            FactorError::LastWay => ApiError::new(
                S::CONFLICT,
                ErrorCode::LastSigninMethod,
                "This is the account's only way to sign in: set a password or add a passkey first.",
            ),
            FactorError::CodeInvalid => e401(ErrorCode::MfaCodeInvalid, "The code is not valid."),
            FactorError::SetupCodeInvalid => ApiError::new(
                S::BAD_REQUEST,
                ErrorCode::MfaCodeInvalid,
                "The code is not valid.",
            ),
            FactorError::PasskeyInvalid => {
                e401(ErrorCode::PasskeyInvalid, "Passkey sign-in failed.")
            }
            FactorError::Throttled(retry_after) => ApiError::too_many_attempts(retry_after),
            FactorError::TooManyStarts(retry_after) => ApiError::too_many_requests(retry_after),
            FactorError::TotpAlreadyEnabled => ApiError::new(
                S::CONFLICT,
                ErrorCode::TotpAlreadyEnabled,
                "A TOTP app is already enabled.",
            ),
            FactorError::TotpNotPending => ApiError::new(
                S::CONFLICT,
                ErrorCode::TotpNotPending,
                "Start the TOTP setup first.",
            ),
            FactorError::NotFound => ApiError::not_found(),
            FactorError::ReauthenticationRequired => ApiError::new(
                S::FORBIDDEN,
                ErrorCode::ReauthenticationRequired,
                "Sign in again, or give your password, to do this.",
            ),
            FactorError::WrongPassword => ApiError::new(
                S::FORBIDDEN,
                ErrorCode::WrongPassword,
                "Current password is incorrect.",
            ),
            FactorError::NoPasskey => ApiError::new(
                S::CONFLICT,
                ErrorCode::NoPasskey,
                "This account has no passkey.",
            ),
            FactorError::PasskeysDisabled => ApiError::new(
                S::FORBIDDEN,
                ErrorCode::PasskeysDisabled,
                "Passkeys are not enabled on this server: set PORTCULLIS_RP_ID.",
            ),
            FactorError::PasskeyRejected => ApiError::new(
                S::BAD_REQUEST,
                ErrorCode::PasskeyRejected,
                "The passkey could not be verified.",
            ),
            FactorError::PasskeyExists => ApiError::new(
                S::CONFLICT,
                ErrorCode::PasskeyExists,
                "This passkey is already registered.",
            ),
            FactorError::TooManyPasskeys => ApiError::new(
                S::CONFLICT,
                ErrorCode::TooManyPasskeys,
                "An account can have at most 20 passkeys.",
            ),
            FactorError::Gone => ApiError::invalid_token(),
            FactorError::Hash(e) => e.into(),
            FactorError::Db(e) => e.into(),
            FactorError::Internal(e) => e.into(),
        }
    }
}
