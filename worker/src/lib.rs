//! The Todo Chat worker: consumes chat turns and answers them with the model
//! and the task tools.

pub mod agent;
pub mod consumer;
mod gauges;
pub mod handler;
pub mod lease;
pub mod model;
pub mod prompt;

use std::sync::Arc;

use sqlx::PgPool;
use todo_common::Config;
use todo_common::limiter::Limiter;
use todo_common::queue::{Broker, Topology};
use tokio_util::sync::CancellationToken;

/// Runs a worker until `shutdown`, then drains. Tests call this in-process.
pub async fn run(config: Config, pool: PgPool, shutdown: CancellationToken) {
    let config = Arc::new(config);
    let limiter = if config.offline_assistant() {
        None
    } else {
        match Limiter::new(
            pool.clone(),
            config.openai_rpm,
            config.openai_tpm,
            config.openai_limit_target,
        )
        .await
        {
            Ok(l) => {
                // The account's limits as configured (headers may refine them).
                for (kind, limit) in [
                    ("requests", config.openai_rpm),
                    ("tokens", config.openai_tpm),
                ] {
                    if let Some(limit) = limit {
                        metrics::gauge!("openai_ratelimit_limit", "kind" => kind)
                            .set(f64::from(limit));
                    }
                }
                Some(l)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot set up the shared rate limiter");
                return;
            }
        }
    };
    let model = model::Model::from_config(&config, limiter);
    tracing::info!(
        model = model.name(),
        offline = model.is_offline(),
        "worker starting"
    );
    let broker = Broker::new(config.rabbitmq_url.clone(), Topology::from_config(&config));
    // The broker connection outlives consumption a little: deliveries are
    // settled during the drain.
    let connection = CancellationToken::new();
    broker.spawn_maintainer(connection.clone());
    // One heartbeat for all of this process's turns; it runs until the
    // drain is over, so turns finishing after SIGTERM keep their leases.
    let leases = lease::Leases::new(pool.clone(), config.turn_lease);
    let heartbeat_stop = CancellationToken::new();
    let heartbeat = leases.spawn(broker.clone(), heartbeat_stop.clone());
    let agent = Arc::new(agent::Agent::new(
        pool,
        model,
        config,
        broker.clone(),
        leases,
    ));
    consumer::run(agent, broker, shutdown).await;
    heartbeat_stop.cancel();
    let _ = heartbeat.await;
    connection.cancel();
}
