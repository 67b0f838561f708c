//! The database as `/health` reports it: a round trip every
//! [`INTERVAL`] in the background, so a load balancer's check is answered
//! from memory instead of costing a round trip per call (issue 23), and a
//! lost database shows within about [`MAX_AGE`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sqlx::PgPool;
use todo_common::db;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the database is asked.
pub const INTERVAL: Duration = Duration::from_millis(250);
/// A round trip slower than this counts as no answer.
const TIMEOUT: Duration = Duration::from_millis(500);
/// A reading older than this is not trusted: the probe itself is stuck.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// The last probe's result.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub at: Instant,
    /// The round trip; None when it failed or timed out.
    pub latency: Option<Duration>,
}

#[derive(Default)]
pub struct DatabaseProbe(Mutex<Option<Reading>>);

impl DatabaseProbe {
    /// The newest reading when it is at most [`MAX_AGE`] old.
    pub fn fresh(&self) -> Option<Reading> {
        self.0.lock().filter(|r| r.at.elapsed() <= MAX_AGE)
    }

    /// Asks the database every [`INTERVAL`] until `shutdown`.
    pub fn spawn(self: &Arc<Self>, pool: PgPool, shutdown: CancellationToken) -> JoinHandle<()> {
        let probe = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(INTERVAL);
            // After a slow round trip, the next one starts at once, not in a burst.
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = ticker.tick() => {}
                }
                let latency = db::ping(&pool, TIMEOUT).await.ok();
                *probe.0.lock() = Some(Reading {
                    at: Instant::now(),
                    latency,
                });
            }
        })
    }
}
