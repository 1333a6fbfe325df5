//! The HTTP surface in one piece: every documented route, the fallbacks, and the layers
//! each request passes (request id, tracing, `Cache-Control`, panics caught, CORS, CSRF,
//! body limits, the refresh-cookie middleware, metrics).
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Router};
use tower::{Layer, ServiceExt};
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
    account_routes, admin_routes, api_key_routes, auth_routes, authz_routes, branding_routes,
    client_routes, docs, forward_routes, health, identity_routes, json_body::MAX_BODY_BYTES,
    locale, mfa_routes, middleware as mw, oidc, passkey_routes, passkey_signup_routes,
    provider_routes, provider_signin_routes, recovery_routes, rights_routes, test_routes,
};

/// Every route of the API, documented: a route can only be added through utoipa's
/// `routes!`, so the OpenAPI document cannot miss one.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth_routes::router())
        .merge(test_routes::router())
        .merge(account_routes::router())
        .merge(locale::router())
        .merge(recovery_routes::router())
        .merge(passkey_routes::router())
        .merge(passkey_signup_routes::router())
        .merge(mfa_routes::router())
        .merge(forward_routes::router())
        .merge(oidc::router())
        .merge(admin_routes::router())
        .merge(client_routes::router())
        .merge(rights_routes::router())
        .merge(provider_routes::router())
        .merge(provider_signin_routes::router())
        .merge(identity_routes::router())
        .merge(api_key_routes::router())
        .merge(authz_routes::router())
        .merge(branding_routes::router())
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
        .layer(middleware::from_fn_with_state(
            state.settings.request_timeout,
            mw::deadline,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(mw::read_whole_body))
        .layer(middleware::from_fn(mw::reject_oversized))
        .with_state(state.clone());
    let layers = Arc::new(CorsLayers {
        first_party: (!state.cors_origins.is_empty()).then(|| cors(&state.cors_origins)),
        any_origin: any_origin_cors(),
    });
    app = app.layer(middleware::from_fn_with_state(layers, cors_for));
    let hsts = (state.settings.hsts && state.settings.public_url.trim().starts_with("https://"))
        .then(|| HeaderValue::from_static("max-age=31536000"));
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
    .layer(middleware::from_fn_with_state(hsts, mw::security_headers))
    .layer(middleware::from_fn(mw::require_one_host))
    .layer(PropagateRequestIdLayer::new(request_id.clone()))
    .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
    .layer(CatchPanicLayer::custom(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "Internal server error.").into_response()
    }))
}

/// The two CORS policies: the configured origins, with credentials, for the API; any
/// origin, without credentials, for `oidc::OPEN_TO_ANY_ORIGIN`.
struct CorsLayers {
    first_party: Option<CorsLayer>,
    any_origin: CorsLayer,
}

/// Applies the policy the path calls for (one only: two stacked CORS layers would answer
/// a preflight with the outer one's and mix their headers).
async fn cors_for(
    State(layers): State<Arc<CorsLayers>>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    // tower-http answers every OPTIONS as a preflight; one without the preflight's header
    // is a plain request, and gets the route's own answer (a JSON 405).
    let cors_applies = req.method() != Method::OPTIONS
        || req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if !cors_applies {
        return next.run(req).await;
    }
    let layer = if oidc::OPEN_TO_ANY_ORIGIN.contains(&req.uri().path()) {
        &layers.any_origin
    } else {
        match &layers.first_party {
            Some(layer) => layer,
            None => return next.run(req).await,
        }
    };
    match layer.layer(next).oneshot(req).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

fn any_origin_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST])
        // DPoP: a browser client sends its proof in the `DPoP` header (RFC 9449 §4.1).
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("dpop"),
        ])
        .expose_headers([header::WWW_AUTHENTICATE])
        .max_age(Duration::from_secs(600))
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
