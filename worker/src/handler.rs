//! What happens to one queued turn: claim it, run it, chain to the next
//! turn of the same conversation, and say what to do with the delivery.

use std::time::{Duration, Instant};
use todo_common::error::ErrorChain;

use todo_common::chat::turns::{self, Claim};
use todo_common::queue::RetryDelay;
use todo_common::queue::TurnJob;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::agent::{Agent, Outcome};
use crate::lease::Lost;
use todo_common::metric;

/// What the consumer does with the delivery afterwards.
#[derive(Debug, PartialEq, Eq)]
pub enum Disposition {
    Ack,
    /// Put back after a delay (an earlier turn is unfinished, or a dependency failed).
    Defer(RetryDelay),
    /// Return to the queue at once (shutdown): another worker takes it.
    Requeue,
}

/// Turns handled back to back on one delivery, at most.
const MAX_CHAIN: usize = 50;

pub async fn handle(agent: &Agent, job: &TurnJob, abort: &CancellationToken) -> Disposition {
    let mut message_id = job.message_id;
    for step in 0..MAX_CHAIN {
        let claiming = Instant::now();
        let claim = match turns::claim(
            &agent.pool,
            &agent.broker,
            message_id,
            agent.leases.worker(),
            agent.config.chat.turn_lease,
            i64::from(agent.config.chat.turns_per_user),
            i64::from(agent.config.chat.history_limit),
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e.chain(), %message_id, "could not claim the turn");
                return if step == 0 {
                    Disposition::Defer(RetryDelay::Short)
                } else {
                    Disposition::Ack
                };
            }
        };
        let turn = match claim {
            Claim::Claimed(turn) => *turn,
            // A deleted conversation: nothing to answer.
            Claim::Missing => return Disposition::Ack,
            // A second delivery of a finished turn: done.
            Claim::Finished if step == 0 => {
                duplicate(message_id, "finished");
                return Disposition::Ack;
            }
            // A second delivery of a turn being answered: back later, in case
            // that claim gives the turn back without answering it.
            Claim::Running if step == 0 => {
                duplicate(message_id, "running");
                return Disposition::Defer(defer_delay(job));
            }
            Claim::Blocked if step == 0 => return Disposition::Defer(defer_delay(job)),
            // The next turn is someone else's now (or done); its own delivery covers it.
            Claim::Finished | Claim::Running | Claim::Blocked => return Disposition::Ack,
        };
        // The heartbeat keeps the lease from here on; the turn stops the
        // moment the lease is no longer certainly ours.
        let lease = agent.leases.hold(&turn, claiming);
        if turn.attempts == 1 {
            let waited = (chrono::Utc::now() - turn.created_at)
                .num_milliseconds()
                .max(0);
            metrics::histogram!(metric::QUEUE_WAIT_SECONDS).record(waited as f64 / 1000.0);
        }
        let started = Instant::now();
        let span = tracing::info_span!("turn", message_id = %turn.message_id, request_id = turn.request_id.as_deref().unwrap_or(""));
        let outcome = {
            let _enter = span.enter();
            tracing::debug!(attempt = turn.attempts, "turn claimed");
            drop(_enter);
            // Stopped cooperatively when the lease is lost: a model call or a
            // wait ends at once, a statement in flight finishes, so no
            // transaction is cut off mid-COMMIT. Dropped after one heartbeat
            // if it still runs (PostgreSQL unreachable).
            let stop = abort.child_token();
            let run = tracing::Instrument::instrument(agent.run(&turn, &stop), span.clone());
            tokio::pin!(run);
            tokio::select! {
                outcome = &mut run => outcome,
                lost = lease.lost() => {
                    let _enter = span.enter();
                    match lost {
                        Lost::TakenOver => tracing::warn!(
                            "lost the turn's lease (it ran out and the turn was re-driven or claimed again); stopping"
                        ),
                        Lost::Expired => tracing::warn!(
                            "turn lease could not be renewed in time; stopping before it runs out"
                        ),
                    }
                    drop(_enter);
                    stop.cancel();
                    let ended = tokio::time::timeout(agent.leases.interval(), &mut run).await;
                    match ended {
                        // It finished the turn meanwhile: that answer stands.
                        Ok(Ok(done @ (Outcome::Answered(_) | Outcome::Failed(_)))) => Ok(done),
                        _ => Ok(match lost {
                            Lost::TakenOver => Outcome::LeaseLost,
                            Lost::Expired => Outcome::LeaseExpired,
                        }),
                    }
                }
            }
        };
        drop(lease);
        let label = match &outcome {
            Ok(Outcome::Answered(_)) => "answered",
            Ok(Outcome::Failed(_)) => "failed",
            Ok(Outcome::LeaseLost) => "lease_lost",
            Ok(Outcome::LeaseExpired) => "lease_expired",
            Ok(Outcome::Interrupted) => "interrupted",
            Err(_) => "error",
        };
        metrics::counter!(metric::TURNS_TOTAL, "outcome" => label).increment(1);
        metrics::histogram!(metric::TURN_DURATION_SECONDS).record(started.elapsed().as_secs_f64());
        let ended = match outcome {
            Ok(Outcome::Answered(ended) | Outcome::Failed(ended)) => ended,
            // Taken over: whoever holds it now answers it.
            Ok(Outcome::LeaseLost) => None,
            // PostgreSQL trouble: once the lease has run out, the heartbeat
            // of any worker re-drives the turn (lease::Leases::redrive).
            Ok(Outcome::LeaseExpired) => return Disposition::Ack,
            Ok(Outcome::Interrupted) => {
                let _ = turns::release(&agent.pool, &turn).await;
                return if step == 0 {
                    Disposition::Requeue
                } else {
                    Disposition::Ack
                };
            }
            Err(e) => {
                // Database trouble mid-turn: give the turn back and try later;
                // stored steps make the retry resume, not repeat.
                tracing::warn!(error = %e.chain(), message_id = %turn.message_id, "turn interrupted by an error; will resume");
                let _ = turns::release(&agent.pool, &turn).await;
                return if step == 0 {
                    Disposition::Defer(RetryDelay::Short)
                } else {
                    Disposition::Ack
                };
            }
        };
        // Answer the conversation's next message now instead of waiting for
        // its delivery to come back from a retry queue. The worker that
        // ended the turn does (its end said which one).
        match ended.and_then(|e| e.next) {
            Some(id) if !abort.is_cancelled() => message_id = id,
            _ => return Disposition::Ack,
        }
    }
    Disposition::Ack
}

/// A delivery of a turn that another delivery already claimed. Expected now
/// and then (docs/architecture.md, "Duplicate deliveries"), so counted, not
/// warned about.
fn duplicate(message_id: Uuid, state: &'static str) {
    metrics::counter!(metric::TURN_DUPLICATE_DELIVERIES_TOTAL, "state" => state).increment(1);
    tracing::debug!(%message_id, state, "duplicate delivery of a turn; the claim settles it");
}

/// Waiting turns come back quickly at first, then less often.
fn defer_delay(job: &TurnJob) -> RetryDelay {
    match job.deferrals {
        0..=9 => RetryDelay::Short,
        10..=29 => RetryDelay::Medium,
        _ => RetryDelay::Long,
    }
}

/// How long a worker keeps finishing in-flight turns after SIGTERM.
pub const DRAIN: Duration = Duration::from_secs(25);
