//! Branding (docs/API.md §2, "Branding"): read by every page before anyone signs in, set
//! by admins (the same use cases as `portcullis branding …`). The logo is served from here,
//! so the pages need no asset from another origin.
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::clock::Millis;
use crate::domain::branding::{LogoRejection, LogoType};
use crate::http::admin_routes::{actor, Admin};
use crate::http::client_ip::RequestOrigin;
use crate::http::docs::ErrorBody;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::json::ApiJson;
use crate::service::branding::{self, Branding, BrandingChange};
use crate::service::clients;
use crate::store::branding::Logo;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_branding))
        .routes(routes!(get_logo))
        .routes(routes!(get_client_logo))
        .routes(routes!(set_branding))
        .routes(routes!(set_logo, remove_logo))
}

const LOGO: &str = "/api/branding/logo";

#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct FooterLinkBody {
    #[schema(example = "Privacy")]
    text: String,
    #[schema(example = "https://example.com/privacy")]
    url: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrandingBody {
    /// The operator's name for the service, `Portcullis` unless set.
    #[schema(example = "Acme ID")]
    product_name: String,
    /// `#rrggbb`, or null for the app's own.
    #[schema(example = "#7a1fa2")]
    primary_color: Option<String>,
    /// Where the logo is, with its version (a new logo has a new URL); null without one.
    #[schema(example = "/api/branding/logo?v=1733550000000")]
    logo_url: Option<String>,
    footer_link: Option<FooterLinkBody>,
}

impl From<Branding> for BrandingBody {
    fn from(b: Branding) -> Self {
        BrandingBody {
            product_name: b.product_name,
            primary_color: b.primary_color,
            logo_url: b.logo_version.map(|v| format!("{LOGO}?v={v}")),
            footer_link: b.footer_link.map(|f| FooterLinkBody {
                text: f.text,
                url: f.url,
            }),
        }
    }
}

/// What the pages show of the operator: name, colour, logo, footer link. Open to anyone.
#[utoipa::path(get, path = "/api/branding", tag = "branding",
    responses((status = 200, body = BrandingBody),
              (status = 503, description = "the database is unreachable; see Retry-After", body = ErrorBody)))]
async fn get_branding(State(state): State<AppState>) -> Result<ApiJson<BrandingBody>, ApiError> {
    Ok(ApiJson(branding::get(&state.db).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoQuery {
    /// The version `logoUrl` names: when it is the current one, the answer may be cached
    /// for good.
    v: Option<String>,
}

/// The product's logo, as uploaded. Open to anyone.
#[utoipa::path(get, path = "/api/branding/logo", tag = "branding", params(LogoQuery),
    responses((status = 200, description = "the image (PNG, JPEG, WebP or SVG)", content_type = "image/*"),
              (status = 404, description = "no logo is set", body = ErrorBody),
              (status = 503, body = ErrorBody)))]
async fn get_logo(
    State(state): State<AppState>,
    query: Result<Query<LogoQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Some(logo) = branding::logo(&state.db).await? else {
        return Err(ApiError::not_found());
    };
    Ok(logo_response(logo, query.ok().and_then(|Query(q)| q.v)))
}

/// An OpenID Connect client's logo, as an admin uploaded it. Open to anyone: the sign-in
/// and consent pages show it before anyone signs in.
#[utoipa::path(get, path = "/api/branding/clients/{client_id}/logo", tag = "branding",
    params(("client_id" = String, Path), LogoQuery),
    responses((status = 200, description = "the image (PNG, JPEG, WebP or SVG)", content_type = "image/*"),
              (status = 404, description = "no such client, or it has no logo", body = ErrorBody),
              (status = 503, body = ErrorBody)))]
async fn get_client_logo(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<LogoQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(client_id) = path.map_err(|_| ApiError::not_found())?;
    let Some(logo) = clients::logo(&state.db, &client_id).await? else {
        return Err(ApiError::not_found());
    };
    Ok(logo_response(logo, query.ok().and_then(|Query(q)| q.v)))
}

