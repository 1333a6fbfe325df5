//! Signing in with an upstream identity provider, over HTTP (docs/API.md §2, "Signing in
//! with a provider"): the login page's list, the start (a browser navigation), the
//! callback the provider redirects back to, and a signed-in account's link of another
//! identity. The browser that starts carries the `state` back in a cookie of its own
//! (`portcullis_upstream`), so a callback another browser was sent to finishes nothing.
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::client_ip::RequestOrigin;
use crate::http::cookies;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::service::ending::Outcome;
use crate::service::mfa::Method;
use crate::service::providers;
use crate::service::upstream::{
    self, Callback, Finished, ProviderSigninError, Upstream, PENDING_TTL_SECS,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_enabled_providers))
        .routes(routes!(start_provider_signin))
        .routes(routes!(provider_callback, provider_form_post_callback))
        .routes(routes!(link_provider))
}

/// The cookie that carries a started sign-in's `state` back to the callback.
const STATE_COOKIE: &str = "portcullis_upstream";
const STATE_PATH: &str = "/api/auth/providers";
/// Where a browser lands when nothing better was asked for.
const HOME: &str = "/";
const LOGIN: &str = "/login";

fn upstream<'a>(state: &'a AppState, public_base: &'a str) -> Upstream<'a> {
    Upstream {
        sealer: &state.provider_sealer,
        http: &state.upstream_http,
        cache: &state.upstream_cache,
        public_base,
    }
}

/// A path on this site: one slash, then anything but a second slash or backslash (which
/// browsers read as another host), no control characters, at most 512 bytes.
fn local_path(path: &str) -> Option<String> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 512
        && !path.chars().any(|c| c.is_control());
    ok.then(|| path.to_string())
}

/// How the provider's answer comes back, which decides the state cookie's `SameSite`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// A redirect: a top-level GET from another site, which `Lax` cookies go with.
    Redirect,
    /// A cross-site form POST (Apple's `form_post`), which only `None` cookies go with;
    /// browsers take those only with `Secure`, and Apple takes only https callbacks.
    FormPost,
}

fn state_cookie(
    state: &AppState,
    value: String,
    max_age_secs: i64,
    answer: Answer,
) -> Cookie<'static> {
    let (same_site, secure) = match answer {
        Answer::Redirect => (SameSite::Lax, state.settings.cookie_secure),
        Answer::FormPost => (SameSite::None, true),
    };
    Cookie::build((STATE_COOKIE, value))
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .path(STATE_PATH)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

fn answered_by(started: &upstream::Started) -> Answer {
    if started.form_post {
        Answer::FormPost
    } else {
        Answer::Redirect
    }
}

fn see_other(jar: CookieJar, to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static(HOME));
    (StatusCode::SEE_OTHER, jar, [(header::LOCATION, location)]).into_response()
}

