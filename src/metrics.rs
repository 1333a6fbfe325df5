//! The process's metrics: the Prometheus recorder and the counters and gauges the layers
//! report to. `http::metrics` times requests and serves `/metrics`.
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

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

/// A queued mail's handling: `sent`, `retried` (an attempt failed, another will follow) or
/// `failed` (given up).
/// A back-channel logout token's delivery attempt: `sent`, `retried` or `failed`.
pub fn backchannel(outcome: &'static str) {
    metrics::counter!("portcullis_backchannel_logout_total", "outcome" => outcome).increment(1);
}

pub fn mail(kind: &'static str, outcome: &'static str) {
    metrics::counter!("portcullis_mail_total", "kind" => kind, "outcome" => outcome).increment(1);
}
