//! Prometheus metrics over HTTP: every request counted and timed, and `/metrics` served
//! on its own listener (`PORTCULLIS_METRICS_BIND`) so it is never exposed on the public
//! address by accident.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::password::PasswordHasher;
use crate::clock::Clock;
use crate::db::Db;
use crate::metrics::handle;

/// Counts and times every request by method, matched route and status.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("portcullis_http_requests_total", &labels).increment(1);
    metrics::histogram!("portcullis_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// What the gauges read at each scrape.
#[derive(Clone)]
pub struct Sources {
    pub db: Db,
    pub clock: Clock,
    pub hasher: Arc<PasswordHasher>,
}

async fn render(State(state): State<Sources>) -> Response {
    let Some(handle) = handle() else {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response();
    };
    metrics::gauge!("portcullis_hash_queue_depth").set(state.hasher.queue_depth() as f64);
    match crate::store::sessions::count_live(&state.db, state.clock.now_ms()).await {
        Ok(n) => metrics::gauge!("portcullis_active_sessions").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "counting active sessions for metrics"),
    }
    match crate::store::mail_outbox::pending(&state.db).await {
        Ok(n) => metrics::gauge!("portcullis_mail_queue_depth").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "counting queued mails for metrics"),
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Serves `/metrics` on `addr` until `stop` resolves.
pub async fn serve(
    addr: SocketAddr,
    sources: Sources,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(sources);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    });
    Ok((bound, task))
}
