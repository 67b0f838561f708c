//! What the Todo Chat API and worker share.

pub mod chat;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod llm;
pub mod metric;
pub mod paging;
pub mod process_metrics;
pub mod queue;
pub mod reminders;
pub mod shutdown;
pub mod startup;
pub mod supervise;
pub mod tasks;
pub mod telemetry;
pub mod tools;
pub mod work;

pub use config::{ApiConfig, WorkerConfig};
pub use error::{Error, Result};

/// The version reported by /health and the logs.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Both rustls crypto providers end up compiled in (sqlx brings ring, reqwest
/// and lapin aws-lc-rs); rustls then refuses to guess, so every binary picks
/// one before the first TLS connection. Calling it twice is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The start of every binary: TLS provider, configuration (on error: every
/// problem on stderr, exit status 2), logging.
pub fn init_process<T: config::Settings>()
-> Result<(T, telemetry::TelemetryGuard), std::process::ExitCode> {
    install_tls_provider();
    match config::from_env::<T>() {
        Ok(config) => {
            let guard = telemetry::init(config.general(), config.observability());
            Ok((config, guard))
        }
        Err(e) => {
            eprintln!("{}: {e}", T::BINARY);
            Err(std::process::ExitCode::from(2))
        }
    }
}
