//! Languages (docs/API.md §1, "Languages"): the one a request asks for (the web app's
//! choice in the `portcullis_locale` cookie, else the browser's `Accept-Language`), which
//! the mails it queues speak, and the one an account chose, which its mails speak
//! whatever asks. API answers stay English with a stable code.
use std::convert::Infallible;

use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::domain::Locale;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extractors::AuthUser;
use crate::http::json::ApiJson;
use crate::store;

/// The cookie the web app keeps its visitor's choice in: a preference, not a secret, so
/// the app's own script sets it.
pub const LOCALE_COOKIE: &str = "portcullis_locale";

/// The request's language, if it names one we speak.
pub struct RequestLocale(pub Option<Locale>);

impl<S: Send + Sync> FromRequestParts<S> for RequestLocale {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let jar = CookieJar::from_headers(&parts.headers);
        let chosen = jar
            .get(LOCALE_COOKIE)
            .and_then(|c| Locale::parse(c.value()));
        let accepted = || {
            parts
                .headers
                .get_all(header::ACCEPT_LANGUAGE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(Locale::negotiate)
        };
        Ok(RequestLocale(chosen.or_else(accepted)))
    }
}

/// The account's language, for its mails, and for the web app on another device.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_locale, set_locale))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocaleBody {
    /// `en`, `de` or `es`; null: none chosen (mails follow the request that asked for them).
    #[schema(example = "de")]
    locale: Option<String>,
}

/// The language the signed-in account chose, if any.
#[utoipa::path(get, path = "/api/auth/locale", tag = "account",
    responses((status = 200, body = LocaleBody), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn get_locale(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<ApiJson<LocaleBody>, ApiError> {
    let locale = store::users::locale(&state.db, user.id)
        .await?
        .and_then(|l| Locale::parse(&l))
        .map(|l| l.tag().to_string());
    Ok(ApiJson(LocaleBody { locale }))
}

/// Chooses the account's language: its mails speak it from now on, whatever browser asks.
#[utoipa::path(put, path = "/api/auth/locale", tag = "account", request_body = LocaleBody,
    responses((status = 200, body = LocaleBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn set_locale(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<LocaleBody>,
) -> Result<ApiJson<LocaleBody>, ApiError> {
    let locale = match body.locale.as_deref() {
        None => None,
        Some(tag) => Some(
            Locale::ALL
                .into_iter()
                .find(|l| l.tag() == tag)
                .ok_or_else(|| ApiError::bad_request("locale must be en, de, es or null."))?,
        ),
    };
    let tag = locale.map(Locale::tag);
    if !store::users::set_locale(&state.db, user.id, tag).await? {
        return Err(ApiError::invalid_token());
    }
    Ok(ApiJson(LocaleBody {
        locale: tag.map(String::from),
    }))
}
