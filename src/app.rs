//! Wiring: the one place that picks a store backend, starts the background tasks and runs
//! the HTTP server until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, redact_url};
use crate::declare::Declaration;
use crate::http::{self, AppState, HttpConfig};
use crate::probes::Prober;
use crate::service::Service;
use crate::store;
use crate::workers::heartbeats::run_heartbeat_check;
use crate::workers::metrics::run_metrics_flush;
use crate::workers::notifications::{NotificationConfig, run_notifications};
use crate::workers::results::run_results_flush;
use crate::workers::scheduler::{SchedulerConfig, run_scheduler};
use crate::workers::{Supervisor, snapshot::run_snapshot_refresh, tokens::run_token_refresh};

pub struct App {
    listener: TcpListener,
    service: Arc<Service>,
    supervisor: Supervisor,
    config: Config,
}

impl App {
    /// Connects to the database (applying migrations), creates the initial tokens and binds
    /// the listener. Nothing is served until [`App::run`].
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // The config file is read and checked before the database is touched.
        let declared = match config.config_file.as_deref() {
            Some(path) if !path.as_os_str().is_empty() => Some(Declaration::load(path)?),
            _ => None,
        };
        let store = store::connect(&config.database_url)
            .await
            .with_context(|| {
                format!(
                    "could not open the database at {}",
                    redact_url(&config.database_url)
                )
            })?;
        let service = Service::new(store)
            .await
            .context("could not read the initial state")?;
        service
            .server_metrics()
            .set_scrape_token(config.metrics_token.as_deref());
        let init = config.init_tokens();
        if !init.is_empty() {
            // The INIT_* tokens go in before the file's (only while the database holds none).
            service
                .bootstrap_tokens(&init)
                .await
                .context("could not create the initial API tokens")?;
        }
        if let Some(declared) = &declared {
            crate::declare::apply(&service, declared, false)
                .await?
                .log();
        }
        // After the file: tokens it declares count as configured, so no admin token is
        // generated beside them.
        let generated = service
            .bootstrap_tokens(&init)
            .await
            .context("could not create the initial API tokens")?;
        if let Some(secret) = generated {
            announce_generated_token(&secret);
        }
        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("could not listen on {addr}"))?;
        Ok(Self {
            listener,
            service,
            supervisor: Supervisor::default(),
            config,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], self.config.port)))
    }

    pub fn service(&self) -> Arc<Service> {
        self.service.clone()
    }

    /// Serves until `shutdown` completes, then stops in order: stop accepting and finish
    /// in-flight requests, cancel and drain background tasks, close the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            service,
            supervisor,
            config,
        } = self;
        let refresh = Duration::from_secs(config.token_refresh_secs.max(1));
        let svc = service.clone();
        supervisor.spawn("token-refresh", move |cancel| {
            run_token_refresh(svc, refresh, cancel)
        });
        let snapshots = service.snapshots().clone();
        let every = Duration::from_millis(config.snapshot_refresh_ms.max(50));
        let revisions = config.pg_listen.then(|| service.store().listen()).flatten();
        supervisor.spawn("snapshot-refresh", move |cancel| {
            run_snapshot_refresh(snapshots, every, revisions, cancel)
        });
        let svc = service.clone();
        let flush = Duration::from_secs(config.metrics_flush_secs.max(1));
        supervisor.spawn("metrics-flush", move |cancel| {
            run_metrics_flush(svc, flush, cancel)
        });
        let svc = service.clone();
        let retention_days = config.probe_results_retention_days.max(1);
        supervisor.spawn("results-flush", move |cancel| {
            run_results_flush(svc, retention_days, cancel)
        });
        if config.probe_scheduler {
            let svc = service.clone();
            // One prober for the life of the process: its HTTP clients and ICMP sockets are shared.
            let prober = Arc::new(Prober::new());
            let scheduler = SchedulerConfig {
                concurrency: config.probe_concurrency.max(1),
                lease: Duration::from_secs(config.probe_lease_secs.max(1)),
                ..SchedulerConfig::default()
            };
            supervisor.spawn("probe-scheduler", move |cancel| {
                run_scheduler(svc, prober, scheduler, cancel)
            });
        }
        let svc = service.clone();
        let sla_every = Duration::from_secs(config.sla_evaluation_secs.max(1));
        supervisor.spawn("sla-guards", move |cancel| {
            crate::workers::sla_guards::run_sla_guards(svc, sla_every, cancel)
        });
        let svc = service.clone();
        supervisor.spawn("heartbeat-check", move |cancel| {
            run_heartbeat_check(svc, crate::workers::heartbeats::CHECK_EVERY, cancel)
        });
        let svc = service.clone();
        let notifications = notification_config(&config);
        let sender = Arc::new(
            crate::notify::Sender::new(notifications.timeout)
                .context("could not set up the notification HTTP client")?,
        );
        supervisor.spawn("notifications", move |cancel| {
            run_notifications(svc, sender, notifications, cancel)
        });

        let http_config = HttpConfig {
            max_body_bytes: config.max_body_bytes,
            request_timeout: Duration::from_secs(config.request_timeout_secs.max(1)),
            frontend_cors_origins: config.frontend_cors_origins.clone(),
        };
        let shutting_down = CancellationToken::new();
        let router = http::router(
            AppState {
                service: service.clone(),
                shutdown: shutting_down.clone(),
                streaming_keepalive: Duration::from_secs(config.streaming_keepalive_secs.max(1)),
            },
            &http_config,
        );
        tracing::info!(addr = %listener.local_addr()?, database = %redact_url(&config.database_url), "flagwatch listening");
        // No Nagle delay: a streamed flag change must not wait for the client's delayed ACK.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Streams never end by themselves, and in-flight requests are waited for.
            shutting_down.cancel();
        })
        .await
        .context("the HTTP server failed")?;

        tracing::info!("shutting down");
        supervisor.shutdown(config.shutdown_timeout()).await;
        service.store().close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Opens the database (applying migrations) and a service on it, serving nothing: for
