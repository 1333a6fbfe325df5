//! Userinfo (OpenID Connect Core §5.3), by GET and by form POST.
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::auth::dpop::ALGS;
use crate::http::docs::ErrorBody;
use crate::http::json::ApiJson;
use crate::service::oidc::dpop::Presented;
use crate::service::oidc::{self, Scheme};

use super::error::OAuthErrorBody;
use super::{dpop_header, USERINFO};

/// A client's access token from `Authorization: Bearer` or `Authorization: DPoP`
/// (RFC 9449 §7.1), with its scheme.
pub(super) fn presented_token(headers: &HeaderMap) -> Option<(String, Scheme)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return None;
    };
    Some((token.trim().to_string(), scheme))
}

async fn userinfo_with(
    state: &AppState,
    headers: &HeaderMap,
    method: &'static str,
    token: Option<(String, Scheme)>,
) -> Response {
    let p = state.provider();
    let refused = |error: &'static str, dpop: bool| {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            ApiJson(serde_json::json!({"error": error})),
        )
            .into_response();
        // A client that tried DPoP is told in its scheme, with the algorithms we take.
        let challenge = if dpop {
            format!(r#"DPoP error="{error}", algs="{}""#, ALGS.join(" "))
        } else {
            format!(r#"Bearer error="{error}""#)
        };
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    let Ok(proof) = dpop_header(headers) else {
        return refused("invalid_dpop_proof", true);
    };
    let Some((token, scheme)) = token else {
        return refused("invalid_request", proof.is_some());
    };
    let dpop = scheme == Scheme::Dpop || proof.is_some();
    let presented = proof.map(|proof| Presented {
        proof,
        method,
        url: format!("{}{USERINFO}", state.settings.public_base()),
    });
    match oidc::userinfo(&p, &token, scheme, presented.as_ref()).await {
        Ok(info) => ApiJson(info).into_response(),
        Err(_) => refused("invalid_token", dpop),
    }
}

/// The signed-in user's claims, as the token's scopes allow (OpenID Connect Core §5.3).
#[utoipa::path(get, path = USERINFO, tag = "openid",
    responses((status = 200, description = "sub, and preferred_username + name (profile), email + email_verified (email), roles (roles)"),
              (status = 401, description = "no token, or not a live client access token with openid: WWW-Authenticate names the error", body = OAuthErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = presented_token(&headers);
    userinfo_with(&state, &headers, "GET", token).await
}

/// As the GET; the token may also come in the form (RFC 6750 §2.2).
#[utoipa::path(post, path = USERINFO, tag = "openid",
    request_body(content_type = "application/x-www-form-urlencoded", description = "access_token, when it is not in the Authorization header"),
    responses((status = 200, description = "as GET"),
              (status = 401, description = "as GET", body = OAuthErrorBody),
              (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from_form = || {
        url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    };
    let token =
        presented_token(&headers).or_else(|| from_form().map(|token| (token, Scheme::Bearer)));
    userinfo_with(&state, &headers, "POST", token).await
}
