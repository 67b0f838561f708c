//! The background loops a process depends on, watched (issue 19, item 10).
//!
//! Each loop runs until shutdown. One that ends earlier, by returning or by
//! panicking, leaves the process half-working (no relay, no live events, no
//! revocation sync), so its end is a failure of the whole process: logged,
//! recorded, and shutdown is triggered, and the binary exits non-zero so the
//! orchestrator restarts it. A loop can also hang without ending (a query
//! that never returns): loops that work periodically beat, and one whose
//! last beat is older than its limit is reported stalled (`/health`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metric;
use parking_lot::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Watches a process's background loops.
pub struct Supervisor {
    shutdown: CancellationToken,
    /// Why the process must stop, once a loop ended before shutdown.
    failure: Mutex<Option<String>>,
    beats: Mutex<Vec<Arc<Beats>>>,
}

struct Beats {
    name: &'static str,
    stall_after: Duration,
    last: Mutex<Instant>,
}

/// Handed to a periodic loop: [`Beat::beat`] once per round of work.
#[derive(Clone)]
pub struct Beat(Arc<Beats>);

impl Beat {
    pub fn beat(&self) {
        *self.0.last.lock() = Instant::now();
    }
}

impl Supervisor {
    /// Loops stop with `shutdown`; a loop that ends before it cancels it.
    pub fn new(shutdown: CancellationToken) -> Arc<Self> {
        Arc::new(Self {
            shutdown,
            failure: Mutex::default(),
            beats: Mutex::default(),
        })
    }

    /// Runs `task` as the loop `name`.
    pub fn spawn<F>(self: &Arc<Self>, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.watch(name, tokio::spawn(task));
    }

    /// Watches a loop already spawned (its handle).
    pub fn watch(self: &Arc<Self>, name: &'static str, handle: JoinHandle<()>) {
        let supervisor = self.clone();
        tokio::spawn(async move {
            let ended = handle.await;
            if supervisor.shutdown.is_cancelled() {
                return;
            }
            let why = match ended {
                Ok(()) => format!("the background loop {name} stopped"),
                Err(e) if e.is_panic() => format!("the background loop {name} panicked"),
                Err(_) => format!("the background loop {name} was cancelled"),
            };
            tracing::error!(background_loop = name, "{why}; stopping the process");
            metrics::counter!(metric::BACKGROUND_LOOP_FAILURES_TOTAL, "loop" => name).increment(1);
            supervisor.failure.lock().get_or_insert(why);
            supervisor.shutdown.cancel();
        });
    }

    /// A loop `name` that must beat at least every `stall_after`; it counts
    /// as beating from now.
    pub fn beat(&self, name: &'static str, stall_after: Duration) -> Beat {
        let beats = Arc::new(Beats {
            name,
            stall_after,
            last: Mutex::new(Instant::now()),
        });
        self.beats.lock().push(beats.clone());
        Beat(beats)
    }

    /// The loops that have not beaten within their limit.
    pub fn stalled(&self) -> Vec<&'static str> {
        self.beats
            .lock()
            .iter()
            .filter(|b| b.last.lock().elapsed() > b.stall_after)
            .map(|b| b.name)
            .collect()
    }

    /// Why the process must exit non-zero, if a loop ended before shutdown.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn failed(supervisor: &Supervisor, shutdown: &CancellationToken) -> Option<String> {
        tokio::time::timeout(Duration::from_secs(5), shutdown.cancelled())
            .await
            .expect("shutdown triggered");
        supervisor.failure()
    }

    #[tokio::test]
    async fn a_loop_that_returns_before_shutdown_stops_the_process() {
        let shutdown = CancellationToken::new();
        let supervisor = Supervisor::new(shutdown.clone());
        supervisor.spawn("outbox_relay", async {});
        let why = failed(&supervisor, &shutdown).await;
        assert_eq!(
            why.as_deref(),
            Some("the background loop outbox_relay stopped")
        );
    }

    #[tokio::test]
    async fn a_loop_that_panics_stops_the_process() {
        let shutdown = CancellationToken::new();
        let supervisor = Supervisor::new(shutdown.clone());
        supervisor.spawn("live_events", async { panic!("a bug") });
        let why = failed(&supervisor, &shutdown).await;
        assert_eq!(
            why.as_deref(),
            Some("the background loop live_events panicked")
        );
    }

    #[tokio::test]
    async fn loops_that_end_at_shutdown_are_no_failure() {
        let shutdown = CancellationToken::new();
        let supervisor = Supervisor::new(shutdown.clone());
        let stop = shutdown.clone();
        supervisor.spawn("health_probe", async move { stop.cancelled().await });
        shutdown.cancel();
        // One thread: the loop, then its watcher, run while this yields.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(supervisor.failure(), None);
    }

    #[tokio::test]
    async fn a_loop_that_stops_beating_is_reported_stalled() {
        let supervisor = Supervisor::new(CancellationToken::new());
        let relay = supervisor.beat("outbox_relay", Duration::from_millis(40));
        let sync = supervisor.beat("revocation_sync", Duration::from_secs(3600));
        assert!(supervisor.stalled().is_empty());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(supervisor.stalled(), ["outbox_relay"]);
        relay.beat();
        sync.beat();
        assert!(supervisor.stalled().is_empty(), "beating again clears it");
    }
}
