//! Logging setup shared by every binary: one line per event, JSON with
//! LOG_FORMAT=json, level from LOG_LEVEL (RUST_LOG, when set, wins for
//! per-module tuning).

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{Config, LogFormat};

/// Installs the global subscriber. Safe to call more than once (tests): later
/// calls keep the first subscriber.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Dependencies are noisy at debug; keep them at warn unless asked.
        EnvFilter::new(format!(
            "warn,todo_api={l},todo_worker={l},todo_common={l},tower_http={l}",
            l = config.log_level
        ))
    });
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match config.log_format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Text => registry.with(fmt::layer()).try_init(),
    };
}
