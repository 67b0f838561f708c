//! Turn leases, kept alive by one heartbeat per worker process.
//!
//! A claimed turn is reserved for TURN_LEASE_SECONDS (5 s by default). The
//! heartbeat renews the leases of every turn this process holds in one
//! UPDATE every fifth of that, whatever the turns are doing (a model call of
//! five minutes, a long wait for the rate limiter), so a live worker never
//! loses a turn. When the process dies its leases run out within one lease,
//! and the same loop, in every worker, re-drives turns whose lease ran out:
//! a fresh queue message, claimed by whoever is free.
//!
//! Safety: a turn whose lease could not be renewed (PostgreSQL unreachable)
//! is stopped one heartbeat before the lease runs out in PostgreSQL, so it
//! is never worked on by two live workers in the normal course; if it ever
//! were, the stored steps keep every effect exactly once anyway. Why this is
//! correct: docs/architecture.md, "Crash recovery in seconds".

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use todo_common::error::ErrorChain;

use sqlx::PgPool;
use todo_common::chat::turns::{self, LeaseState, Turn};
use todo_common::queue::Broker;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::gauges;
use todo_common::metric;

/// Expired leases re-driven per pass, at most.
const REDRIVE_BATCH: i64 = 100;

/// The leases this process holds.
pub struct Leases {
    pool: PgPool,
    lease: Duration,
    /// Names this process in lease owners: `w<pid>-<random>`.
    worker: String,
    /// By lease owner (unique per claim).
    held: Mutex<HashMap<String, Held>>,
}

struct Held {
    message_id: Uuid,
    /// Work on the turn stops at this instant unless a renewal moves it on.
    valid_until: Instant,
    /// Cancelled when a heartbeat finds the turn is no longer ours.
    lost: CancellationToken,
}

/// Why a turn had to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// PostgreSQL says the turn is no longer ours (it was re-driven or
    /// claimed by another worker after our lease ran out).
    TakenOver,
    /// The lease could not be renewed in time: stop before it runs out.
    Expired,
}

impl Leases {
    pub fn new(pool: PgPool, lease: Duration) -> Arc<Self> {
        let random = Uuid::new_v4().simple().to_string();
        // Exported from the start, so a dashboard shows 0, not "no data".
        gauges::turns_in_flight(0);
        Arc::new(Self {
            pool,
            lease,
            worker: format!("w{}-{}", std::process::id(), &random[..8]),
            held: Mutex::default(),
        })
    }

    /// This process's name in lease owners.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// How often the heartbeat renews (and re-drives expired leases).
    pub fn interval(&self) -> Duration {
        self.lease / 5
    }

    /// How long a turn may run on a lease renewed (or claimed) at `from`: one
    /// heartbeat less than the lease, so it stops before PostgreSQL lets
    /// anyone else have it. `from` is taken before the statement is sent, and
    /// PostgreSQL's now() in it is later still, so this errs on the safe side.
    fn valid_from(&self, from: Instant) -> Instant {
        from + self.lease - self.interval()
    }

    fn held(&self) -> MutexGuard<'_, HashMap<String, Held>> {
        // A panic elsewhere must not stop the heartbeat: the map stays consistent.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a turn just claimed (the claim started at `claimed`) until
    /// the returned guard is dropped.
    pub fn hold(self: &Arc<Self>, turn: &Turn, claimed: Instant) -> LeaseGuard {
        let lost = CancellationToken::new();
        let mut held = self.held();
        held.insert(
            turn.lease_owner.clone(),
            Held {
                message_id: turn.message_id,
                valid_until: self.valid_from(claimed),
                lost: lost.clone(),
            },
        );
        gauges::turns_in_flight(held.len());
        drop(held);
        LeaseGuard {
            leases: self.clone(),
            owner: turn.lease_owner.clone(),
            lost,
        }
    }

