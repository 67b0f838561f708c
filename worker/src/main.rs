//! `todo-worker`: consumes chat turns from RabbitMQ.
//!
//! This first version connects to PostgreSQL and RabbitMQ (reconnecting with
//! backoff) and idles until SIGTERM; the chat pipeline adds the consumer.

use std::process::ExitCode;
use std::time::Duration;

use lapin::{Connection, ConnectionProperties};
use todo_common::{db, shutdown};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, _telemetry) = match todo_common::init_process("todo-worker") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let token = CancellationToken::new();
    tokio::spawn(shutdown::cancel_on_signal(token.clone()));
    tracing::info!(
        environment = config.environment.as_str(),
        version = todo_common::VERSION,
        "starting todo-worker"
    );
    let pool = match db::connect(&config).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot reach PostgreSQL");
            return ExitCode::FAILURE;
        }
    };
    let mut backoff = Duration::from_millis(250);
    while !token.is_cancelled() {
        match Connection::connect(
            config.rabbitmq_url.expose(),
            ConnectionProperties::default(),
        )
        .await
        {
            Ok(conn) => {
                tracing::info!("connected to RabbitMQ; idle until the chat pipeline is installed");
                backoff = Duration::from_millis(250);
                // Wait for shutdown or for the broker to drop us.
                loop {
                    tokio::select! {
                        _ = token.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {
                            if !conn.status().connected() {
                                tracing::warn!("lost the RabbitMQ connection; reconnecting");
                                break;
                            }
                        }
                    }
                }
                let _ = conn.close(200, "worker stopping".into()).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "cannot reach RabbitMQ");
                tokio::select! {
                    _ = token.cancelled() => {}
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    pool.close().await;
    tracing::info!("todo-worker stopped");
    ExitCode::SUCCESS
}
