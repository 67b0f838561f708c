//! GET /health: a live round trip to PostgreSQL on every call (the
//! checklist's load-balancer check), 503 while it fails; the RabbitMQ
//! connection state as the broker maintainer last saw it.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use todo_common::db;

use crate::state::AppState;

/// Far above the 5 ms target, far below a load balancer's patience.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let probe = db::ping(&state.pool, DB_TIMEOUT).await;
    let broker_connected = state.broker.is_connected();
    let latency_ms = probe.as_ref().ok().map(|l| l.as_secs_f64() * 1000.0);
    // Without the broker the API still takes chat (the outbox holds it), so
    // it stays in rotation: degraded, not down.
    let (status, label) = match (&probe, broker_connected) {
        (Ok(_), true) => (StatusCode::OK, "healthy"),
        (Ok(_), false) => (StatusCode::OK, "degraded"),
        (Err(_), _) => (StatusCode::SERVICE_UNAVAILABLE, "unhealthy"),
    };
    if let Err(why) = &probe {
        tracing::warn!(error = %why, "health check: database unreachable");
    }
    (
        status,
        Json(json!({
            "status": label,
            "database_connected": probe.is_ok(),
            "database_latency_ms": latency_ms,
            "broker_connected": broker_connected,
            "version": todo_common::VERSION,
            "environment": state.config.environment.as_str(),
        })),
    )
}
