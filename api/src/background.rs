//! Periodic upkeep: the database probe behind the `database_up` gauge
//! (every HEALTH_CHECK_INTERVAL_SECONDS) and pruning of ended login-throttle
//! windows and of events older than EVENT_RETENTION.

use std::time::Duration;

use todo_common::{db, events};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub fn spawn(state: AppState, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(state.config.health_check_interval);
        let mut was_up = true;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let probe = db::ping(&state.pool, Duration::from_secs(5)).await;
            let up = probe.is_ok();
            metrics::gauge!("database_up").set(if up { 1.0 } else { 0.0 });
            if let Ok(latency) = probe {
                metrics::gauge!("database_latency_seconds").set(latency.as_secs_f64());
            }
            match (was_up, &probe) {
                (true, Err(why)) => tracing::error!(error = %why, "database became unreachable"),
                (false, Ok(_)) => tracing::info!("database reachable again"),
                _ => {}
            }
            was_up = up;
            if up && let Err(e) = state.throttle.prune().await {
                tracing::warn!(error = %e, "could not prune login throttle");
            }
            if up {
                match events::prune(&state.pool, state.config.event_retention).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "pruned events past EVENT_RETENTION"),
                    Err(e) => tracing::warn!(error = %e, "could not prune events"),
                }
            }
        }
    });
}
