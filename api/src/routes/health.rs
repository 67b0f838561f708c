//! GET /health: PostgreSQL and RabbitMQ as background probes saw them at
//! most a second ago (`crate::probe`, the broker maintainer's round trips),
//! so a load balancer's checks cost no round trip each; `?deep=true` makes
//! one to each for operators. 503 within a second of losing either.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use todo_common::db;
use utoipa::{IntoParams, ToSchema};

use crate::extract::ApiQuery;
use crate::openapi::BadInput;
use crate::state::AppState;

/// `?deep=true`: a round trip now.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthParams {
    /// Ask PostgreSQL and RabbitMQ now rather than report the background
    /// probes' last answers (at most a second old).
    #[serde(default)]
    deep: bool,
}

/// Far above the 5 ms target, far below a load balancer's patience.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/health` reports.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
    database_connected: bool,
    /// The probe's round trip; null when it failed.
    database_latency_ms: Option<f64>,
    /// How long ago that round trip was made (0 with `deep=true`).
    database_checked_ms_ago: f64,
    /// RabbitMQ answered a round trip within the last second (now, with
    /// `deep=true`).
    broker_connected: bool,
    /// Background loops that have not finished a round within
    /// BACKGROUND_STALL_SECONDS (e.g. `outbox_relay`, `revocation_sync`):
    /// any makes the instance unhealthy.
    stalled_loops: Vec<&'static str>,
    version: &'static str,
    environment: &'static str,
}

/// `healthy` (200); `degraded` (503) without RabbitMQ: tasks are served and
/// chat is kept in the outbox, but no turn reaches a worker; `unhealthy`
/// (503) without PostgreSQL or with a stalled background loop.
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
    description = "PostgreSQL and RabbitMQ as background probes saw them at most a second ago (a round \
        trip to each now with `deep=true`).",
    params(HealthParams),
    responses(
        (status = 200, description = "Healthy.", body = Health),
        (status = 503, description = "PostgreSQL or RabbitMQ does not answer, or a background loop stalled.", body = Health),
        BadInput,
    ),
)]
pub async fn health(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<HealthParams>,
) -> (StatusCode, Json<Health>) {
    // Before the probe's first answer (or with it stuck), a round trip now.
    let (probe, checked_ago) = match state.database.fresh() {
        Some(reading) if !params.deep => (
            reading
                .latency
                .ok_or_else(|| "the background probe got no answer".to_string()),
            reading.at.elapsed(),
        ),
        _ => (db::ping(&state.pool, DB_TIMEOUT).await, Duration::ZERO),
    };
    let broker_connected = match params.deep {
        true => state.broker.round_trip().await.is_some(),
        false => state.broker.is_answering(),
    };
    let stalled_loops = state.supervisor.stalled();
    let latency_ms = probe.as_ref().ok().map(|l| l.as_secs_f64() * 1000.0);
    // Without the broker the API still takes chat into its outbox, but no
    // turn is answered until it is back: out of rotation, so that a load
    // balancer prefers an instance that still reaches RabbitMQ (issue 23).
    // A stalled loop (no relay, no revocation sync) leaves it half-working.
    let (status, label) = match (&probe, broker_connected, stalled_loops.is_empty()) {
        (Ok(_), true, true) => (StatusCode::OK, HealthStatus::Healthy),
        (Ok(_), false, true) => (StatusCode::SERVICE_UNAVAILABLE, HealthStatus::Degraded),
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
    if !broker_connected {
        tracing::warn!("health check: RabbitMQ does not answer");
    }
    (
        status,
        Json(Health {
            status: label,
            database_connected: probe.is_ok(),
            database_latency_ms: latency_ms,
            database_checked_ms_ago: checked_ago.as_secs_f64() * 1000.0,
            broker_connected,
            stalled_loops,
            version: todo_common::VERSION,
            environment: state.config.general.environment.as_str(),
        }),
    )
}
