//! Every `code` an error answer can carry: one enum, so a client can list them (the
//! OpenAPI document publishes it as the `ErrorCode` schema) and no handler invents one.
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field missing, of the wrong type or invalid; a malformed body or query.
    InvalidRequest,
    /// Known, but not allowed.
    Forbidden,
    /// No token was presented.
    Unauthenticated,
    TokenExpired,
    InvalidToken,
    /// Unknown user, wrong password or disabled account, indistinguishably.
    InvalidCredentials,
    TooManyAttempts,
    /// The password hashing queue is full.
    Overloaded,
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    PayloadTooLarge,
    /// A cookie request from another site.
    Csrf,
    UsernameTaken,
    EmailTaken,
    UnknownRole,
    UnknownPermission,
    /// A role, permission or group of that name exists (names compare without case).
    NameTaken,
    /// A role or permission still held or given: delete it with `cascade=true`.
    InUse,
    /// An account has as many live API keys as it may.
    TooManyApiKeys,
    PasswordTooCommon,
    WrongPassword,
    RefreshTokenRequired,
    RefreshTokenInvalid,
    RefreshTokenExpired,
    RefreshTokenReused,
    LastAdmin,
    /// No mail server is set: the route that sends mail cannot.
    MailDisabled,
    /// `PORTCULLIS_REQUIRE_VERIFIED_EMAIL`: the account's address must be verified first.
    EmailNotVerified,
    AlreadyVerified,
    /// `PORTCULLIS_MAGIC_LINKS` is off.
    MagicLinksDisabled,
    /// No relying party browsers accept is configured (`PORTCULLIS_RP_ID`).
    PasskeysDisabled,
    /// A passkey registration that does not verify.
    PasskeyRejected,
    /// A passkey sign-in that does not verify, whatever the reason.
    PasskeyInvalid,
    PasskeyExists,
    TooManyPasskeys,
    /// A second step with a passkey, for an account without one.
    NoPasskey,
    /// Removing a factor needs a recent sign-in or the password.
    ReauthenticationRequired,
    TotpAlreadyEnabled,
    TotpNotPending,
    /// The second step's token is unknown, used or expired.
    MfaTokenInvalid,
    /// A wrong TOTP or recovery code, or a passkey that does not verify, at the second step.
    MfaCodeInvalid,
    /// An authorization request whose client or redirect URI is wrong (not redirected).
    OauthInvalidRequest,
    /// A consent page's request that expired or was answered.
    OauthRequestUnknown,
    /// A device's user code that is unknown, expired or already answered.
    DeviceCodeUnknown,
    /// An upstream identity provider could not be reached, or answered garbage.
    ProviderUnavailable,
    /// Unlinking an identity would leave the account no way to sign in.
    LastSigninMethod,
    /// A logo whose bytes are not the image type its Content-Type declares.
    LogoInvalid,
    /// `PORTCULLIS_PASSKEY_SIGNUP` is off.
    PasskeySignupDisabled,
    /// `/health/ready`: the database does not answer.
    NotReady,
    /// The database cannot be reached: retry shortly.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::LogoInvalid => "logo_invalid",
            ErrorCode::PasskeySignupDisabled => "passkey_signup_disabled",
            ErrorCode::Csrf => "csrf",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::UnknownRole => "unknown_role",
            ErrorCode::UnknownPermission => "unknown_permission",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::InUse => "in_use",
            ErrorCode::TooManyApiKeys => "too_many_api_keys",
            ErrorCode::PasswordTooCommon => "password_too_common",
            ErrorCode::WrongPassword => "wrong_password",
            ErrorCode::RefreshTokenRequired => "refresh_token_required",
            ErrorCode::RefreshTokenInvalid => "refresh_token_invalid",
            ErrorCode::RefreshTokenExpired => "refresh_token_expired",
            ErrorCode::RefreshTokenReused => "refresh_token_reused",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::MailDisabled => "mail_disabled",
            ErrorCode::EmailNotVerified => "email_not_verified",
            ErrorCode::AlreadyVerified => "already_verified",
            ErrorCode::MagicLinksDisabled => "magic_links_disabled",
            ErrorCode::PasskeysDisabled => "passkeys_disabled",
            ErrorCode::PasskeyRejected => "passkey_rejected",
            ErrorCode::PasskeyInvalid => "passkey_invalid",
            ErrorCode::PasskeyExists => "passkey_exists",
            ErrorCode::TooManyPasskeys => "too_many_passkeys",
            ErrorCode::NoPasskey => "no_passkey",
            ErrorCode::ReauthenticationRequired => "reauthentication_required",
            ErrorCode::TotpAlreadyEnabled => "totp_already_enabled",
            ErrorCode::TotpNotPending => "totp_not_pending",
            ErrorCode::MfaTokenInvalid => "mfa_token_invalid",
            ErrorCode::MfaCodeInvalid => "mfa_code_invalid",
            ErrorCode::OauthInvalidRequest => "oauth_invalid_request",
            ErrorCode::OauthRequestUnknown => "oauth_request_unknown",
            ErrorCode::DeviceCodeUnknown => "device_code_unknown",
            ErrorCode::ProviderUnavailable => "provider_unavailable",
            ErrorCode::LastSigninMethod => "last_signin_method",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code; `as_str`'s match makes sure none is missing from it.
    const ALL: [ErrorCode; 52] = [
        ErrorCode::InvalidRequest,
        ErrorCode::Forbidden,
        ErrorCode::Unauthenticated,
        ErrorCode::TokenExpired,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidCredentials,
        ErrorCode::TooManyAttempts,
        ErrorCode::Overloaded,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Csrf,
        ErrorCode::UsernameTaken,
        ErrorCode::EmailTaken,
        ErrorCode::UnknownRole,
        ErrorCode::UnknownPermission,
        ErrorCode::NameTaken,
        ErrorCode::InUse,
        ErrorCode::TooManyApiKeys,
        ErrorCode::PasswordTooCommon,
        ErrorCode::WrongPassword,
        ErrorCode::RefreshTokenRequired,
        ErrorCode::RefreshTokenInvalid,
        ErrorCode::RefreshTokenExpired,
        ErrorCode::RefreshTokenReused,
        ErrorCode::LastAdmin,
        ErrorCode::MailDisabled,
        ErrorCode::EmailNotVerified,
        ErrorCode::AlreadyVerified,
        ErrorCode::MagicLinksDisabled,
        ErrorCode::PasskeysDisabled,
        ErrorCode::PasskeyRejected,
        ErrorCode::PasskeyInvalid,
        ErrorCode::PasskeyExists,
        ErrorCode::TooManyPasskeys,
        ErrorCode::NoPasskey,
        ErrorCode::ReauthenticationRequired,
        ErrorCode::TotpAlreadyEnabled,
        ErrorCode::TotpNotPending,
        ErrorCode::MfaTokenInvalid,
        ErrorCode::MfaCodeInvalid,
        ErrorCode::OauthInvalidRequest,
        ErrorCode::OauthRequestUnknown,
        ErrorCode::DeviceCodeUnknown,
        ErrorCode::ProviderUnavailable,
        ErrorCode::LastSigninMethod,
        ErrorCode::LogoInvalid,
        ErrorCode::PasskeySignupDisabled,
        ErrorCode::NotReady,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    #[test]
    fn every_wire_name_is_the_serialized_one_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
            assert!(seen.insert(code.as_str()), "{code:?} twice");
        }
    }
}
