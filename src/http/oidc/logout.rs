//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0; docs/API.md §5): the
//! `end_session_endpoint` by GET and by form POST, and the web app's confirmation page's two
//! calls. A session ends at once only on the word of its own cookies on a request from our
//! own origin; anything else is asked of the user on `/oauth/logout`.
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::cookies;
use crate::http::docs::{ErrorBody, MessageBody};
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::extractors::MaybeAuthUser;
use crate::http::json::ApiJson;
use crate::service::oidc;

use super::authorize::{found, page_error, page_form_error};
use super::{LOGOUT, LOGOUT_CONFIRM, LOGOUT_REQUEST};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(logout, logout_post))
        .routes(routes!(logout_request))
        .routes(routes!(logout_confirm))
}

/// The parameters of RP-initiated logout, by query or form. Others the specification
/// allows (`ui_locales`, `logout_hint`) are accepted and not used.
#[derive(Deserialize)]
struct LogoutQuery {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    #[allow(dead_code)] // the hint names the client; accepted as the spec allows
    client_id: Option<String>,
}

/// The web app's page where a user confirms a logout that came without their cookies.
pub const LOGOUT_PAGE: &str = "/oauth/logout";

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). With this browser's own
/// session cookies, of the user the ID token names: ends that session and the one the hint
/// names, clears the cookies, and returns to the client's registered post-logout URI.
/// Without them (a request from another site brings no SameSite=Strict cookies, or none
/// at all): ends nothing and sends the browser to the web app's page `/oauth/logout`, where
/// the user confirms (§2: the OP asks the user whether to log out).
#[utoipa::path(get, path = LOGOUT, tag = "openid",
    params(("id_token_hint" = String, Query, description = "an ID token we issued (expired ones too)"),
           ("post_logout_redirect_uri" = Option<String>, Query, description = "one the client registered"),
           ("state" = Option<String>, Query),
           ("client_id" = Option<String>, Query, description = "accepted; the hint names the client")),
    responses((status = 302, description = "signed out: to post_logout_redirect_uri, with state"),
              (status = 303, description = "without this user's session cookies: to the confirmation page `/oauth/logout?…` (nothing ended)"),
              (status = 200, description = "signed out, no redirect asked for", body = MessageBody),
              (status = 400, description = "no or a bad id_token_hint, or an unregistered post-logout URI", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    query: Result<Query<LogoutQuery>, axum::extract::rejection::QueryRejection>,
    user: MaybeAuthUser,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    logout_with(&state, q, user, &headers, jar).await
}

/// RP-initiated logout by POST (§2: the same parameters, form-encoded, the same rules).
#[utoipa::path(post, path = LOGOUT, tag = "openid",
    request_body(content = LogoutForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 302, description = "as the GET"), (status = 303, description = "as the GET"),
              (status = 200, description = "as the GET", body = MessageBody),
              (status = 400, description = "as the GET", body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn logout_post(
    State(state): State<AppState>,
    user: MaybeAuthUser,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<LogoutQuery>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(q) = form.map_err(page_form_error)?;
    logout_with(&state, q, user, &headers, jar).await
}

/// The form of `POST /api/oauth/logout`: the parameters of the GET.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads `LogoutQuery`
pub struct LogoutForm {
    id_token_hint: String,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

async fn logout_with(
    state: &AppState,
    q: LogoutQuery,
    user: MaybeAuthUser,
    headers: &HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    let hint = q.id_token_hint.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::OauthInvalidRequest,
            "id_token_hint is required.",
        )
    })?;
    let p = state.provider();
    let request = oidc::logout_request(
        &p,
        hint,
        q.post_logout_redirect_uri.as_deref(),
        q.state.as_deref(),
    )
    .await
    .map_err(page_error)?;
    // Only this browser's own cookies, on a request from our own origin (or typed in),
    // speak for the user: a bearer token, another user's session, no cookies at all (any
    // request from another site) or a sibling site's page go to the page that asks.
    let by_cookie = !headers.contains_key(header::AUTHORIZATION)
        && cookies::present(headers)
        && !crate::http::middleware::is_cross_site(state, headers);
    let Some(own) = user
        .0
        .filter(|u| by_cookie && Some(u.id) == request.user_id)
    else {
        return Ok(see_other(&confirmation_page(&q)));
    };
    oidc::end_hinted_session(&p, &request)
        .await
        .map_err(page_error)?;
    crate::auth::sessions::end(&state.sessions(), &own.session_id).await?;
    let jar = cookies::add_to(jar, cookies::cleared(state));
    Ok(match request.redirect {
        Some(url) => (jar, found(&url)).into_response(),
        None => (jar, ApiJson(MessageBody::new("You've been signed out!"))).into_response(),
    })
}

