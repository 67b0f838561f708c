//! `todo-worker`: consumes chat turns from RabbitMQ. Run as many as needed.

use std::process::ExitCode;

use axum::Router;
use axum::routing::get;
use clap::Parser;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use todo_common::WorkerConfig;
use todo_common::config;
use todo_common::error::ErrorChain;
use todo_common::metric;
use todo_common::shutdown;
use todo_common::startup::{self, Schema};
use tokio_util::sync::CancellationToken;

/// Todo Chat's worker: takes chat turns from RabbitMQ, asks the model (or
/// the offline assistant), runs the task tools and writes the answers. Run as
/// many as the load needs; they share one rate limit for the model.
#[derive(Parser)]
#[command(name = "todo-worker", version, after_help = "Run with --help for the environment variables.", after_long_help = config::docs::help::<WorkerConfig>())]
struct Cli {}

#[tokio::main]
async fn main() -> ExitCode {
    Cli::parse();
    let (config, _telemetry) = match todo_common::init_process::<WorkerConfig>() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let token = CancellationToken::new();
    tokio::spawn(shutdown::cancel_on_signal(token.clone()));
    // Workers never migrate: they wait for `todo-api migrate up` (or an API
    // with RUN_MIGRATIONS) to do it.
    let pool = match startup::database(&config.database, Schema::WaitForMigrations, &token).await {
        Ok(pool) => pool,
        Err(startup::StartError::Stopped(_)) => return ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e.chain(), "todo-worker cannot start");
            return ExitCode::FAILURE;
        }
    };
    if config.observability.metrics_enabled && config.worker.metrics_port != 0 {
        serve_metrics(config.worker.metrics_port, token.clone());
    }
    let result = todo_worker::run(config, pool.clone(), token).await;
    pool.close().await;
    match result {
        Ok(()) => {
            tracing::info!("todo-worker stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Either it could not start, or a loop it depends on ended (the
            // error says which): exit 1 so the orchestrator restarts it.
            tracing::error!(error = %e.chain(), "todo-worker stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// GET /metrics (and a trivial /health) for Prometheus on WORKER_METRICS_PORT.
fn serve_metrics(port: u16, shutdown: CancellationToken) {
    // Waits and turns run from milliseconds to many minutes under a backlog.
    const BUCKETS: [f64; 15] = [
        0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    ];
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
        .and_then(|b| b.install_recorder());
    let handle = match recorder {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e.chain(), "metrics recorder not installed");
            return;
        }
    };
    // Counters of rare events exist from the start (at 0), so the
    // dashboards and alerts over them show 0, not "no data".
    for name in [
        metric::OPENAI_RETRIES_TOTAL,
        metric::OPENAI_RATE_LIMITED_TOTAL,
        metric::OPENAI_QUOTA_EXHAUSTED_TOTAL,
        metric::OPENAI_RATELIMIT_PAUSES_TOTAL,
        metric::OPENAI_OUTPUT_CUT_TOTAL,
        metric::OPENAI_ANSWERS_CUT_TOTAL,
        metric::TURN_LEASES_EXPIRED_TOTAL,
        metric::QUEUE_SETTLE_LOST_TOTAL,
    ] {
        metrics::counter!(name).increment(0);
    }
    for kind in ["first_byte", "idle", "total"] {
        metrics::counter!(metric::OPENAI_TIMEOUTS_TOTAL, "kind" => kind).increment(0);
    }
    for late in ["true", "false"] {
        metrics::counter!(metric::REMINDERS_FIRED_TOTAL, "late" => late).increment(0);
    }
    for state in ["finished", "running"] {
        metrics::counter!(metric::TURN_DUPLICATE_DELIVERIES_TOTAL, "state" => state).increment(0);
    }
    let app = Router::new()
        .route(
            "/metrics",
            get(move || {
                // CPU and memory of this process, against its limits (the alerts' input).
                todo_common::process_metrics::collect();
                std::future::ready(handle.render())
            }),
        )
        .route("/health", get(|| async { "ok" }));
    tokio::spawn(async move {
        match tokio::net::TcpListener::bind(("0.0.0.0", port)).await {
            Ok(listener) => {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown.cancelled_owned())
                    .await;
            }
            Err(e) => tracing::warn!(error = %e.chain(), port, "cannot serve worker metrics"),
        }
    });
}
