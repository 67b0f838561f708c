//! The PostgreSQL pool and the schema migrations (`migrations/`, embedded at
//! build time, each with an up and a down script).

use std::time::{Duration, Instant};

use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Postgres};

use crate::config::Database;

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Connects to DATABASE_URL, creating the database first when it does not
/// exist yet (a fresh machine needs no manual `createdb`).
pub async fn connect(config: &Database) -> anyhow_like::Result<PgPool> {
    let url = config.url.expose();
    if !Postgres::database_exists(url).await? {
        tracing::info!(database = %config.display(), "creating database");
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
pub fn pool_options(config: &Database) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.max_connections())
        .min_connections(1)
        .acquire_timeout(config.connect_timeout)
        .idle_timeout(Duration::from_secs(300))
}

/// Round trip to PostgreSQL, bounded by `timeout`.
pub async fn ping(pool: &PgPool, timeout: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    match tokio::time::timeout(timeout, sqlx::query!("SELECT 1 AS ping").fetch_one(pool)).await {
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
    pub state: MigrationState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationState {
    Applied,
    Pending,
    /// Applied, but this binary does not know it: a newer one migrated.
    Unknown,
}

impl MigrationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Pending => "pending",
            Self::Unknown => "unknown",
        }
    }
}

/// Applies pending migrations, all of them or up to and including `to`;
/// returns the versions applied.
pub async fn migrate_up(pool: &PgPool, to: Option<i64>) -> anyhow_like::Result<Vec<i64>> {
    let before = applied_versions(pool).await?;
    match to {
        Some(version) => {
            known_version(version)?;
            MIGRATOR.run_to(version, pool).await?;
        }
        None => MIGRATOR.run(pool).await?,
    }
    let after = applied_versions(pool).await?;
    Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
}

/// Reverts the newest applied migration, or every one newer than `to`
/// (`to` itself stays applied; 0 reverts all); returns the versions
/// reverted, newest first.
pub async fn migrate_down(pool: &PgPool, to: Option<i64>) -> anyhow_like::Result<Vec<i64>> {
    let applied = applied_versions(pool).await?;
    let target = match to {
        Some(0) => 0,
        Some(version) => {
            known_version(version)?;
            version
        }
        None => applied.iter().rev().nth(1).copied().unwrap_or(0),
    };
    if applied.is_empty() {
        return Ok(Vec::new());
    }
    MIGRATOR.undo(pool, target).await?;
    Ok(applied.into_iter().rev().filter(|v| *v > target).collect())
}

fn known_version(version: i64) -> anyhow_like::Result<()> {
    if MIGRATOR.version_exists(version) {
        Ok(())
    } else {
        let known: Vec<String> = MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version.to_string())
            .collect();
        Err(format!("no migration {version}; known: {}", known.join(", ")).into())
    }
}

/// Every migration this binary knows, applied or pending, then any applied
/// version it does not know (a newer binary migrated this database).
pub async fn migrate_status(pool: &PgPool) -> anyhow_like::Result<Vec<MigrationStatus>> {
    let applied = applied_versions(pool).await?;
    let mut status: Vec<MigrationStatus> = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| MigrationStatus {
            version: m.version,
            description: m.description.to_string(),
            state: if applied.contains(&m.version) {
                MigrationState::Applied
            } else {
                MigrationState::Pending
            },
        })
        .collect();
    for version in applied {
        if !MIGRATOR.version_exists(version) {
            status.push(MigrationStatus {
                version,
                description: String::new(),
                state: MigrationState::Unknown,
            });
        }
    }
    Ok(status)
}

async fn applied_versions(pool: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    let exists =
        sqlx::query_scalar!(r#"SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS "exists!""#)
            .fetch_one(pool)
            .await?;
    if !exists {
        return Ok(Vec::new());
    }
    sqlx::query_scalar!("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
}

/// Start-up errors: these end the process with a message, so a boxed error is enough.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}
