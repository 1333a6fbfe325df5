//! The OpenAPI document, generated from the route annotations, and its offline viewer.
use std::sync::Arc;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::Extension;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::http::error_code::ErrorCode;
use crate::http::json::ApiJson;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error: `message` for people, `code` for programs.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(example = "Unauthorized!")]
    pub message: String,
    /// One of the codes of the `ErrorCode` schema, which lists them all.
    pub code: ErrorCode,
}

#[derive(Serialize, ToSchema)]
pub struct MessageBody {
    pub message: &'static str,
}

impl MessageBody {
    pub fn new(message: &'static str) -> Self {
        Self { message }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Portcullis", description = "Authentication and authorization: the JWT tutorial's API, done securely."),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody, ErrorCode, MessageBody)),
    tags(
        (name = "auth", description = "The tutorial's sign-up, sign-in, refresh and sign-out"),
        (name = "test", description = "The tutorial's content routes, one per access level"),
        (name = "account", description = "The signed-in user's own account and sessions"),
        (name = "recovery", description = "Password reset and proof of address by mail"),
        (name = "passkeys", description = "Passkeys: registering them, and signing in with one"),
        (name = "mfa", description = "Second factors: TOTP, recovery codes, the sign-in's second step"),
        (name = "admin", description = "Administration (admins only)"),
        (name = "branding", description = "The operator's name, colour, logo and footer link on the pages and mails"),
        (name = "health", description = "Liveness and readiness"),
        (name = "docs", description = "This document and its viewer"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // A confidential client's id and secret, at the decision endpoint.
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "x-access-token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-access-token"))),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::http::cookies::ACCESS,
            ))),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(viewer))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "docs", responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(Extension(doc): Extension<Arc<OpenApiDoc>>) -> impl IntoResponse {
    ApiJson(doc.as_ref().clone())
}

/// A browsable view of this document, served offline: a small page of our own, no CDN.
#[utoipa::path(get, path = "/api/docs", tag = "docs", responses((status = 200, description = "HTML", content_type = "text/html")))]
async fn viewer() -> impl IntoResponse {
    (
        [(header::CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'")],
        Html(include_str!("docs_viewer.html")),
    )
}
