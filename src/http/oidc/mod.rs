//! The OpenID Connect provider over HTTP (docs/API.md §5), one file a flow: discovery and
//! keys (`discovery`), the authorization endpoint and the consent page's API
//! (`authorize`), pushed authorization requests (`par`), the device grant's endpoints
//! (`device`), the token endpoint (`token`), userinfo (`userinfo`), revocation and
//! introspection (`introspection`), logout (`logout`) and the user's consents
//! (`consents`). The protocol endpoints answer in OAuth's own error shape
//! (`{"error", "error_description"}`, RFC 6749 §5.2: `error`); the web app's routes in
//! ours. Every path is a constant here, used by the routes' OpenAPI attributes and by
//! discovery alike, so the two cannot drift.
mod authorize;
pub(crate) mod client_auth;
mod consents;
mod device;
mod discovery;
mod error;
mod introspection;
mod logout;
mod par;
mod token;
mod userinfo;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::extractors::MaybeAuthUser;
use crate::service::oidc::Browser;

pub use error::{answers_oauth_errors, temporarily_unavailable, OAuthErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(discovery::discovery))
        .routes(routes!(discovery::jwks))
        .routes(routes!(authorize::authorize, authorize::authorize_post))
        .routes(routes!(authorize::view_request, authorize::decide))
        .routes(routes!(token::token))
        .routes(routes!(par::push))
        .routes(routes!(device::device_authorization))
        .routes(routes!(device::enter_user_code))
        .routes(routes!(userinfo::userinfo_get, userinfo::userinfo_post))
        .routes(routes!(introspection::revoke))
        .routes(routes!(introspection::introspect))
        .routes(routes!(consents::list_consents))
        .routes(routes!(consents::revoke_consent))
        .merge(logout::router())
}

pub const AUTHORIZE: &str = "/api/oauth/authorize";
pub const TOKEN: &str = "/api/oauth/token";
pub const PAR: &str = "/api/oauth/par";
pub const DEVICE_AUTHORIZATION: &str = "/api/oauth/device_authorization";
/// The device verification page's lookup of a user code.
pub const DEVICE_CODE_ENTRY: &str = "/api/oauth/device";
/// Where an ID token's distributed `groups` claim points (the service names it).
pub const USERINFO: &str = crate::service::oidc::USERINFO_PATH;
pub const REVOKE: &str = "/api/oauth/revoke";
pub const INTROSPECT: &str = "/api/oauth/introspect";
pub const LOGOUT: &str = "/api/oauth/logout";
pub const JWKS: &str = "/.well-known/jwks.json";
pub const DISCOVERY: &str = "/.well-known/openid-configuration";
/// The consent page's view of a request, and its answer.
pub const REQUEST: &str = "/api/oauth/requests/{request}";
pub const CONSENTS: &str = "/api/oauth/consents";
pub const CONSENT: &str = "/api/oauth/consents/{client_id}";
/// The logout confirmation page's two calls.
pub const LOGOUT_REQUEST: &str = "/api/oauth/logout/request";
pub const LOGOUT_CONFIRM: &str = "/api/oauth/logout/confirm";

/// What a client running in a browser (a single-page app with a public client) calls by
/// `fetch` from its own origin. None of them reads a cookie, so any origin may call them,
/// without credentials (`http::router::cors_for`); the rest of the provider is navigation
/// (authorize, logout), the web app's own calls, or for servers (introspection).
pub const OPEN_TO_ANY_ORIGIN: [&str; 7] = [
    DISCOVERY,
    JWKS,
    TOKEN,
    PAR,
    DEVICE_AUTHORIZATION,
    USERINFO,
    REVOKE,
];

/// The request's `DPoP` proof (RFC 9449 §4.1), if it carries one; more than one, or one
/// that is not text, is an error (§4.3 check 1).
fn dpop_header(headers: &axum::http::HeaderMap) -> Result<Option<&str>, ()> {
    let mut values = headers.get_all("dpop").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(one), None) => one.to_str().map(Some).map_err(|_| ()),
        (Some(_), Some(_)) => Err(()),
    }
}

/// The browser's session, when the request carries one.
fn browser(user: &MaybeAuthUser) -> Option<Browser> {
    user.0.as_ref().map(|u| Browser {
        user_id: u.id,
        session_id: u.session_id.clone(),
    })
}
