//! One worker process.

use super::Reader;

#[derive(Debug, Clone)]
pub struct Worker {
    /// Turns one worker handles at once (its prefetch).
    pub concurrency: u16,
    /// Where a worker serves /metrics (0: off).
    pub metrics_port: u16,
}

impl Worker {
    pub fn read(r: &mut Reader) -> Self {
        r.section("worker");
        Self {
            concurrency: r
                .var(
                    "WORKER_CONCURRENCY",
                    "Turns one worker handles at once (its RabbitMQ prefetch). A turn mostly waits on the model without holding a database connection, so this is sized by memory (~100 KiB a turn), not by the pool; the shared limiter paces the model (docs/benchmarks.md, \"Sizing workers\").",
                )
                .positive(256u16),
            metrics_port: r
                .var(
                    "WORKER_METRICS_PORT",
                    "Where a worker serves `/metrics` (0: off).",
                )
                .number(9100u16),
        }
    }
}
