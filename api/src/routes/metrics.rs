//! GET /metrics: Prometheus text, when METRICS_ENABLED; on the API port, or
//! only on the METRICS_PORT listener when that is set.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::error::ApiError;
use crate::state::AppState;
use todo_common::metric;

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "The Prometheus text format. 404 when `METRICS_ENABLED` is false; with `METRICS_PORT` set, \
        served only on that port (and then not listed here).",
    responses(
        (status = 200, description = "Metrics.", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String),
        (status = 404, description = "`not_found`: metrics are disabled.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn render(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let handle = state.metrics.as_ref().ok_or(ApiError::RouteNotFound)?;
    // Pool gauges are read at scrape time so they are never stale
    // (the checklist alerts at 75% of the pool).
    let size = f64::from(state.pool.size());
    let idle = state.pool.num_idle() as f64;
    metrics::gauge!(metric::DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
    metrics::gauge!(metric::DB_POOL_CONNECTIONS, "state" => "in_use").set(size - idle);
    metrics::gauge!(metric::DB_POOL_MAX_CONNECTIONS)
        .set(f64::from(state.config.database.max_connections()));
    todo_common::process_metrics::collect();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    ))
}
