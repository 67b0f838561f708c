//! PostgreSQL.

use std::time::Duration;

use super::parse::{redact_url, requires_tls};
use super::{Reader, Secret};

#[derive(Debug, Clone)]
pub struct Database {
    pub url: Secret,
    /// Connections the pool keeps open when busy.
    pub pool_size: u32,
    /// Extra connections allowed above the pool size under bursts.
    pub max_overflow: u32,
    /// How long a request waits for a connection.
    pub connect_timeout: Duration,
    /// Apply pending migrations at start.
    pub run_migrations: bool,
}

impl Database {
    pub fn read(r: &mut Reader) -> Self {
        r.section("database");
        let url = Secret::new(r.var(
            "DATABASE_URL",
            "The database (created if missing). Production requires `sslmode=require` (or `verify-ca`/`verify-full`).",
        ).string("postgres://postgres@127.0.0.1:5432/todo_chat"));
        let pool_size = r
            .var(
                "DATABASE_POOL_SIZE",
                "Connections the pool keeps for steady load (checklist: 20).",
            )
            .positive(10u32);
        let max_overflow = r.var(
            "DATABASE_MAX_OVERFLOW",
            "Extra connections allowed in bursts (checklist: 40). The pool never exceeds size + overflow; idle connections close after 5 minutes. Mind PostgreSQL's `max_connections` across all replicas.",
        ).number(10u32);
        let connect_timeout = Duration::from_secs(
            r.var(
                "DATABASE_CONNECT_TIMEOUT_SECONDS",
                "How long a request waits for a pool connection before a 503.",
            )
            .positive(30u64),
        );
        let production = r.is_production();
        let run_migrations = r.var(
            "RUN_MIGRATIONS",
            "Apply pending migrations at start. In production run `todo-api migrate up` as a deploy step instead (or set this on one replica).",
        ).shown_default("true, false in production").bool(!production);

        let db = url.expose();
        if !(db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            r.problem("DATABASE_URL must be a postgres:// URL");
        } else if production && !requires_tls(db) {
            r.problem(
                "DATABASE_URL must set sslmode=require (or verify-ca / verify-full) in production",
            );
        }
        Self {
            url,
            pool_size,
            max_overflow,
            connect_timeout,
            run_migrations,
        }
    }

    /// Upper bound of the connection pool (size + overflow).
    pub fn max_connections(&self) -> u32 {
        self.pool_size + self.max_overflow
    }

    /// `host:port/db` of DATABASE_URL without credentials, for logs.
    pub fn display(&self) -> String {
        redact_url(self.url.expose())
    }
}