/// A stored logo as its own type, never as a document that could run a script; cached
/// for good when asked for by its current version.
fn logo_response(logo: Logo, version: Option<String>) -> Response {
    let current = version.is_some_and(|v| v == logo.updated_at.to_string());
    let mut response = Response::new(Body::from(logo.bytes));
    let headers = response.headers_mut();
    let content_type =
        HeaderValue::from_str(&logo.content_type).unwrap_or(HeaderValue::from_static("image/png"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if current {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // An SVG opened on its own is a document of our origin: nothing in it may run.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    response
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where a client's logo is, naming its version.
pub fn client_logo_url(client_id: &str, version: Millis) -> String {
    let id = utf8_percent_encode(client_id, SEGMENT);
    format!("/api/branding/clients/{id}/logo?v={version}")
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandingRequest {
    /// 1 to 60 characters; null or absent: `Portcullis`.
    #[schema(example = "Acme ID")]
    product_name: Option<String>,
    /// `#rrggbb`; null or absent: the app's own colours.
    #[schema(example = "#7a1fa2")]
    primary_color: Option<String>,
    /// Text of 1 to 60 characters and an http(s) URL of at most 2000; null or absent: none.
    footer_link: Option<FooterLinkBody>,
}

/// Replaces the branding's settings (its logo stays). Admins only.
#[utoipa::path(put, path = "/api/admin/branding", tag = "branding", request_body = BrandingRequest,
    responses((status = 200, body = BrandingBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn set_branding(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<BrandingRequest>,
) -> Result<ApiJson<BrandingBody>, ApiError> {
    let change = BrandingChange {
        product_name: body.product_name,
        primary_color: body.primary_color,
        footer_link: body.footer_link.map(|f| (f.text, f.url)),
    };
    let done = branding::update(&state.db, &state.clock, actor(&admin, &origin), change).await?;
    Ok(ApiJson(done.into()))
}

/// Sets the logo: the request's body is the image, its `Content-Type` says which kind.
/// Admins only.
#[utoipa::path(put, path = "/api/admin/branding/logo", tag = "branding",
    request_body(content = Vec<u8>, content_type = "image/png", description = "the image: PNG, JPEG (`image/jpeg`), WebP (`image/webp`) or SVG (`image/svg+xml`), at most 64 KiB"),
    responses((status = 200, body = BrandingBody),
              (status = 400, description = "the bytes are not the declared kind of image (`logo_invalid`)", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, description = "larger than 64 KiB", body = ErrorBody),
              (status = 415, description = "not PNG, JPEG, WebP or SVG", body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn set_logo(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<ApiJson<BrandingBody>, ApiError> {
    let kind = checked_logo(&headers, &body)?;
    let done = branding::set_logo(
        &state.db,
        &state.clock,
        actor(&admin, &origin),
        kind,
        body.to_vec(),
    )
    .await?;
    Ok(ApiJson(done.into()))
}

/// Removes the logo. Admins only.
#[utoipa::path(delete, path = "/api/admin/branding/logo", tag = "branding",
    responses((status = 200, body = BrandingBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn remove_logo(
    State(state): State<AppState>,
    Admin(admin): Admin,
    origin: RequestOrigin,
) -> Result<ApiJson<BrandingBody>, ApiError> {
    let done = branding::remove_logo(&state.db, &state.clock, actor(&admin, &origin)).await?;
    Ok(ApiJson(done.into()))
}

/// A logo's type, checked against its `Content-Type` and its bytes, or the answer saying why not.
pub fn checked_logo(headers: &HeaderMap, body: &[u8]) -> Result<LogoType, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    LogoType::check(content_type, body).map_err(logo_rejected)
}

fn logo_rejected(why: LogoRejection) -> ApiError {
    match why {
        LogoRejection::Type => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Content-Type must be image/png, image/jpeg, image/webp or image/svg+xml.",
        ),
        LogoRejection::TooLarge => crate::http::json_body::too_large(),
        LogoRejection::NotThatType(kind) => ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::LogoInvalid,
            format!("The body is not an image of type {kind}."),
        ),
    }
}
