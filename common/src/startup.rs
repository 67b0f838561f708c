//! Waiting for dependencies at start: a process started before PostgreSQL is
//! reachable or migrated waits, says what it waits for, and starts by itself
//! once it can. What waiting cannot fix (a bad URL, a refused password, a
//! database newer than this binary can migrate) ends the start with an error.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::config::Database;
use crate::db;
use crate::error::ErrorChain;

/// Why a process could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("stopped while waiting for {0}")]
    Stopped(&'static str),
    #[error("cannot use the database: {0}")]
    Database(String),
    #[error("cannot apply migrations: {0}")]
    Migrations(String),
}

/// What to do about the schema once PostgreSQL answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Apply pending migrations (RUN_MIGRATIONS).
    Migrate,
    /// Wait until someone has applied them (`todo-api migrate up`).
    WaitForMigrations,
}

/// How often the waiting is logged again: often enough to be seen, rarely
/// enough not to flood a log during a long outage.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Connects to PostgreSQL (creating the database if missing) and makes sure
/// the schema is current, waiting as long as it takes or until `stop`.
pub async fn database(
    config: &Database,
    schema: Schema,
    stop: &CancellationToken,
) -> Result<PgPool, StartError> {
    let pool = connect(config, stop).await?;
    match schema {
        Schema::Migrate => {
            let applied = db::migrate_up(&pool, None)
                .await
                .map_err(|e| StartError::Migrations(e.chain()))?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
        }
        Schema::WaitForMigrations => wait_for_migrations(&pool, stop).await?,
    }
    Ok(pool)
}

async fn connect(config: &Database, stop: &CancellationToken) -> Result<PgPool, StartError> {
    let mut backoff = Duration::from_millis(250);
    let mut logged: Option<Instant> = None;
    loop {
        match db::connect(config).await {
            Ok(pool) => {
                if logged.is_some() {
                    tracing::info!(database = %config.display(), "PostgreSQL is reachable");
                }
                return Ok(pool);
            }
            Err(e) if worth_waiting(&*e) => {
                if logged.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
                    tracing::warn!(
                        database = %config.display(),
                        error = %e.chain(),
                        "waiting for PostgreSQL"
                    );
                    logged = Some(Instant::now());
                }
            }
            Err(e) => return Err(StartError::Database(e.chain())),
        }
        tokio::select! {
            () = stop.cancelled() => return Err(StartError::Stopped("PostgreSQL")),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Connection refused or cut, timeouts, a server (or a proxy in front of
/// it) still starting up or shutting down: failures that end by themselves.
fn worth_waiting(e: &(dyn std::error::Error + 'static)) -> bool {
    let Some(e) = e.downcast_ref::<sqlx::Error>() else {
        return false;
    };
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        // 57P03 cannot_connect_now (starting up), 57P01 admin_shutdown,
        // 53300 too_many_connections.
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("57P03" | "57P01" | "53300"))
        }
        _ => false,
    }
}

async fn wait_for_migrations(pool: &PgPool, stop: &CancellationToken) -> Result<(), StartError> {
    let mut logged: Option<Instant> = None;
    loop {
        let status = db::migrate_status(pool)
            .await
            .map_err(|e| StartError::Database(e.chain()))?;
        let pending: Vec<i64> = status
            .iter()
            .filter(|m| m.state == db::MigrationState::Pending)
            .map(|m| m.version)
            .collect();
        if pending.is_empty() {
            if logged.is_some() {
                tracing::info!("migrations applied; starting");
            }
            return Ok(());
        }
        if logged.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            tracing::warn!(
                pending = pending.len(),
                newest = pending.last().copied().unwrap_or_default(),
                "waiting for migrations: run `todo-api migrate up`"
            );
            logged = Some(Instant::now());
        }
        tokio::select! {
            () = stop.cancelled() => return Err(StartError::Stopped("migrations")),
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
