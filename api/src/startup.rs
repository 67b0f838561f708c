//! Building and running the API: `run(config, pool, listener, shutdown)` is
//! what `main` calls and what tests call with a port-0 listener.

use std::sync::{Arc, OnceLock};
use todo_common::error::ErrorChain;

use crate::auth::{AuthThrottle, Passwords, Revocations, TokenService};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use todo_common::ApiConfig;
use todo_common::queue::{Broker, Topology};
use todo_common::supervise::Supervisor;
use todo_common::tasks::Tasks;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::extract::BODY_LIMIT;
use crate::live::{Hub, StreamSlots};
use crate::middleware::{compression, cors, observe, security_headers};
use crate::state::{AppState, KnownUsers};
use crate::{background, relay, routes};
use todo_common::metric;

/// The process-wide Prometheus recorder (a recorder can be installed once per
/// process; several app instances in one test process share it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            const LATENCY_BUCKETS: [f64; 12] = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &LATENCY_BUCKETS,
                )
                .expect("static buckets are valid")
                // Histograms, not summaries, so Grafana can aggregate instances.
                .set_buckets_for_metric(
                    Matcher::Full(metric::SSE_DELIVERY_LAG_SECONDS.into()),
                    &LATENCY_BUCKETS,
                )
                .expect("static buckets are valid")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            // Counters of rare events exist from the start (at 0), so the
            // dashboards and alerts over them show 0, not "no data".
            for name in [
                metric::CHAT_MESSAGES_TOTAL,
                metric::CHAT_POSTS_REPLAYED_TOTAL,
                metric::OUTBOX_DEFERRED_TOTAL,
                metric::OUTBOX_RELAYED_TOTAL,
                metric::TURNS_REDRIVEN_TOTAL,
                metric::SSE_CONNECTIONS_TOTAL,
                metric::SSE_SLOW_CLIENTS_DROPPED_TOTAL,
                metric::LIVE_NOTICES_LOST_TOTAL,
                metric::LIVE_NOTICES_MADE_UP_TOTAL,
                metric::LIVE_EVENT_READS_TOTAL,
                metric::PASSWORD_HASHES_REFUSED_TOTAL,
            ] {
                metrics::counter!(name).increment(0);
            }
            for kind in ["durable", "transient"] {
                metrics::counter!(metric::SSE_EVENTS_SENT_TOTAL, "kind" => kind).increment(0);
            }
            handle
        })
        .clone()
}

pub fn build_state(config: ApiConfig, pool: PgPool, shutdown: CancellationToken) -> AppState {
    let metrics = config.observability.metrics_enabled.then(metrics_handle);
    let broker = Broker::new(
        config.broker.url.clone(),
        Topology::from_config(&config.broker),
    );
    AppState {
        hub: Hub::new(broker.clone(), pool.clone()),
        confirmed: Arc::default(),
        streams: StreamSlots::new(
            metric::SSE_STREAMS_OPEN,
            config.http.sse_max_streams_per_user,
            config.http.sse_max_streams,
        ),
        tasks: Tasks::new(pool.clone(), broker.clone()),
        broker,
        supervisor: Supervisor::new(shutdown.clone()),
        database: Arc::default(),
        shutdown,
        tokens: Arc::new(TokenService::new(&config.auth)),
        revocations: Arc::new(Revocations::new(pool.clone())),
        throttle: AuthThrottle::new(pool.clone(), &config.auth),
        passwords: Passwords::from_config(&config.auth),
        known_users: Arc::new(KnownUsers::default()),
        config: Arc::new(config),
        pool,
        metrics,
    }
}

pub fn build_router(state: AppState) -> Router {
    let router = routes::router(&state.config.http)
        .route_layer(axum::middleware::from_fn(observe::tag_route))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(compression::layer())
        .layer(cors::layer(&state.config.http));
    security_headers::apply(router, state.config.is_production())
        .layer(axum::middleware::from_fn(observe::observe))
        .with_state(state)
}