    /// Renews every lease held, in one statement.
    async fn renew(&self) -> todo_common::Result<()> {
        let held: Vec<(Uuid, String)> = self
            .held()
            .iter()
            .map(|(owner, h)| (h.message_id, owner.clone()))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let states = turns::renew_all(&self.pool, &held, self.lease).await?;
        let valid_until = self.valid_from(started);
        let mut map = self.held();
        for (owner, state) in states {
            let Some(h) = map.get_mut(&owner) else {
                continue; // finished meanwhile
            };
            match state {
                // Finished: answered under this claim and wrapping up (issue
                // 24: stopping it here logged a takeover that never was, and
                // cut the answer's COMMIT short).
                LeaseState::Renewed | LeaseState::Finished => {
                    h.valid_until = h.valid_until.max(valid_until)
                }
                LeaseState::Lost => h.lost.cancel(),
            }
        }
        Ok(())
    }

    /// Publishes turns whose lease ran out again (their holder died), each
    /// once per expired lease, in one transaction with marking them.
    async fn redrive(&self, broker: &Broker) -> todo_common::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let jobs = turns::take_expired(&mut tx, REDRIVE_BATCH).await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(jobs.len());
        for job in &jobs {
            if let Err(e) = broker.publish_turn(job).await {
                // Rolled back: the next pass tries again.
                tracing::warn!(error = %e.chain(), message_id = %job.message_id, "could not re-drive a turn whose lease ran out");
                break;
            }
            ids.push(job.message_id);
        }
        turns::forget_expired(&mut tx, &ids).await?;
        tx.commit().await?;
        for id in &ids {
            tracing::info!(message_id = %id, "re-driven a turn whose lease ran out (its worker stopped renewing)");
        }
        metrics::counter!(metric::TURN_LEASES_EXPIRED_TOTAL).increment(ids.len() as u64);
        Ok(ids.len())
    }

    /// The heartbeat: renews this process's leases and re-drives expired
    /// ones every [`Self::interval`] until `stop`.
    pub fn spawn(
        self: &Arc<Self>,
        broker: Arc<Broker>,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let leases = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(leases.interval());
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
                // The pool's gauges ride on the beat (once a second by default).
                gauges::pool(&leases.pool);
                // Bounded, so a hung statement cannot stall the loop; the
                // turns' own deadlines do not depend on it anyway.
                let renewed = tokio::time::timeout(leases.lease, leases.renew()).await;
                match renewed {
                    Ok(Ok(())) if failing => {
                        failing = false;
                        tracing::info!("turn leases renewed again");
                    }
                    Ok(Ok(())) => {}
                    Ok(Err(e)) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e.chain(), "could not renew turn leases; turns stop if this lasts");
                    }
                    Err(_) if !failing => {
                        failing = true;
                        tracing::warn!("renewing turn leases timed out; turns stop if this lasts");
                    }
                    Ok(Err(_)) | Err(_) => {}
                }
                if broker.is_connected()
                    && let Ok(Err(e)) =
                        tokio::time::timeout(leases.lease, leases.redrive(&broker)).await
                {
                    tracing::debug!(error = %e.chain(), "re-driving expired leases failed; retrying");
                }
            }
        })
    }
}

/// A held lease; dropping it stops renewing.
pub struct LeaseGuard {
    leases: Arc<Leases>,
    owner: String,
    lost: CancellationToken,
}

impl LeaseGuard {
    fn valid_until(&self) -> Option<Instant> {
        self.leases.held().get(&self.owner).map(|h| h.valid_until)
    }

    /// Resolves when work on the turn must stop: it is no longer ours, or
    /// its lease could not be renewed in time. Runs on its own timer, not on
    /// the heartbeat, so a stalled heartbeat cannot delay it.
    pub async fn lost(&self) -> Lost {
        loop {
            let Some(until) = self.valid_until() else {
                return Lost::TakenOver;
            };
            tokio::select! {
                _ = self.lost.cancelled() => return Lost::TakenOver,
                _ = tokio::time::sleep_until(until.into()) => {}
            }
            if self.valid_until().is_none_or(|u| u <= Instant::now()) {
                return Lost::Expired;
            }
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        let mut held = self.leases.held();
        held.remove(&self.owner);
        gauges::turns_in_flight(held.len());
    }
}