fn login_error(jar: CookieJar, code: &str) -> Response {
    see_other(jar, &format!("{LOGIN}?error={code}"))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderButton {
    #[schema(example = "acme")]
    id: String,
    #[schema(example = "oidc")]
    kind: &'static str,
    #[schema(example = "Acme SSO")]
    display_name: String,
    /// A `data:` image URL, or null.
    icon: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderButtons {
    items: Vec<ProviderButton>,
}

/// The enabled providers, for the login page's "Continue with …" buttons.
#[utoipa::path(get, path = "/api/auth/providers", tag = "auth",
    responses((status = 200, body = ProviderButtons),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn list_enabled_providers(
    State(state): State<AppState>,
) -> Result<ApiJson<ProviderButtons>, ApiError> {
    let items = providers::list(&state.db)
        .await?
        .into_iter()
        .filter(|p| p.enabled)
        .map(|p| ProviderButton {
            id: p.id,
            kind: p.kind.name(),
            display_name: p.config.display_name,
            icon: p.config.icon,
        })
        .collect();
    Ok(ApiJson(ProviderButtons { items }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct StartQuery {
    /// A path on this site to land on once signed in (an OpenID Connect client's pending
    /// authorization, say); default `/`.
    return_to: Option<String>,
}

/// Sends the browser to the provider to sign in (303), with a `state` cookie for the way
/// back. A provider that is unknown, off or unreachable sends it to `/login?error=…`.
#[utoipa::path(get, path = "/api/auth/providers/{id}/start", tag = "auth",
    params(("id" = String, Path), StartQuery),
    responses((status = 303, description = "to the provider, or to `/login?error=…`")))]
async fn start_provider_signin(
    State(state): State<AppState>,
    origin: RequestOrigin,
    jar: CookieJar,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Response {
    let (Ok(Path(id)), Ok(Query(query))) = (path, query) else {
        return login_error(jar, "invalid_request");
    };
    let return_to = query.return_to.as_deref().and_then(local_path);
    let started = upstream::start(
        &state.factors(),
        upstream(&state, &state.settings.public_base()),
        origin.client(),
        &id,
        None,
        return_to,
    )
    .await;
    match started {
        Ok(started) => {
            let answer = answered_by(&started);
            let jar = jar.add(state_cookie(
                &state,
                started.state,
                PENDING_TTL_SECS,
                answer,
            ));
            see_other(jar, started.redirect_to.as_str())
        }
        Err(e) => {
            log_failure(&e);
            login_error(jar, e.code())
        }
    }
}

fn log_failure(e: &ProviderSigninError) {
    if matches!(
        e,
        ProviderSigninError::Unavailable(_)
            | ProviderSigninError::Db(_)
            | ProviderSigninError::Internal(_)
            | ProviderSigninError::Factor(_)
    ) {
        tracing::warn!(error = %e, "a sign-in with a provider could not start");
    }
}

#[derive(Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// RFC 9207: the issuer that answered.
    iss: Option<String>,
    /// The provider's refusal (`access_denied` …), instead of a code.
    error: Option<String>,
    error_description: Option<String>,
    /// Apple: the person's name, on the first sign-in only (JSON, unsigned).
    user: Option<String>,
}

/// Where the provider sends the browser back. Signed in: the session's cookies and 303 to
/// where the sign-in was started for; a second step to take: 303 to
/// `/login#mfa=…&methods=…`; anything wrong: 303 to `/login?error=…` and nothing made.
#[utoipa::path(get, path = "/api/auth/providers/{id}/callback", tag = "auth",
    params(("id" = String, Path), CallbackQuery),
    responses((status = 303, description = "to the page the sign-in was for, to the second step, or to `/login?error=…`")))]
async fn provider_callback(
    State(state): State<AppState>,
    origin: RequestOrigin,
    jar: CookieJar,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let answer = match (path, query) {
        (Ok(Path(id)), Ok(Query(query))) => Some((id, query)),
        _ => None,
    };
    finish_callback(state, origin, jar, answer).await
}

/// The same callback for a provider that answers with a form POST (Apple's
/// `response_mode=form_post`): the same fields in the body, the same rules.
#[utoipa::path(post, path = "/api/auth/providers/{id}/callback", tag = "auth",
    params(("id" = String, Path)),
    request_body(content = CallbackQuery, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "to the page the sign-in was for, to the second step, or to `/login?error=…`")))]
async fn provider_form_post_callback(
    State(state): State<AppState>,
    origin: RequestOrigin,
    jar: CookieJar,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<CallbackQuery>, FormRejection>,
) -> Response {
    let answer = match (path, form) {
        (Ok(Path(id)), Ok(Form(query))) => Some((id, query)),
        _ => None,
    };
    finish_callback(state, origin, jar, answer).await
}

