//! Wiring: settings and database in, a running HTTP server out. Tests and the binary both
//! start the service through `Server::start`.
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::{middleware, Router};
use ipnet::IpNet;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::access_token::AccessTokens;
use crate::auth::change_feed;
use crate::auth::notify::Notifier;
use crate::auth::password::PasswordHasher;
use crate::auth::session_cache::SessionCache;
use crate::auth::sessions::{Lifetimes, Sessions};
use crate::auth::signing_key;
use crate::auth::throttle::Throttle;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::domain::PasswordPolicy;
use crate::http::docs::ApiDoc;
use crate::http::error::ApiError;
use crate::http::error_code::ErrorCode;
use crate::http::{
    account_routes, admin_routes, auth_routes, docs, health, json::MAX_BODY_BYTES,
    middleware as mw, test_routes,
};
use crate::redis_link::RedisLink;
use crate::store;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub settings: Settings,
    pub db: Db,
    pub clock: Clock,
    pub tokens: AccessTokens,
    /// Derives refresh-token successors (see `auth::refresh_token`).
    pub refresh_key: Vec<u8>,
    pub hasher: Arc<PasswordHasher>,
    pub cache: SessionCache,
    pub throttle: Throttle,
    /// Set when `PORTCULLIS_REDIS_URL` is: see `redis_link`.
    pub redis: Option<Arc<RedisLink>>,
    pub policy: PasswordPolicy,
    pub trusted_proxies: Vec<IpNet>,
    pub cors_origins: Vec<String>,
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    /// Tells this node's cache and the other nodes of ended sessions and changed users.
    pub fn notifier(&self) -> Notifier<'_> {
        Notifier {
            db: &self.db,
            clock: &self.clock,
            redis: self.redis.as_deref(),
            cache: Some(&self.cache),
        }
    }

    /// The session lifecycle's components (`auth::sessions`).
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions {
            db: &self.db,
            clock: &self.clock,
            tokens: &self.tokens,
            refresh_key: &self.refresh_key,
            lifetimes: Lifetimes {
                session: self.settings.session_ttl,
                refresh_idle: self.settings.refresh_ttl,
                reuse_interval: self.settings.refresh_reuse_interval,
            },
            notify: self.notifier(),
        }
    }

    /// Opens the database, applies migrations, loads keys: what `serve` does before it listens.
    pub async fn build(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        // Refuse a bad secret before touching the database.
        if let Some(secret) = &settings.jwt_secret {
            signing_key::check_secret(secret.expose_secret())?;
        }
        let db = Db::connect(settings.database_url.expose()).await?;
        db::migrate(&db).await.context("applying migrations")?;
        let now = clock.now_ms();
        let key = signing_key::jwt_key(settings.jwt_secret.as_ref(), &db, now).await?;
        let refresh_key = store::server_keys::get_or_create(&db, "refresh_successor", now).await?;
        let hasher = PasswordHasher::new(settings.argon2).map_err(anyhow::Error::msg)?;
        let redis = match &settings.redis_url {
            Some(url) if !url.expose().trim().is_empty() => {
                let cluster_id = store::server_keys::get_or_create(&db, "cluster_id", now).await?;
                Some(Arc::new(
                    RedisLink::new(url.expose(), &cluster_id).map_err(anyhow::Error::msg)?,
                ))
            }
            _ => None,
        };
        Ok(AppState(Arc::new(Services {
            tokens: AccessTokens::new(&key, &settings.issuer, settings.access_ttl),
            refresh_key,
            hasher: Arc::new(hasher),
            cache: SessionCache::default(),
            throttle: Throttle::new(
                db.clone(),
                redis.clone(),
                settings.throttle_account_failures,
                settings.throttle_client_failures,
                settings.throttle_window,
            ),
            redis,
            policy: PasswordPolicy::new(settings.password_min_length as usize),
            trusted_proxies: settings.trusted_proxies(),
            cors_origins: settings.cors_origins(),
            settings,
            db,
            clock,
        })))
    }
}

/// Every route of the API, documented: a route can only be added through utoipa's
/// `routes!`, so the OpenAPI document cannot miss one.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth_routes::router())
        .merge(test_routes::router())
        .merge(account_routes::router())
        .merge(admin_routes::router())
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
        api.route_layer(middleware::from_fn(crate::metrics::track))
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

/// A server listening on its socket.
pub struct Server {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when `PORTCULLIS_METRICS_BIND` is set.
    pub metrics_addr: Option<SocketAddr>,
    metrics_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Builds the state and starts serving on `settings.bind` (port 0 picks a free port).
    pub async fn start(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let bind = settings.bind;
        // Counters only count once the recorder exists: install it before any request.
        if settings.metrics_bind.is_some() {
            crate::metrics::handle();
        }
        let state = AppState::build(settings, clock).await?;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let addr = listener.local_addr()?;
        let (shutdown, mut stop) = tokio::sync::watch::channel(false);
        let (metrics_addr, metrics_task) = match state.settings.metrics_bind {
            Some(metrics_bind) => {
                let mut stop = stop.clone();
                let stopped = async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                };
                let (bound, task) = crate::metrics::serve(metrics_bind, state.clone(), stopped)
                    .await
                    .with_context(|| format!("cannot listen on {metrics_bind} for metrics"))?;
                (Some(bound), Some(task))
            }
            None => (None, None),
        };
        let feed = change_feed::Feed {
            db: state.db.clone(),
            clock: state.clock.clone(),
            cache: state.cache.clone(),
            redis: state.redis.clone(),
        };
        tokio::spawn(change_feed::follow(feed, stop.clone()));
        tokio::spawn(prune_throttle_windows(state.clone(), stop.clone()));
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(Self {
            addr,
            metrics_addr,
            metrics_task,
            state,
            shutdown,
            task,
        })
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await??;
        if let Some(task) = self.metrics_task {
            task.await??;
        }
        self.state.db.pool.close().await;
        Ok(())
    }
}

/// Ended failed-sign-in windows are deleted from `throttle_windows` once a minute by every
/// node, until `stop` turns true.
async fn prune_throttle_windows(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(60));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick is at once; the first prune a minute in
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = state.throttle.prune(state.clock.now_ms()).await {
            tracing::warn!(error = %e, "pruning throttle windows");
        }
    }
}
