//! Periodic upkeep: the database probe behind the `database_up` gauge
//! (every HEALTH_CHECK_INTERVAL_SECONDS) and pruning of ended sign-up/login
//! throttle windows, of events older than EVENT_RETENTION and of revocations of
//! expired tokens; and, every REVOCATION_SYNC, reading tokens revoked
//! (through any instance) into this instance's memory.

use std::time::Duration;
use todo_common::error::ErrorChain;

use todo_common::{db, events};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use todo_common::metric;

pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    // A round is a bounded probe (5 s) plus pruning, once per interval.
    let interval = state.config.http.health_check_interval;
    let beat = state.supervisor.beat(
        "health_probe",
        state.config.http.background_stall + interval * 2,
    );
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        let mut was_up = true;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let probe = db::ping(&state.pool, Duration::from_secs(5)).await;
            let up = probe.is_ok();
            metrics::gauge!(metric::DATABASE_UP).set(if up { 1.0 } else { 0.0 });
            if let Ok(latency) = probe {
                metrics::gauge!(metric::DATABASE_LATENCY_SECONDS).set(latency.as_secs_f64());
            }
            match (was_up, &probe) {
                (true, Err(why)) => tracing::error!(error = %why, "database became unreachable"),
                (false, Ok(_)) => tracing::info!("database reachable again"),
                _ => {}
            }
            was_up = up;
            if up && let Err(e) = state.throttle.prune().await {
                tracing::warn!(error = %e.chain(), "could not prune the auth throttle");
            }
            if up {
                match events::prune(&state.pool, state.config.http.event_retention).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "pruned events past EVENT_RETENTION"),
                    Err(e) => tracing::warn!(error = %e.chain(), "could not prune events"),
                }
                if let Err(e) = state.revocations.prune().await {
                    tracing::warn!(error = %e.chain(), "could not prune revoked tokens");
                }
            }
            beat.beat();
        }
    })
}

/// How soon a logout through another instance takes effect here.
const REVOCATION_SYNC: Duration = Duration::from_secs(2);

/// The first load, before the server accepts requests; bounded, so a
/// database that is down at start delays nothing (token checks then answer
/// 503 until the sync below succeeds).
pub async fn load_revocations(state: &AppState) {
    match tokio::time::timeout(Duration::from_secs(5), state.revocations.refresh()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e.chain(), "could not load revoked tokens; retrying"),
        Err(_) => tracing::warn!("loading revoked tokens timed out; retrying"),
    }
}

pub fn spawn_revocation_sync(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    // Stalled (a read that never returns), logouts through other instances
    // would go unseen here: /health takes the instance out of rotation.
    let beat = state.supervisor.beat(
        "revocation_sync",
        REVOCATION_SYNC + state.config.http.background_stall,
    );
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(REVOCATION_SYNC) => {}
            }
            // Logged once per outage, not every two seconds.
            match state.revocations.refresh().await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("reading revoked tokens again");
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e.chain(), "could not read revoked tokens");
                }
                Err(_) => {}
            }
            beat.beat();
        }
    })
}
