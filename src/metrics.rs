//! Prometheus metrics, served on their own listener (`PORTCULLIS_METRICS_BIND`) so they are
//! never exposed on the public address by accident.
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process-wide recorder: the `metrics` facade has one global recorder, so every
/// server in a process (tests start many) shares it.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()?;
            // Histograms buffer every sample until upkeep folds them into their buckets,
            // which a scrape does too; without scrapes they would grow without bound.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                })
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

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

pub fn signin(outcome: &'static str) {
    metrics::counter!("portcullis_signins_total", "outcome" => outcome).increment(1);
}

/// 1 while this node hears cache events from Redis, 0 while it is cut off from them.
pub fn redis_subscribed(live: bool) {
    metrics::gauge!("portcullis_redis_subscribed").set(if live { 1.0 } else { 0.0 });
}

pub fn refresh_reuse() {
    metrics::counter!("portcullis_refresh_reuse_total").increment(1);
}

async fn render(State(state): State<AppState>) -> Response {
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
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    });
    Ok((bound, task))
}
