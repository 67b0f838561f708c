//! RabbitMQ.

use std::time::Duration;

use super::{Reader, Secret};

/// RabbitMQ on this machine, as the services use it when RABBITMQ_URL is unset.
pub const DEFAULT_RABBITMQ_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[derive(Debug, Clone)]
pub struct Broker {
    /// One address, or several (the nodes of a cluster) separated by commas.
    pub url: Secret,
    /// Prefix of every exchange and queue name, so several deployments (or
    /// test runs) can share one broker.
    pub prefix: String,
    /// Delete our queues after this long unused (test runs, previews).
    pub queue_expires: Option<Duration>,
}

/// The addresses of a RABBITMQ_URL, in order.
pub fn addresses(url: &str) -> impl Iterator<Item = &str> {
    url.split(',').map(str::trim)
}

impl Broker {
    pub fn read(r: &mut Reader) -> Self {
        r.section("broker");
        let url = Secret::new(
            r.var(
                "RABBITMQ_URL",
                "The broker: one `amqp://` (or `amqps://`) URL, or the nodes of a RabbitMQ cluster as several URLs separated by commas. Processes connect to the first that answers and, when its connection is lost, to the next one, round the list (docs/deployment.md, \"RabbitMQ as a cluster\"). Frames are at most 16 KiB unless a URL sets its own `?frame_max=`: the client keeps 32 frames of buffer each way, 8 MiB at RabbitMQ's default of 128 KiB.",
            )
            .string(DEFAULT_RABBITMQ_URL),
        );
        if let Some(bad) = addresses(url.expose()).find(|a| {
            !(a.starts_with("amqp://") || a.starts_with("amqps://"))
                || a.contains(char::is_whitespace)
        }) {
            let shown = super::redact_url(bad);
            r.problem(format!(
                "RABBITMQ_URL: `{shown}` is not an amqp:// or amqps:// URL (separate several with commas)"
            ));
        }
        let prefix = r
            .var(
                "RABBITMQ_PREFIX",
                "Prefix of every exchange and queue name.",
            )
            .string("todo");
        if !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            r.problem("RABBITMQ_PREFIX may use letters, digits, '-', '_' and '.' only");
        }
        let queue_expires = r
            .var(
                "RABBITMQ_QUEUE_EXPIRES_SECONDS",
                "Let RabbitMQ delete our queues after this long unused (tests, previews); running processes re-declare them every third of it, so they expire only after the last one stops. Never in production.",
            )
            .optional_positive::<u64>()
            .map(Duration::from_secs);
        Self {
            url,
            prefix,
            queue_expires,
        }
    }
}
