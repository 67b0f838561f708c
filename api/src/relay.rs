//! The outbox relay: publishes turns whose publish did not happen or was
//! not confirmed (broker down, process died between commit and publish),
//! and re-drives turns whose queue message was lost. Safe with any number
//! of API replicas: records are taken with SKIP LOCKED and a lease.

use std::time::Duration;
use todo_common::error::ErrorChain;

use todo_common::chat::{outbox, turns};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use todo_common::metric;

const TICK: Duration = Duration::from_millis(500);
const BATCH: i64 = 100;
/// How long a taken record is hidden from other relays while we publish it.
const PUBLISH_LEASE: Duration = Duration::from_secs(5);
const SWEEP_EVERY: Duration = Duration::from_secs(30);

pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let beat = state
        .supervisor
        .beat("outbox_relay", TICK + state.config.http.background_stall);
    tokio::spawn(async move {
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(TICK) => {}
            }
            // Waiting for the broker is not stalling: the health check
            // reports the broker itself.
            beat.beat();
            if let Err(e) = state.confirmed.clear(&state.pool).await {
                tracing::warn!(error = %e.chain(), "could not clear published outbox records; retrying");
            }
            if !state.broker.is_connected() {
                continue;
            }
            if let Err(e) = relay_once(&state).await {
                tracing::warn!(error = %e.chain(), "outbox relay pass failed");
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = tokio::time::Instant::now();
                if let Err(e) = sweep(&state).await {
                    tracing::warn!(error = %e.chain(), "stale-turn sweep failed");
                }
            }
        }
    })
}

async fn relay_once(state: &AppState) -> todo_common::Result<()> {
    loop {
        let due = outbox::take_due(&state.pool, BATCH, PUBLISH_LEASE).await?;
        if due.is_empty() {
            return Ok(());
        }
        let count = due.len();
        for (id, job) in due {
            match state.broker.publish_turn(&job).await {
                Ok(()) => {
                    state.confirmed.add(id);
                    metrics::counter!(metric::OUTBOX_RELAYED_TOTAL).increment(1);
                }
                Err(e) => {
                    tracing::warn!(error = %e.chain(), message_id = %job.message_id, "relay publish failed; will retry");
                    return Ok(());
                }
            }
        }
        if (count as i64) < BATCH {
            return Ok(());
        }
    }
}

/// Turns idle for long past their lease had their queue message lost
/// (dead-lettered, purged): queue them again. Duplicates are harmless.
async fn sweep(state: &AppState) -> todo_common::Result<()> {
    // Long enough that a turn merely waiting in a backlog (a rate-limited
    // model, a burst) is not queued twice; duplicates are harmless, churn is not.
    let idle = (state.config.chat.turn_lease * 2).max(Duration::from_secs(900));
    for job in turns::stale(&state.pool, idle, BATCH).await? {
        tracing::warn!(message_id = %job.message_id, "re-queueing a turn whose queue message was lost");
        metrics::counter!(metric::TURNS_REDRIVEN_TOTAL).increment(1);
        outbox::enqueue(&state.pool, &job).await?;
    }
    Ok(())
}
