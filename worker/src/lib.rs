//! The Todo Chat worker: consumes chat turns and answers them with the model
//! and the task tools.

pub mod agent;
pub mod clock;
pub mod consumer;
mod context;
mod gauges;
pub mod handler;
pub mod lease;
pub mod limiter;
pub mod model;
pub mod prompt;
mod reminders;

use std::sync::Arc;

use crate::limiter::Limiter;
use sqlx::PgPool;
use todo_common::WorkerConfig;
use todo_common::error::ErrorChain;
use todo_common::metric;
use todo_common::queue::{Broker, Topology};
use todo_common::supervise::Supervisor;
use tokio_util::sync::CancellationToken;

/// What stops a worker: it could not start, or a background loop it
/// depends on ended (the process must exit non-zero to be restarted).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot set up the shared rate limiter: {0}")]
    Limiter(String),
    #[error("{0}")]
    LoopEnded(String),
}

/// Runs a worker until `shutdown`, then drains. Tests call this in-process.
pub async fn run(
    config: WorkerConfig,
    pool: PgPool,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let config = Arc::new(config);
    let limiter = if config.model.offline() {
        None
    } else {
        match Limiter::new(
            pool.clone(),
            config.model.rpm,
            config.model.tpm,
            config.model.limit_target,
        )
        .await
        {
            Ok(l) => {
                // The account's limits as configured (headers may refine them).
                for (kind, limit) in [("requests", config.model.rpm), ("tokens", config.model.tpm)]
                {
                    if let Some(limit) = limit {
                        metrics::gauge!(metric::OPENAI_RATELIMIT_LIMIT, "kind" => kind)
                            .set(f64::from(limit));
                    }
                }
                Some(l)
            }
            Err(e) => return Err(StartError::Limiter(e.chain())),
        }
    };
    let model = model::Model::from_config(&config.model, limiter);
    tracing::info!(
        model = model.name(),
        offline = model.is_offline(),
        "worker starting"
    );
    let broker = Broker::new(
        config.broker.url.clone(),
        Topology::from_config(&config.broker),
    );
    // The broker connection outlives consumption a little: deliveries are
    // settled during the drain.
    let connection = CancellationToken::new();
    // A loop that ends before shutdown (a panic in the heartbeat, say)
    // drains the worker and fails it, rather than leave it consuming turns
    // whose leases nobody renews.
    let supervisor = Supervisor::new(shutdown.clone());
    supervisor.watch(
        "broker_connection",
        broker.spawn_maintainer(connection.clone()),
    );
    // One heartbeat for all of this process's turns; it runs until the
    // drain is over, so turns finishing after SIGTERM keep their leases.
    let leases = lease::Leases::new(pool.clone(), config.chat.turn_lease);
    let heartbeat_stop = CancellationToken::new();
    supervisor.watch(
        "lease_heartbeat",
        leases.spawn(broker.clone(), heartbeat_stop.clone()),
    );
    // Reminders fire from every worker; they stop with consumption.
    supervisor.watch(
        "reminder_scheduler",
        reminders::spawn(pool.clone(), broker.clone(), shutdown.clone()),
    );
    let agent = Arc::new(agent::Agent::new(
        pool,
        model,
        config,
        broker.clone(),
        leases,
    ));
    consumer::run(agent, broker, shutdown).await;
    // The drain is over: nothing left to renew. A re-drive cut short by the
    // connection's end rolls back and is done by another worker.
    heartbeat_stop.cancel();
    connection.cancel();
    match supervisor.failure() {
        Some(why) => Err(StartError::LoopEnded(why)),
        None => Ok(()),
    }
}
