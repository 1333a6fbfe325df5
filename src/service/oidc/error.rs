//! The provider's errors: `OidcError` for its callers, and `OAuthCode`, the `error` codes
//! of RFC 6749 §4.1.2.1 and §5.2 and OpenID Connect Core §3.1.2.6, each with the status the
//! token-style endpoints answer it with.
use crate::db::DbError;

/// An OAuth `error` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    InvalidToken,
    AccessDenied,
    LoginRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    InvalidDpopProof,
    ServerError,
    TemporarilyUnavailable,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthCode::InvalidRequest => "invalid_request",
            OAuthCode::InvalidClient => "invalid_client",
            OAuthCode::InvalidGrant => "invalid_grant",
            OAuthCode::UnauthorizedClient => "unauthorized_client",
            OAuthCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthCode::InvalidScope => "invalid_scope",
            OAuthCode::InvalidToken => "invalid_token",
            OAuthCode::AccessDenied => "access_denied",
            OAuthCode::LoginRequired => "login_required",
            OAuthCode::ConsentRequired => "consent_required",
            OAuthCode::RequestNotSupported => "request_not_supported",
            OAuthCode::RequestUriNotSupported => "request_uri_not_supported",
            OAuthCode::AuthorizationPending => "authorization_pending",
            OAuthCode::SlowDown => "slow_down",
            OAuthCode::ExpiredToken => "expired_token",
            OAuthCode::InvalidDpopProof => "invalid_dpop_proof",
            OAuthCode::ServerError => "server_error",
            OAuthCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status of the answer that carries it (RFC 6749 §5.2: 400, and 401 for a
    /// client that failed to authenticate). Codes sent in a redirect have none of their own.
    pub fn status(self) -> u16 {
        match self {
            OAuthCode::InvalidClient | OAuthCode::InvalidToken => 401,
            OAuthCode::ServerError => 500,
            OAuthCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The client or redirect URI is not what was registered: nothing may be redirected to,
    /// so the user is told on our own page (RFC 6749 §4.1.2.1).
    #[error("{0}")]
    NoRedirect(String),
    /// One address started more requests than the server will keep: wait this many seconds.
    #[error("too many authorization requests from this client")]
    TooManyRequests(u64),
    #[error("this sign-in request has expired or was already used")]
    UnknownRequest,
    #[error("sign in again to continue")]
    SignInAgain,
    /// A user code that names no device authorization waiting for an answer.
    #[error("this code is not valid or has expired")]
    UnknownDeviceCode,
    /// An RFC 6749 §5.2 error of the token endpoint (or of revocation, introspection).
    #[error("{}: {description}", code.as_str())]
    Token {
        code: OAuthCode,
        description: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for OidcError {
    fn from(e: DbError) -> Self {
        OidcError::Internal(e.into())
    }
}

/// An error of the token endpoint (or of revocation, introspection).
pub(super) fn token_error(code: OAuthCode, description: impl Into<String>) -> OidcError {
    OidcError::Token {
        code,
        description: description.into(),
    }
}
