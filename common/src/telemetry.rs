//! Logging and error reporting shared by every binary: one line per event,
//! JSON with LOG_FORMAT=json, level from LOG_LEVEL (RUST_LOG, when set, wins
//! for per-module tuning). With SENTRY_DSN, ERROR events and panics go to
//! Sentry too (warnings and info become breadcrumbs).

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{General, LogFormat, Observability};

/// Keep it alive for the life of the process: dropping it flushes pending
/// Sentry events.
#[must_use = "dropping the guard stops error reporting"]
pub struct TelemetryGuard {
    _sentry: Option<sentry::ClientInitGuard>,
}

/// Installs the global subscriber. Safe to call more than once (tests): later
/// calls keep the first subscriber.
pub fn init(general: &General, config: &Observability) -> TelemetryGuard {
    let sentry = config.sentry_dsn.as_ref().and_then(|dsn| {
        let parsed = dsn.expose().parse().map_err(|e| {
            eprintln!("SENTRY_DSN is not a valid DSN ({e}); error reporting is off");
        });
        parsed.ok().map(|dsn| {
            let mut options = sentry::ClientOptions::default();
            options.dsn = Some(dsn);
            options.release = Some(crate::VERSION.into());
            options.environment = Some(general.environment.as_str().into());
            // Never send request bodies, headers or user IPs.
            options.send_default_pii = false;
            sentry::init(options)
        })
    });
    let sentry_layer = sentry.is_some().then(sentry::integrations::tracing::layer);

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Dependencies are noisy at debug; keep them at warn unless asked.
        EnvFilter::new(format!(
            "warn,todo_api={l},todo_worker={l},todo_common={l},tower_http={l}",
            l = config.log_level
        ))
    });
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(sentry_layer);
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
        // Colours only for a person at a terminal, not in log files.
        LogFormat::Text => registry
            .with(fmt::layer().with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())))
            .try_init(),
    };
    TelemetryGuard { _sentry: sentry }
}
