//! The authorization endpoint (GET and form POST), and the consent page's API: what a
//! request asks, and the user's answer.
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::branding_routes::client_logo_url;
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::extractors::{AuthUser, MaybeAuthUser, SigninBrowser};
use crate::http::json::ApiJson;
use crate::service::oidc::{self, AuthorizeParams, Browser, Next, OidcError};

use super::{browser, AUTHORIZE, REQUEST};

/// The authorization endpoint (RFC 6749 §4.1.1 with PKCE): 302 to the client with a code or
/// an error, or to the web app's consent page; 400 here when the client or redirect URI is
/// wrong, since nothing may then be redirected to.
#[utoipa::path(get, path = AUTHORIZE, tag = "openid",
    params(("client_id" = String, Query), ("redirect_uri" = String, Query), ("response_type" = String, Query, description = "code"),
           ("scope" = String, Query, description = "space-separated: openid, and any of profile email roles groups offline_access"),
           ("state" = Option<String>, Query), ("nonce" = Option<String>, Query),
           ("code_challenge" = Option<String>, Query, description = "S256; required for public clients"),
           ("code_challenge_method" = Option<String>, Query, description = "S256"),
           ("prompt" = Option<String>, Query, description = "none, login or consent"),
           ("max_age" = Option<u32>, Query, description = "seconds: an older sign-in must be made again (0: always)"),
           ("ui_locales" = Option<String>, Query, description = "the end user's languages, best first (en, de, es are spoken)")),
    responses((status = 302, description = "to the redirect URI with `code`, `state` and `iss`, or with `error` (RFC 6749 §4.1.2.1); or to the consent page `/oauth/consent?request=…` (with `ui_locales` when asked)"),
              (status = 400, description = "unknown client, or a redirect URI not registered for it: not redirected", body = ErrorBody),
              (status = 429, description = "this client left more requests waiting for consent than the server keeps (`PORTCULLIS_ANONYMOUS_STARTS_PER_MINUTE`); see Retry-After", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
pub(super) async fn authorize(
    State(state): State<AppState>,
    query: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
    SigninBrowser(user): SigninBrowser,
    origin: RequestOrigin,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    authorize_with(&state, params, &user, &origin).await
}

/// The authorization endpoint by POST (OIDC Core §3.1.2.1: the same parameters, form-encoded,
/// the same rules).
#[utoipa::path(post, path = AUTHORIZE, tag = "openid",
    request_body(content = AuthorizeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 302, description = "as the GET"),
              (status = 400, description = "as the GET", body = ErrorBody),
              (status = 415, body = ErrorBody),
              (status = 429, description = "as the GET; see Retry-After", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
pub(super) async fn authorize_post(
    State(state): State<AppState>,
    SigninBrowser(user): SigninBrowser,
    origin: RequestOrigin,
    form: Result<Form<AuthorizeParams>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(params) = form.map_err(page_form_error)?;
    authorize_with(&state, params, &user, &origin).await
}

/// The form of `POST /api/oauth/authorize`: the parameters of the GET.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads `AuthorizeParams`
pub struct AuthorizeForm {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    max_age: Option<u32>,
    ui_locales: Option<String>,
}

async fn authorize_with(
    state: &AppState,
    params: AuthorizeParams,
    user: &Option<AuthUser>,
    origin: &RequestOrigin,
) -> Result<Response, ApiError> {
    let p = state.provider();
    let browser = user.as_ref().map(|u| Browser {
        user_id: u.id,
        session_id: u.session_id.clone(),
    });
    match oidc::authorize(&p, params, browser, origin.client().ip).await {
        Ok(Next::ToClient(url)) => Ok(found(&url)),
        Ok(Next::ToConsent { token, ui_locales }) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("request", &token);
            if let Some(tags) = ui_locales {
                query.append_pair("ui_locales", &tags);
            }
            Ok(found(&format!("{}?{}", oidc::CONSENT_PAGE, query.finish())))
        }
        Err(e) => Err(page_error(e)),
    }
}

/// A form that does not parse: the wrong content type is a 415, anything else a 400.
pub(crate) fn page_form_error(e: FormRejection) -> ApiError {
    match e {
        FormRejection::InvalidFormContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the form as application/x-www-form-urlencoded.",
        ),
        other => ApiError::bad_request(other.body_text()),
    }
}

pub(crate) fn found(url: &str) -> Response {
    Redirect::to(url)
        .into_response()
        .with_status(StatusCode::FOUND)
}

trait WithStatus {
    fn with_status(self, status: StatusCode) -> Self;
}

impl WithStatus for Response {
    fn with_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

/// Errors of the routes the browser and the web app see, in our shape.
pub(crate) fn page_error(e: OidcError) -> ApiError {
    match e {
        OidcError::NoRedirect(why) => {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::OauthInvalidRequest, why)
        }
        OidcError::TooManyRequests(retry_after) => ApiError::too_many_requests(retry_after),
        OidcError::UnknownRequest => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::OauthRequestUnknown,
            "This sign-in request has expired or was already used.",
        ),
        OidcError::UnknownDeviceCode => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::DeviceCodeUnknown,
            "That code is not valid or has expired. Check the code on your device.",
        ),
        OidcError::SignInAgain => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::ReauthenticationRequired,
            "The application asks you to sign in again.",
        ),
        OidcError::Token { description, .. } => ApiError::bad_request(description),
        OidcError::Internal(e) => ApiError::failure(&e),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSummary {
    client_id: String,
    name: String,
    /// Its logo (`GET /api/branding/clients/{client_id}/logo`), naming its version; null: none.
    logo_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestBody {
    client: ClientSummary,
    /// What the client asks for: `openid`, and any of `profile email roles groups offline_access`.
    scopes: Vec<String>,
    /// The client asked for a fresh sign-in (`prompt=login`): sign out and in again first.
    sign_in_required: bool,
    /// The signed-in user allowed these scopes to this client before: the page may answer
    /// `{"approve": true}` without asking (the authorization endpoint could not tell, as for
    /// a form POST from another site, which brings no cookie). Never for a device.
    already_allowed: bool,
    /// A device asks (RFC 8628): warn that only the user's own device, showing this code,
    /// should be allowed; never answer without asking.
    device: bool,
}

/// What the consent page shows: who asks, for what.
#[utoipa::path(get, path = REQUEST, tag = "openid",
    params(("request" = String, Path, description = "the token the authorization endpoint put in the consent page's URL")),
    responses((status = 200, body = RequestBody),
              (status = 404, description = "expired (10 minutes) or already answered: `oauth_request_unknown`", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
pub(super) async fn view_request(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    user: MaybeAuthUser,
) -> Result<ApiJson<RequestBody>, ApiError> {
    let Path(token) = path.map_err(|_| page_error(OidcError::UnknownRequest))?;
    let p = state.provider();
    let view = oidc::view_request(&p, &token, browser(&user).as_ref())
        .await
        .map_err(page_error)?;
    Ok(ApiJson(RequestBody {
        client: ClientSummary {
            logo_url: view
                .client_logo
                .map(|v| client_logo_url(&view.client_id, v)),
            client_id: view.client_id,
            name: view.client_name,
        },
        scopes: view.scopes,
        sign_in_required: view.sign_in_required,
        already_allowed: view.already_allowed,
        device: view.device,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// true: allow (the consent is remembered for this client and these scopes).
    approve: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionBody {
    /// Where the browser goes now: the client's redirect URI with a code, or with
    /// `error=access_denied`; for a device, the verification page's result
    /// (`/device?result=approved` or `denied`).
    redirect_to: String,
}

/// The signed-in user's answer to a request.
#[utoipa::path(post, path = REQUEST, tag = "openid",
    params(("request" = String, Path)), request_body = DecisionRequest,
    responses((status = 200, body = DecisionBody),
              (status = 400, description = "a malformed body, or the redirect URI was unregistered meanwhile", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "`reauthentication_required`: the client asked for a sign-in newer than this session, or a cross-site request (`csrf`)", body = ErrorBody),
              (status = 404, description = "`oauth_request_unknown`", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn decide(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    user: AuthUser,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> Result<ApiJson<DecisionBody>, ApiError> {
    let Path(token) = path.map_err(|_| page_error(OidcError::UnknownRequest))?;
    let p = state.provider();
    let browser = Browser {
        user_id: user.id,
        session_id: user.session_id.clone(),
    };
    let redirect_to = oidc::decide(&p, &token, &browser, body.approve, origin.client())
        .await
        .map_err(page_error)?;
    Ok(ApiJson(DecisionBody { redirect_to }))
}