/// commands that run once and exit, such as `flagwatch apply`. Close with
/// `service.store().close()`.
pub async fn open_service(database_url: &str) -> anyhow::Result<Arc<Service>> {
    let store = store::connect(database_url).await.with_context(|| {
        format!(
            "could not open the database at {}",
            redact_url(database_url)
        )
    })?;
    Service::new(store)
        .await
        .context("could not read the initial state")
}

/// The delivery worker's settings, from `NOTIFICATION_*`.
fn notification_config(config: &Config) -> NotificationConfig {
    let timeout = Duration::from_secs(config.notification_timeout_secs.max(1));
    NotificationConfig {
        concurrency: config.notification_concurrency.max(1),
        retry: crate::notify::RetryPolicy {
            base: Duration::from_millis(config.notification_retry_base_ms.max(1)),
            max_attempts: i64::from(config.notification_max_attempts.max(1)),
        },
        timeout,
        sweep_every: Duration::from_secs(5),
        // Within the supervisor's deadline, so abandoned sends are released before the pool closes.
        drain: config
            .shutdown_timeout()
            .saturating_sub(Duration::from_secs(1))
            .min(timeout + Duration::from_secs(1)),
        retention_days: config.notification_log_retention_days.max(1),
    }
}

/// The secret goes to stdout once, never to the log.
#[allow(clippy::print_stdout)]
fn announce_generated_token(secret: &str) {
    println!();
    println!(
        "No API tokens were configured, so flagwatch created this admin token. It is shown only now:"
    );
    println!();
    println!("    {secret}");
    println!();
    println!(
        "Use it as `Authorization: {secret}`. To choose your own tokens instead, start flagwatch with"
    );
    println!(
        "INIT_ADMIN_API_TOKENS='*:*.<your-secret>' on an empty database, or create more through /api/admin/api-tokens."
    );
    println!();
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
