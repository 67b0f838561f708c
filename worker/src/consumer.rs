//! Consuming turns from RabbitMQ with manual acks and a prefetch of
//! WORKER_CONCURRENCY. Re-subscribes on every new broker connection. On
//! shutdown: stop consuming, let in-flight turns finish for a while, then
//! interrupt the rest (their leases are released and the deliveries
//! requeued, so another worker continues them).

use std::sync::Arc;
use todo_common::error::ErrorChain;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::FieldTable;
use todo_common::chat::turns;
use todo_common::queue::TurnJob;
use todo_common::queue::{Broker, RetryDelay};
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
        let Some(channel) = broker.channel().await else {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            continue;
        };
        let topology = broker.topology();
        let subscribed = async {
            channel
                .basic_qos(prefetch, BasicQosOptions::default())
                .await?;
            let turns = channel
                .basic_consume(
                    topology.turns_queue().into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            let dead = channel
                .basic_consume(
                    topology.dead_queue().into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            lapin::Result::Ok((turns, dead))
        }
        .await;
        let (mut turns_stream, mut dead_stream) = match subscribed {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e.chain(), "could not subscribe to the turn queues");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
        };
        tracing::info!(prefetch, queue = %topology.turns_queue(), "consuming turns");
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = channel.close(200, "worker stopping".into()).await;
                    break 'connection;
                }
                _ = generations.changed() => continue 'connection,
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Err(e) = done { tracing::error!(error = %e.chain(), "turn task panicked"); }
                }
                delivery = turns_stream.next() => match delivery {
                    Some(Ok(d)) => {
                        let (agent, broker, abort) = (agent.clone(), broker.clone(), abort.clone());
                        in_flight.spawn(async move { process(&agent, &broker, d, &abort).await });
                    }
                    _ => {
                        tracing::warn!("turn consumer stopped; re-subscribing");
                        continue 'connection;
                    }
                },
                delivery = dead_stream.next() => match delivery {
                    Some(Ok(d)) => {
                        let (agent, broker) = (agent.clone(), broker.clone());
                        in_flight.spawn(async move { dead_letter(&agent, &broker, d).await });
                    }
                    _ => continue 'connection,
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

async fn process(agent: &Agent, broker: &Broker, delivery: Delivery, abort: &CancellationToken) {
    let job: TurnJob = match serde_json::from_slice(&delivery.data) {
        Ok(job) => job,
        Err(e) => {
            // Not ours or not understandable: nothing can answer it. Drop it
            // rather than loop (its body is not logged: it could be anything).
            let id = delivery
                .properties
                .message_id()
                .as_ref()
                .map(|m| m.to_string());
            tracing::error!(error = %e.chain(), bytes = delivery.data.len(), message_id = ?id, "unreadable turn message; dropping it");
            let _ = delivery
                .nack(BasicNackOptions {
                    requeue: false,
                    ..Default::default()
                })
                .await;
            return;
        }
    };
    let disposition = handler::handle(agent, &job, abort).await;
    settle(broker, &delivery, &job, disposition).await;
}

async fn settle(broker: &Broker, delivery: &Delivery, job: &TurnJob, disposition: Disposition) {
    let acked = match disposition {
        Disposition::Ack => delivery.ack(BasicAckOptions::default()).await,
        Disposition::Defer(delay) => {
            let mut later = job.clone();
            later.deferrals += 1;
            match broker.publish_delayed(&later, delay).await {
                Ok(()) => delivery.ack(BasicAckOptions::default()).await,
                // Could not park it: hand it straight back instead.
                Err(_) => {
                    delivery
                        .nack(BasicNackOptions {
                            requeue: true,
                            ..Default::default()
                        })
                        .await
                }
            }
        }
        Disposition::Requeue => {
            delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await
        }
    };
    // lapin answers Ok(false) when the channel is already gone: the broker
    // will redeliver, and the consumer is idempotent, so this is only noted.
    match acked {
        Ok(true) => {}
        Ok(false) | Err(_) => {
            metrics::counter!(metric::QUEUE_SETTLE_LOST_TOTAL).increment(1);
            tracing::warn!(message_id = %job.message_id, "could not settle the delivery (channel gone); it will be redelivered");
        }
    }
}

/// A turn RabbitMQ gave up on (over the delivery limit). The
/// conversation's next turn is ended visibly; a turn still behind an
/// unfinished one, or running elsewhere, is never failed out of order: it is
/// parked again until its turn comes.
async fn dead_letter(agent: &Agent, broker: &Broker, delivery: Delivery) {
    let Ok(job) = serde_json::from_slice::<TurnJob>(&delivery.data) else {
        // Unreadable: logged where it was first refused.
        let _ = delivery.ack(BasicAckOptions::default()).await;
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
            let _ = delivery.ack(BasicAckOptions::default()).await;
        }
        Err(error) => {
            tracing::warn!(%error, message_id = %job.message_id, "could not settle a dead-lettered turn; keeping it");
            // Not a hot loop while PostgreSQL or RabbitMQ is in trouble.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let _ = delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await;
        }
    }
}
