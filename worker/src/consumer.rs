//! Consuming turns from RabbitMQ with manual acks and a prefetch of
//! WORKER_CONCURRENCY. Re-subscribes on every new broker connection. On
//! shutdown: stop consuming, let in-flight turns finish for a while, then
//! interrupt the rest (their leases are released and the deliveries
//! requeued, so another worker continues them).

use std::sync::Arc;
use todo_common::error::ErrorChain;

use todo_common::chat::turns;
use todo_common::queue::{Broker, Incoming, RetryDelay, TurnDelivery, TurnJob};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::agent::Agent;
use crate::handler::{self, DRAIN, Disposition};
use todo_common::metric;

pub async fn run(agent: Arc<Agent>, broker: Arc<Broker>, shutdown: CancellationToken) {
    // Fired when the drain period is over: in-flight turns stop between steps.
    let abort = CancellationToken::new();
    let mut in_flight = JoinSet::new();
    let mut generations = broker.generations();
    let prefetch = agent.config.worker.concurrency;
    'connection: while !shutdown.is_cancelled() {
        if !broker.is_connected() {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = generations.changed() => continue,
            }
        }
        generations.borrow_and_update();
        let mut subscription = match broker.consume_turns(prefetch).await {
            None => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e.chain(), "could not subscribe to the turn queues");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
            Some(Ok(subscription)) => subscription,
        };
        tracing::info!(prefetch, queue = %broker.topology().turns_queue(), "consuming turns");
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    subscription.close().await;
                    break 'connection;
                }
                _ = generations.changed() => continue 'connection,
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Err(e) = done { tracing::error!(error = %e.chain(), "turn task panicked"); }
                }
                incoming = subscription.next() => match incoming {
                    Some(Incoming::Turn(d)) => {
                        let (agent, broker, abort) = (agent.clone(), broker.clone(), abort.clone());
                        in_flight.spawn(async move { process(&agent, &broker, d, &abort).await });
                    }
                    Some(Incoming::Dead(d)) => {
                        let (agent, broker) = (agent.clone(), broker.clone());
                        in_flight.spawn(async move { dead_letter(&agent, &broker, d).await });
                    }
                    None => {
                        tracing::warn!("turn consumer stopped; re-subscribing");
                        continue 'connection;
                    }
                },
            }
        }
    }
    // Drain: finish what is running, up to DRAIN; then interrupt.
    if !in_flight.is_empty() {
        tracing::info!(turns = in_flight.len(), "finishing in-flight turns");
    }
    let drained = tokio::time::timeout(DRAIN, async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        abort.cancel();
        while in_flight.join_next().await.is_some() {}
    }
}

async fn process(
    agent: &Agent,
    broker: &Broker,
    delivery: TurnDelivery,
    abort: &CancellationToken,
) {
    let job = match delivery.job() {
        Ok(job) => job.clone(),
        Err(e) => {
            // Not ours or not understandable: nothing can answer it. Drop it
            // rather than loop (its body is not logged: it could be anything).
            let (id, bytes) = delivery.describe();
            tracing::error!(error = %e, bytes, message_id = ?id, "unreadable turn message; dropping it");
            delivery.reject().await;
            return;
        }
    };
    let disposition = handler::handle(agent, &job, abort).await;
    settle(broker, delivery, &job, disposition).await;
}

async fn settle(broker: &Broker, delivery: TurnDelivery, job: &TurnJob, disposition: Disposition) {
    let settled = match disposition {
        Disposition::Ack => delivery.ack().await,
        Disposition::Defer(delay) => {
            let mut later = job.clone();
            later.deferrals += 1;
            delivery.retry_later(broker, &later, delay).await
        }
        Disposition::Requeue => delivery.requeue().await,
    };
    // Not settled when the channel is already gone: the broker will
    // redeliver, and the consumer is idempotent, so this is only noted.
    if !settled {
        metrics::counter!(metric::QUEUE_SETTLE_LOST_TOTAL).increment(1);
        tracing::warn!(message_id = %job.message_id, "could not settle the delivery (channel gone); it will be redelivered");
    }
}

/// A turn RabbitMQ gave up on (over the delivery limit). The
/// conversation's next turn is ended visibly; a turn still behind an
/// unfinished one, or running elsewhere, is never failed out of order: it is
/// parked again until its turn comes.
async fn dead_letter(agent: &Agent, broker: &Broker, delivery: TurnDelivery) {
    let Ok(job) = delivery.job().cloned() else {
        // Unreadable: logged where it was first refused.
        delivery.ack().await;
        return;
    };
    let settled = match turns::is_idle_head(&agent.pool, job.message_id).await {
        Ok(None) => Ok(()),
        Ok(Some(false)) => broker
            .publish_delayed(&job, RetryDelay::Long)
            .await
            .map_err(|e| e.to_string()),
        Ok(Some(true)) => {
            tracing::error!(message_id = %job.message_id, "turn dead-lettered after repeated failures");
            match turns::fail(
                &agent.pool,
                &agent.broker,
                job.message_id,
                "it could not be processed after several attempts",
            )
            .await
            {
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    match settled {
        Ok(()) => {
            delivery.ack().await;
        }
        Err(error) => {
            tracing::warn!(%error, message_id = %job.message_id, "could not settle a dead-lettered turn; keeping it");
            // Not a hot loop while PostgreSQL or RabbitMQ is in trouble.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            delivery.requeue().await;
        }
    }
}
