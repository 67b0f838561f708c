//! Operations (issue 14): the compose file against the code, backups that
//! restore, the schema page and the SQL metadata (.sqlx/) against the
//! migrations, our nginx.conf run by nginx, and the healthcheck, preflight
//! and smoke commands' logic against real PostgreSQL, RabbitMQ and a
//! running API.

mod backup;
mod compose;
mod docs;
mod healthcheck;
mod nginx;
mod preflight;
mod schema_doc;
mod smoke;
mod sql_metadata;

/// The repository root (api/..).
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
