//! The PostgreSQL pool and the schema migrations (`migrations/`, embedded at
//! build time, each with an up and a down script).

use std::time::{Duration, Instant};

use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Postgres};

use crate::config::Config;

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Connects to DATABASE_URL, creating the database first when it does not
/// exist yet (a fresh machine needs no manual `createdb`).
pub async fn connect(config: &Config) -> anyhow_like::Result<PgPool> {
    let url = config.database_url.expose();
    if !Postgres::database_exists(url).await? {
        tracing::info!(database = %config.database_display(), "creating database");
        Postgres::create_database(url).await?;
    }
    let options: PgConnectOptions = url
        .parse::<PgConnectOptions>()?
        .application_name("todo-chat")
        // Statement logs at debug would print task titles; keep them at trace.
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    let pool = pool_options(config).connect_with(options).await?;
    Ok(pool)
}

/// Pool sizing from the checklist's variables: up to POOL_SIZE + MAX_OVERFLOW
/// connections; idle ones above what traffic needs are closed after a while.
pub fn pool_options(config: &Config) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.database_max_connections())
        .min_connections(1)
        .acquire_timeout(config.database_connect_timeout)
        .idle_timeout(Duration::from_secs(300))
}

/// Round trip to PostgreSQL, bounded by `timeout`.
pub async fn ping(pool: &PgPool, timeout: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    match tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(pool)).await {
        Ok(Ok(_)) => Ok(start.elapsed()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

/// One line of `migrate status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

pub async fn migrate_up(pool: &PgPool) -> anyhow_like::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Reverts the newest applied migration; returns its version (None when
/// nothing was applied).
pub async fn migrate_down_one(pool: &PgPool) -> anyhow_like::Result<Option<i64>> {
    let applied = applied_versions(pool).await?;
    let Some(&newest) = applied.last() else {
        return Ok(None);
    };
    let target = applied.iter().rev().nth(1).copied().unwrap_or(0);
    MIGRATOR.undo(pool, target).await?;
    Ok(Some(newest))
}

pub async fn migrate_status(pool: &PgPool) -> anyhow_like::Result<Vec<MigrationStatus>> {
    let applied = applied_versions(pool).await?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| MigrationStatus {
            version: m.version,
            description: m.description.to_string(),
            applied: applied.contains(&m.version),
        })
        .collect())
}

async fn applied_versions(pool: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
}

/// Start-up errors: these end the process with a message, so a boxed error is enough.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}