/// With METRICS_PORT (and METRICS_ENABLED), serves /metrics on its own
/// listener on API_HOST, which the API router then lacks: the port can stay
/// off the public load balancer. A port that cannot be bound stops the start.
async fn serve_metrics(state: &AppState, shutdown: &CancellationToken) -> std::io::Result<()> {
    let (Some(port), Some(_)) = (state.config.http.metrics_port, &state.metrics) else {
        return Ok(());
    };
    let listener = TcpListener::bind((state.config.http.host.as_str(), port)).await?;
    tracing::info!(address = %listener.local_addr()?, "metrics listening");
    let app = routes::metrics_router().with_state(state.clone());
    let stop = shutdown.clone().cancelled_owned();
    state.supervisor.spawn("metrics_listener", async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e.chain(), "the metrics listener failed");
        }
    });
    Ok(())
}

/// What every process serving requests runs beside its listeners: the
/// metrics port, the broker connection, live notices, token revocations and
/// the background checks, each watched by the state's supervisor. Shared by
/// [`run`] and `mcp::serve`.
pub async fn start_services(state: &AppState, shutdown: &CancellationToken) -> std::io::Result<()> {
    serve_metrics(state, shutdown).await?;
    let supervisor = &state.supervisor;
    // The broker connection outlives the server by a moment: requests still
    // draining may publish.
    let broker_life = CancellationToken::new();
    supervisor.watch(
        "broker_connection",
        state.broker.spawn_maintainer(broker_life.clone()),
    );
    supervisor.watch(
        "database_probe",
        state.database.spawn(state.pool.clone(), shutdown.clone()),
    );
    supervisor.watch("live_events", state.hub.spawn(shutdown.clone()));
    supervisor.watch("live_sweep", state.hub.spawn_sweep(shutdown.clone()));
    // Until revocations are loaded, token checks answer 503 rather than let
    // a logged-out token through; loading first makes that window empty
    // unless the database is down at start (the sync then keeps trying).
    background::load_revocations(state).await;
    supervisor.watch(
        "health_probe",
        background::spawn(state.clone(), shutdown.clone()),
    );
    supervisor.watch(
        "revocation_sync",
        background::spawn_revocation_sync(state.clone(), shutdown.clone()),
    );
    Ok(())
}

/// Why the process must stop with a failure, once its serving has ended.
pub fn failed(state: &AppState) -> std::io::Result<()> {
    match state.supervisor.failure() {
        Some(why) => Err(std::io::Error::other(why)),
        None => Ok(()),
    }
}

/// The listeners a process serves on, bound by the caller (tests bind port 0).
pub struct Listeners {
    pub api: TcpListener,
    /// The MCP server's, when it runs in this process (MCP_ENABLED).
    pub mcp: Option<TcpListener>,
}

/// Serves until `shutdown` is cancelled, then stops accepting and lets
/// in-flight requests finish. With MCP_ENABLED, the MCP server listens on
/// MCP_SERVER_HOST:MCP_SERVER_PORT too; a port that cannot be bound stops the start.
pub async fn run(
    config: ApiConfig,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mcp = match config.mcp.enabled {
        true => Some(crate::mcp::bind(&config.mcp).await?),
        false => None,
    };
    let listeners = Listeners { api: listener, mcp };
    run_with(config, pool, listeners, shutdown).await
}

/// Runs the MCP server alone (`todo-api mcp`): the shared services it needs
/// (broker, live notices, token revocations, metrics port) and the MCP
/// listener, until `shutdown`.
pub async fn run_mcp(
    config: ApiConfig,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let state = build_state(config, pool, shutdown.clone());
    start_services(&state, &shutdown).await?;
    crate::mcp::serve_with(state.clone(), listener, shutdown).await?;
    failed(&state)
}

/// [`run`] on listeners the caller bound.
pub async fn run_with(
    config: ApiConfig,
    pool: PgPool,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let state = build_state(config, pool, shutdown.clone());
    start_services(&state, &shutdown).await?;
    state.supervisor.watch(
        "outbox_relay",
        relay::spawn(state.clone(), shutdown.clone()),
    );
    if let Some(mcp) = listeners.mcp {
        let (mcp_state, shutdown) = (state.clone(), shutdown.clone());
        state.supervisor.spawn("mcp_listener", async move {
            if let Err(e) = crate::mcp::serve_with(mcp_state, mcp, shutdown).await {
                tracing::error!(error = %e.chain(), "the MCP listener failed");
            }
        });
    }
    let listener = listeners.api;
    let app = build_router(state.clone());
    tracing::info!(address = %listener.local_addr()?, "API listening");
    crate::serve::http1(listener, app, shutdown).await?;
    failed(&state)
}
