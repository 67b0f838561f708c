//! The reminder scheduler. Every worker runs one; any number of them share
//! the due reminders without firing one twice (see
//! `todo_common::reminders`, which also says why none fires early).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use todo_common::error::ErrorChain;
use todo_common::metric;
use todo_common::queue::Broker;
use todo_common::reminders;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often it looks for due reminders: a reminder fires at most this late
/// when nothing is wrong.
const TICK: Duration = Duration::from_millis(500);
/// Tasks per transaction.
const BATCH: i64 = 500;
/// How often the pending gauges are counted.
const GAUGES_EVERY: Duration = Duration::from_secs(15);

pub fn spawn(pool: PgPool, broker: Arc<Broker>, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut gauges_due = Instant::now();
        while !shutdown.is_cancelled() {
            // Round after round while there is work: a backlog (everything
            // was down) drains at full speed.
            loop {
                match reminders::fire_due(&pool, &broker, BATCH).await {
                    Ok(fired) if fired.tasks > 0 => {
                        tracing::debug!(
                            tasks = fired.tasks,
                            reminders = fired.reminders,
                            "reminders fired"
                        );
                    }
                    Ok(_) => break,
                    Err(e) => {
                        // PostgreSQL away: nothing was marked fired; try on the next tick.
                        tracing::warn!(error = %e.chain(), "firing reminders failed");
                        break;
                    }
                }
                if shutdown.is_cancelled() {
                    return;
                }
            }
            if Instant::now() >= gauges_due {
                gauges_due = Instant::now() + GAUGES_EVERY;
                if let Ok((pending, overdue)) = reminders::pending(&pool).await {
                    metrics::gauge!(metric::REMINDERS_PENDING).set(pending as f64);
                    metrics::gauge!(metric::REMINDERS_OVERDUE).set(overdue as f64);
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    })
}
