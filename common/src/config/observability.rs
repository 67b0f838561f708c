//! Logs, metrics and error tracking.

use super::{LogFormat, Reader, Secret};

#[derive(Debug, Clone)]
pub struct Observability {
    /// A tracing level name (`WARNING` -> `warn`).
    pub log_level: String,
    pub log_format: LogFormat,
    pub sentry_dsn: Option<Secret>,
    pub metrics_enabled: bool,
}

impl Observability {
    pub fn read(r: &mut Reader) -> Self {
        r.section("observability");
        let debug = r.debug;
        let log_level = r.var(
            "LOG_LEVEL",
            "`TRACE`, `DEBUG`, `INFO`, `WARNING`/`WARN`, `ERROR`: our own code's level; libraries log at `WARN` and above. The RabbitMQ client's own `ERROR` lines (a connection or channel lost, which every service rides out by reconnecting) are shown as `WARN`, target `lapin` (the original in `lapin_target`), so `ERROR` means something for a person to act on. `RUST_LOG`, when set, overrides it with per-module directives.",
        ).shown_default("info (debug with DEBUG)").parse(
            if debug { "debug" } else { "info" }.to_string(),
            |v| match v.to_ascii_lowercase().as_str() {
                "trace" => Ok("trace".into()),
                "debug" => Ok("debug".into()),
                "info" => Ok("info".into()),
                "warn" | "warning" => Ok("warn".into()),
                "error" | "critical" => Ok("error".into()),
                _ => Err("expected TRACE, DEBUG, INFO, WARNING or ERROR".into()),
            },
        );
        let production = r.is_production();
        let log_format = r
            .var(
                "LOG_FORMAT",
                "`json` for one JSON object per line, or `text`.",
            )
            .shown_default("text (json in production)")
            .parse(
                if production {
                    LogFormat::Json
                } else {
                    LogFormat::Text
                },
                |v| match v.to_ascii_lowercase().as_str() {
                    "json" => Ok(LogFormat::Json),
                    "text" | "pretty" | "plain" => Ok(LogFormat::Text),
                    _ => Err("expected json or text".into()),
                },
            );
        let sentry_dsn = r.var(
            "SENTRY_DSN",
            "Error tracking: ERROR-level events (every 5xx, start-up failures) and panics go to Sentry with release and environment; warnings and info ride along as breadcrumbs. No request bodies, headers or IPs are sent.",
        ).optional_secret();
        let metrics_enabled = r.var(
            "METRICS_ENABLED",
            "Serves `GET /metrics` (Prometheus text): the API on its port, or only on `METRICS_PORT` when that is set; a worker on `WORKER_METRICS_PORT`.",
        ).bool(true);
        Self {
            log_level,
            log_format,
            sentry_dsn,
            metrics_enabled,
        }
    }
}
