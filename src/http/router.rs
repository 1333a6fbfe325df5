//! The HTTP surface in one piece: every documented route, the fallbacks, and the layers
//! each request passes (request id, tracing, `Cache-Control`, panics caught, CORS, CSRF,
//! body limits, the refresh-cookie middleware, metrics).
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::http::docs::ApiDoc;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::{
    account_routes, admin_routes, auth_routes, client_routes, docs, forward_routes, health,
    json_body::MAX_BODY_BYTES, mfa_routes, middleware as mw, oidc_routes, passkey_routes,
    recovery_routes, test_routes,
};

/// Every route of the API, documented: a route can only be added through utoipa's
/// `routes!`, so the OpenAPI document cannot miss one.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth_routes::router())
        .merge(test_routes::router())
        .merge(account_routes::router())
        .merge(recovery_routes::router())
        .merge(passkey_routes::router())
        .merge(mfa_routes::router())
        .merge(forward_routes::router())
        .merge(oidc_routes::router())
        .merge(admin_routes::router())
        .merge(client_routes::router())
        .merge(health::router())
        .merge(docs::router())
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = api_routes().split_for_parts();
    let doc = Arc::new(doc);
    // Counting and timing every request is work for nobody when metrics are off.
    let api = if state.settings.metrics_bind.is_some() {
        api.route_layer(middleware::from_fn(crate::http::metrics::track))
    } else {
        api
    };
    let api = api
        .layer(middleware::from_fn_with_state(
            state.clone(),
            mw::refresh_cookie_session,
        ))
        .layer(axum::Extension(doc));

    let request_id = HeaderName::from_static("x-request-id");
    let mut app = api
        .fallback(crate::http::web_app::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "Method not allowed.",
            )
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            mw::csrf_guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(mw::reject_oversized))
        .with_state(state.clone());
    if !state.cors_origins.is_empty() {
        app = app.layer(cors(&state.cors_origins));
    }
    app.layer(
        TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // The path only: a query string could carry anything, tokens included.
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }),
    )
    // Outermost, so errors from any layer (405, 413, CSRF) carry it too; a response that
    // sets its own Cache-Control keeps it.
    .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
    .layer(PropagateRequestIdLayer::new(request_id.clone()))
    .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
    .layer(CatchPanicLayer::custom(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "Internal server error.").into_response()
    }))
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-access-token"),
            HeaderName::from_static(auth_routes::DELIVERY_HEADER),
        ])
        .max_age(Duration::from_secs(600))
}