async fn finish_callback(
    state: AppState,
    origin: RequestOrigin,
    jar: CookieJar,
    answer: Option<(String, CallbackQuery)>,
) -> Response {
    let browser_state = jar.get(STATE_COOKIE).map(|c| c.value().to_string());
    // The state cookie is spent whatever happens.
    let jar = jar.add(state_cookie(&state, String::new(), 0, Answer::Redirect));
    let Some((id, query)) = answer else {
        return login_error(jar, "invalid_request");
    };
    if let (Some(error), Some(description)) = (&query.error, &query.error_description) {
        tracing::debug!(provider = %id, error, description, "the provider refused a sign-in");
    }
    let answer = Callback {
        code: query.code.as_deref(),
        state: query.state.as_deref(),
        iss: query.iss.as_deref(),
        error: query.error.as_deref(),
        browser_state: browser_state.as_deref(),
        user: query.user.as_deref(),
    };
    let finished = upstream::callback(
        &state.factors(),
        upstream(&state, &state.settings.public_base()),
        origin.client(),
        state.signin_rules().require_mfa_for,
        &id,
        answer,
    )
    .await;
    match finished {
        Ok(Finished::Signin { outcome, return_to }) => {
            let to = return_to.as_deref().and_then(local_path);
            match *outcome {
                Outcome::SignedIn(done) => {
                    let jar = cookies::add_to(jar, cookies::issued(&state, &done.issued));
                    see_other(jar, to.as_deref().unwrap_or(HOME))
                }
                Outcome::SecondStep(step) => {
                    // In the fragment: it never reaches a server or a log, and the login
                    // page takes it out of the address at once.
                    let methods: Vec<&str> = step
                        .methods
                        .iter()
                        .map(|m| match m {
                            Method::Totp => "totp",
                            Method::Passkey => "passkey",
                            Method::Recovery => "recovery",
                        })
                        .collect();
                    let mut fragment = url::form_urlencoded::Serializer::new(String::new());
                    fragment
                        .append_pair("mfa", &step.token)
                        .append_pair("methods", &methods.join(","));
                    if step.enrolment {
                        fragment.append_pair("enrolment", "1");
                    }
                    if let Some(to) = &to {
                        fragment.append_pair("returnTo", to);
                    }
                    see_other(jar, &format!("{LOGIN}#{}", fragment.finish()))
                }
            }
        }
        Ok(Finished::Linked { return_to }) => {
            let to = return_to.as_deref().and_then(local_path);
            see_other(jar, to.as_deref().unwrap_or(HOME))
        }
        Err(e) => login_error(jar, e.code()),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkRequest {
    /// The account's password, when it has not signed in within the last 10 minutes.
    #[schema(value_type = Option<String>)]
    password: Option<SecretString>,
    /// A path on this site to land on once linked; default `/`.
    return_to: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkStarted {
    /// Where to send the browser: the provider's sign-in.
    redirect_to: String,
}

/// A signed-in account begins linking an identity at a provider: like adding a factor, it
/// needs a recent sign-in or the password. Answers where to send the browser, with the
/// `state` cookie for the way back.
#[utoipa::path(post, path = "/api/auth/providers/{id}/link", tag = "auth", request_body = LinkRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = LinkStarted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "not signed in recently (`reauthentication_required`), or a wrong password", body = ErrorBody),
              (status = 404, description = "no such provider, or it is off", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 502, description = "the provider cannot be reached", body = ErrorBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn link_provider(
    State(state): State<AppState>,
    user: AuthUser,
    origin: RequestOrigin,
    jar: CookieJar,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<LinkRequest>,
) -> Result<Response, ApiError> {
    let id = path.map(|Path(id)| id).map_err(|_| ApiError::not_found())?;
    crate::service::factors::require_recent(
        &state.factors(),
        user.id,
        &user.session_id,
        origin.client(),
        body.password,
        crate::audit::Event::ProviderLinked,
    )
    .await?;
    let return_to = body.return_to.as_deref().and_then(local_path);
    let started = upstream::start(
        &state.factors(),
        upstream(&state, &state.settings.public_base()),
        origin.client(),
        &id,
        Some(user.id),
        return_to,
    )
    .await?;
    let answer = answered_by(&started);
    let jar = jar.add(state_cookie(
        &state,
        started.state,
        PENDING_TTL_SECS,
        answer,
    ));
    let body = LinkStarted {
        redirect_to: started.redirect_to.to_string(),
    };
    Ok((jar, ApiJson(body)).into_response())
}
