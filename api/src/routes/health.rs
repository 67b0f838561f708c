//! GET /health: a live round trip to PostgreSQL on every call (the
//! checklist's load-balancer check), 503 while it fails; the RabbitMQ
//! connection state as the broker maintainer last saw it.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use todo_common::db;
use utoipa::ToSchema;

use crate::state::AppState;

/// Far above the 5 ms target, far below a load balancer's patience.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/health` reports.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
    database_connected: bool,
    /// The probe's round trip; null when it failed.
    database_latency_ms: Option<f64>,
    broker_connected: bool,
    /// Background loops that have not finished a round within
    /// BACKGROUND_STALL_SECONDS (e.g. `outbox_relay`, `revocation_sync`):
    /// any makes the instance unhealthy.
    stalled_loops: Vec<&'static str>,
    version: &'static str,
    environment: &'static str,
}

/// `healthy`; `degraded` without RabbitMQ (chat is kept in the outbox);
/// `unhealthy` (503) without PostgreSQL or with a stalled background loop.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    operation_id = "health",
    summary = "Health check",
    description = "A live round trip to PostgreSQL on every call (for load balancers), and the RabbitMQ connection state.",
    responses(
        (status = 200, description = "Serving (healthy or degraded).", body = Health),
        (status = 503, description = "PostgreSQL is unreachable, or a background loop stalled.", body = Health),
    ),
)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let probe = db::ping(&state.pool, DB_TIMEOUT).await;
    let broker_connected = state.broker.is_connected();
    let stalled_loops = state.supervisor.stalled();
    let latency_ms = probe.as_ref().ok().map(|l| l.as_secs_f64() * 1000.0);
    // Without the broker the API still takes chat (the outbox holds it), so
    // it stays in rotation: degraded, not down. A stalled loop (no relay, no
    // revocation sync) leaves it half-working: out of rotation.
    let (status, label) = match (&probe, broker_connected, stalled_loops.is_empty()) {
        (Ok(_), true, true) => (StatusCode::OK, HealthStatus::Healthy),
        (Ok(_), false, true) => (StatusCode::OK, HealthStatus::Degraded),
        (Err(_), _, _) | (_, _, false) => {
            (StatusCode::SERVICE_UNAVAILABLE, HealthStatus::Unhealthy)
        }
    };
    if !stalled_loops.is_empty() {
        tracing::warn!(loops = ?stalled_loops, "health check: background loops stalled");
    }
    if let Err(why) = &probe {
        tracing::warn!(error = %why, "health check: database unreachable");
    }
    (
        status,
        Json(Health {
            status: label,
            database_connected: probe.is_ok(),
            database_latency_ms: latency_ms,
            broker_connected,
            stalled_loops,
            version: todo_common::VERSION,
            environment: state.config.general.environment.as_str(),
        }),
    )
}
