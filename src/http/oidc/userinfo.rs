//! Userinfo (OpenID Connect Core §5.3), by GET and by form POST.
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::docs::ErrorBody;
use crate::http::json::ApiJson;
use crate::service::oidc;

use super::error::OAuthErrorBody;
use super::USERINFO;

/// A client's access token from `Authorization: Bearer`, or the form's `access_token`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
}

async fn userinfo_with(state: &AppState, token: Option<String>) -> Response {
    let p = state.provider();
    let refused = |error: &'static str| {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            ApiJson(serde_json::json!({"error": error})),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&format!(r#"Bearer error="{error}""#)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    let Some(token) = token else {
        return refused("invalid_request");
    };
    match oidc::userinfo(&p, &token).await {
        Ok(info) => ApiJson(info).into_response(),
        Err(_) => refused("invalid_token"),
    }
}

/// The signed-in user's claims, as the token's scopes allow (OpenID Connect Core §5.3).
#[utoipa::path(get, path = USERINFO, tag = "openid",
    responses((status = 200, description = "sub, and preferred_username + name (profile), email + email_verified (email), roles (roles)"),
              (status = 401, description = "no token, or not a live client access token with openid: WWW-Authenticate names the error", body = OAuthErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    userinfo_with(&state, bearer(&headers)).await
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
    let token = bearer(&headers).or_else(from_form);
    userinfo_with(&state, token).await
}