/// `/oauth/logout` with the request's own parameters, for the page to check and confirm.
fn confirmation_page(q: &LogoutQuery) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("id_token_hint", &q.id_token_hint),
        ("post_logout_redirect_uri", &q.post_logout_redirect_uri),
        ("state", &q.state),
    ] {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    format!("{LOGOUT_PAGE}?{}", query.finish())
}

fn see_other(url: &str) -> Response {
    let mut response = Redirect::to(url).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LogoutRequestQuery {
    /// An ID token we issued (expired ones too).
    id_token_hint: String,
    /// One the client registered.
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutRequestBody {
    /// The application that asks.
    client_name: String,
    /// Where the browser goes afterwards (the registered URI with `state`), if asked.
    redirect_to: Option<String>,
}

/// What the logout confirmation page shows: which application asks, and where the
/// browser goes afterwards.
#[utoipa::path(get, path = LOGOUT_REQUEST, tag = "openid",
    params(LogoutRequestQuery),
    responses((status = 200, body = LogoutRequestBody),
              (status = 400, description = "a bad id_token_hint, or an unregistered post-logout URI (`oauth_invalid_request`)", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn logout_request(
    State(state): State<AppState>,
    query: Result<Query<LogoutRequestQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ApiJson<LogoutRequestBody>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let p = state.provider();
    let request = oidc::logout_request(
        &p,
        &q.id_token_hint,
        q.post_logout_redirect_uri.as_deref(),
        q.state.as_deref(),
    )
    .await
    .map_err(page_error)?;
    Ok(ApiJson(LogoutRequestBody {
        client_name: request.client_name,
        redirect_to: request.redirect,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoutConfirm {
    id_token_hint: String,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutDone {
    #[schema(example = "You've been signed out!")]
    message: String,
    redirect_to: Option<String>,
}

/// The user confirmed the logout on the page: this browser's session ends (and the one
/// the hint names, when it is the same user's). Not signed in: nothing to end, the same
/// answer, so the page can go on to the application.
#[utoipa::path(post, path = LOGOUT_CONFIRM, tag = "openid", request_body = LogoutConfirm,
    responses((status = 200, body = LogoutDone),
              (status = 400, description = "a bad id_token_hint, or an unregistered post-logout URI (`oauth_invalid_request`)", body = ErrorBody),
              (status = 403, description = "a cross-site request (`csrf`)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn logout_confirm(
    State(state): State<AppState>,
    user: MaybeAuthUser,
    jar: CookieJar,
    ApiJson(body): ApiJson<LogoutConfirm>,
) -> Result<Response, ApiError> {
    let p = state.provider();
    let request = oidc::logout_request(
        &p,
        &body.id_token_hint,
        body.post_logout_redirect_uri.as_deref(),
        body.state.as_deref(),
    )
    .await
    .map_err(page_error)?;
    let mut jar = jar;
    if let Some(own) = user.0 {
        if Some(own.id) == request.user_id {
            oidc::end_hinted_session(&p, &request)
                .await
                .map_err(page_error)?;
        }
        crate::auth::sessions::end(&state.sessions(), &own.session_id).await?;
        jar = cookies::add_to(jar, cookies::cleared(&state));
    }
    let done = LogoutDone {
        message: "You've been signed out!".into(),
        redirect_to: request.redirect,
    };
    Ok((jar, ApiJson(done)).into_response())
}
