//! Discovery (OpenID Connect Discovery 1.0, RFC 8414) and the keys (RFC 7517).
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

use super::{
    AUTHORIZE, DEVICE_AUTHORIZATION, DISCOVERY, INTROSPECT, JWKS, LOGOUT, PAR, REVOKE, TOKEN,
    USERINFO,
};

/// The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414).
#[utoipa::path(get, path = DISCOVERY, tag = "openid",
    responses((status = 200, description = "the provider's metadata: issuer (PORTCULLIS_PUBLIC_URL), endpoints, algorithms, scopes, claims")))]
pub(super) async fn discovery(State(state): State<AppState>) -> Response {
    let issuer = state.settings.public_base();
    // RS256 first: OIDC Discovery §3 requires it, and some relying parties take the first.
    let algs: Vec<&str> = state
        .tokens
        .ring()
        .algs()
        .into_iter()
        .map(|alg| alg.name())
        .collect();
    let document = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE}"),
        "token_endpoint": format!("{issuer}{TOKEN}"),
        "pushed_authorization_request_endpoint": format!("{issuer}{PAR}"),
        "require_pushed_authorization_requests": false,
        "device_authorization_endpoint": format!("{issuer}{DEVICE_AUTHORIZATION}"),
        "userinfo_endpoint": format!("{issuer}{USERINFO}"),
        "jwks_uri": format!("{issuer}{JWKS}"),
        "revocation_endpoint": format!("{issuer}{REVOKE}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT}"),
        "end_session_endpoint": format!("{issuer}{LOGOUT}"),
        "scopes_supported": crate::domain::oauth::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": crate::domain::oauth::GRANT_TYPES,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": crate::domain::Locale::ALL.map(|l| l.tag()),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr",
            "sid", "azp", "at_hash", "preferred_username", "name", "email", "email_verified", "roles",
            "groups", "permissions"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "dpop_signing_alg_values_supported": crate::auth::dpop::ALGS,
        "backchannel_logout_session_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    public_document(document.to_string(), 300)
}

/// The public keys tokens are signed with (RFC 7517), the ones about to sign included.
#[utoipa::path(get, path = JWKS, tag = "openid",
    responses((status = 200, description = "a JWK Set: every key that signs or signed a live token, with kid, alg and use")))]
pub(super) async fn jwks(State(state): State<AppState>) -> Response {
    // Short caching: a rotated key is published a minute before it signs.
    public_document(state.tokens.ring().jwks().to_string(), 60)
}

/// JSON anyone may read, from any origin, for a while.
fn public_document(body: String, max_age: u32) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
