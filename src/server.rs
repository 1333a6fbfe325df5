//! The running service: its listeners, the tasks every node runs beside them, and a
//! graceful stop. Tests and the binary both start the service through `Server::start`.
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::auth::change_feed;
use crate::clock::Clock;
use crate::config::Settings;
use crate::http::router::router;

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
                let sources = crate::http::metrics::Sources {
                    db: state.db.clone(),
                    clock: state.clock.clone(),
                    hasher: state.hasher.clone(),
                };
                let stopped = async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                };
                let (bound, task) = crate::http::metrics::serve(metrics_bind, sources, stopped)
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
        tokio::spawn(prune_expired(state.clone(), stop.clone()));
        tokio::spawn(reload_keys(state.clone(), stop.clone()));
        tokio::spawn(deliver_logout_tokens(state.clone(), stop.clone()));
        if let Some(mail) = &state.mail {
            let sender = crate::mail::sender::Sender {
                db: state.db.clone(),
                clock: state.clock.clone(),
                transport: mail.transport.clone(),
                from: mail.from.clone(),
                links: mail.links.clone(),
                wake: mail.wake.clone(),
                node: uuid::Uuid::new_v4().to_string(),
            };
            tokio::spawn(sender.run(stop.clone()));
        }
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

/// Reads the signing keys again every `RELOAD_EVERY`, so that a key another node or
/// `portcullis keys rotate` added is known here before it signs.
async fn reload_keys(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    use crate::auth::key_store;
    let mut ticker = tokio::time::interval(key_store::RELOAD_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let current = state.tokens.ring();
        let reload = key_store::reload(&state.db, &state.sealer, state.clock.now_ms(), &current);
        match tokio::time::timeout(crate::db::BACKGROUND_DEADLINE, reload).await {
            Err(_) => tracing::warn!("reloading the signing keys: the database did not answer"),
            Ok(reloaded) => match reloaded {
                Ok(None) => {}
                // An empty ring would leave nothing to sign with: keep what we have.
                Ok(Some(ring)) if !ring.keys().is_empty() => state.tokens.replace_ring(ring),
                Ok(Some(_)) => {
                    tracing::warn!("no live signing key in the database; keeping the loaded ones")
                }
                Err(e) => tracing::warn!(error = %e, "reloading the signing keys"),
            },
        }
    }
}

/// How long expired mail tokens and handled mails are kept (for a look at what happened).
const MAIL_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

/// Ended throttle windows (sign-in and mail alike: one table) are deleted once a minute by
/// every node, until `stop` turns true; so are mail tokens and handled mails a week old,
/// passkey ceremonies once they expired, and second-step tokens an hour after.
async fn prune_expired(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(60));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick is at once; the first prune a minute in
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let round = prune_round(&state, state.clock.now_ms());
        if tokio::time::timeout(PRUNE_DEADLINE, round).await.is_err() {
            tracing::warn!("pruning: the database did not answer; trying again next round");
        }
    }
}

/// Delivers back-channel logout tokens as they come due (`service::oidc::backchannel`),
/// one node per token, until `stop` turns true.
async fn deliver_logout_tokens(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    use crate::service::oidc::backchannel::{deliver_next, Delivered, DELIVERY_TIMEOUT};
    let node = uuid::Uuid::new_v4().to_string();
    let http = match reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "back-channel logout: no HTTP client; nothing is delivered");
            return;
        }
    };
    loop {
        loop {
            if *stop.borrow() {
                return;
            }
            let provider = state.provider();
            let next = deliver_next(&provider, &http, &node);
            match tokio::time::timeout(DELIVERY_TIMEOUT * 2, next).await {
                Ok(Ok(Delivered::Nothing)) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "back-channel logout: cannot deliver");
                    break;
                }
                Err(_) => {
                    tracing::warn!("back-channel logout: a delivery outlived its deadline");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// A round of pruning is given up past this: the next round, a minute on, tries again.
const PRUNE_DEADLINE: Duration = Duration::from_secs(30);

/// One round of `prune_expired`, every step on its own, each failure logged.
async fn prune_round(state: &AppState, now: crate::clock::Millis) {
    if let Err(e) = state.throttle.prune(now).await {
        tracing::warn!(error = %e, "pruning throttle windows");
    }
    let week_ago = now - MAIL_KEPT_MS;
    if let Err(e) = crate::store::mail_tokens::prune(&state.db, week_ago).await {
        tracing::warn!(error = %e, "pruning mail tokens");
    }
    if let Err(e) = crate::store::mail_outbox::prune(&state.db, week_ago).await {
        tracing::warn!(error = %e, "pruning the mail queue");
    }
    // Anyone may begin a passkey sign-in, so its ceremonies go as soon as they expire:
    // what a flood of starts can store is its rate times their two minutes. Second
    // steps follow a right password; an hour's margin costs nothing there.
    if let Err(e) = crate::store::ceremonies::prune(&state.db, now).await {
        tracing::warn!(error = %e, "pruning passkey ceremonies");
    }
    // Sign-ins begun at an upstream provider: anyone may begin one, so the same rule.
    if let Err(e) = crate::store::upstream_logins::prune(&state.db, now).await {
        tracing::warn!(error = %e, "pruning upstream sign-ins");
    }
    // Authorization requests, which anyone may leave, go as soon as they expire; codes
    // stay an hour, so that a late second use is still seen as a replay.
    let hour_ago = now - 3600 * 1000;
    if let Err(e) = crate::store::oauth_grants::prune(&state.db, now, hour_ago).await {
        tracing::warn!(error = %e, "pruning authorization requests and codes");
    }
    // Device authorizations stay an hour past their expiry, so a late poll hears
    // `expired_token` rather than of a code it never had.
    if let Err(e) = crate::store::device_codes::prune(&state.db, hour_ago).await {
        tracing::warn!(error = %e, "pruning device authorizations");
    }
    // Sessions that expired, or went with their user, tell their clients too; handled
    // deliveries go after a week, as mails do.
    let provider = state.provider();
    if let Err(e) = crate::service::oidc::backchannel::announce_ended(&provider).await {
        tracing::warn!(error = %e, "queueing logout tokens for ended sessions");
    }
    if let Err(e) = crate::store::backchannel::prune(&state.db, week_ago).await {
        tracing::warn!(error = %e, "pruning the back-channel logout queue");
    }
    if let Err(e) = crate::store::dpop_proofs::prune(&state.db, now).await {
        tracing::warn!(error = %e, "pruning DPoP proofs");
    }
    state.starts.prune();
    if let Err(e) = crate::store::mfa_tokens::prune(&state.db, hour_ago).await {
        tracing::warn!(error = %e, "pruning second-step tokens");
    }
}
