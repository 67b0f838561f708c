//! Configuration: read from the environment (and `.env` when present) once at
//! start, validated once, every problem reported together.
//!
//! Each section (database, broker, auth, ...) is declared once, in its own
//! module: the call that reads a variable also names its default and meaning,
//! and `docs/configuration.md`, `.env.example` and every binary's `--help`
//! are built from those calls ([`describe`]). Each binary reads only the
//! sections it uses ([`ApiConfig`], [`WorkerConfig`]).

mod auth;
mod broker;
mod chat;
mod database;
pub mod docs;
mod http;
mod mcp;
mod model;
mod observability;
pub mod parse;
mod reader;
mod worker;

use std::collections::HashMap;
use std::fmt;

pub use auth::{Algorithm as JwtAlgorithm, Auth};
pub use broker::{Broker, DEFAULT_RABBITMQ_URL, addresses as broker_addresses};
pub use chat::Chat;
pub use database::Database;
pub use http::Http;
pub use ipnet::IpNet;
pub use mcp::Mcp;
pub use model::{AssistantMode, MaxTokensField, Model};
pub use observability::Observability;
pub use parse::redact_url;
pub use reader::{Reader, ShowDefault, VarDoc};
pub use worker::Worker;

/// A value that must never be printed: `Debug`/`Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The only way to read the value; grep for it to audit secret use.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Staging,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    /// Staging and production: real secrets required.
    pub fn is_deployed(self) -> bool {
        matches!(self, Self::Staging | Self::Production)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl ShowDefault for LogFormat {
    fn show(&self) -> String {
        match self {
            Self::Text => "text".into(),
            Self::Json => "json".into(),
        }
    }
}

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

impl ShowDefault for AllowedOrigins {
    fn show(&self) -> String {
        match self {
            Self::Any => "*".into(),
            Self::List(list) => list.join(","),
        }
    }
}

/// What every process reads before its sections.
#[derive(Debug, Clone)]
pub struct General {
    pub environment: Environment,
    /// DEBUG: more verbose default logging. Never changes what clients see.
    pub debug: bool,
}

impl General {
    fn read(r: &mut Reader) -> Self {
        r.section("general");
        let explicit = r.is_set("ENVIRONMENT");
        let environment = r.var(
            "ENVIRONMENT",
            "`development`, `test`, `staging` or `production`. Production turns on the strict checks below, JSON logs, HSTS, and no automatic migrations.",
        ).parse(Environment::Development, |v| match v.to_ascii_lowercase().as_str() {
            "development" | "dev" | "local" => Ok(Environment::Development),
            "test" => Ok(Environment::Test),
            "staging" => Ok(Environment::Staging),
            "production" | "prod" => Ok(Environment::Production),
            _ => Err("expected development, test, staging or production".into()),
        });
        let debug = r.var(
            "DEBUG",
            "Debug-level logging by default. Never changes what clients see. Must be false in production.",
        ).bool(false);
        if environment == Environment::Production && debug {
            r.problem("DEBUG must be false in production");
        }
        r.environment = environment;
        r.debug = debug;
        // Secrets may be weak only where an operator said, in so many words,
        // that nothing real is at stake; a deployment that forgot ENVIRONMENT
        // gets the strict rules.
        r.lenient_secrets =
            explicit && matches!(environment, Environment::Development | Environment::Test);
        Self { environment, debug }
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

impl ShowDefault for Environment {
    fn show(&self) -> String {
        self.as_str().into()
    }
}

/// What a binary reads: the sections it uses, after [`General`].
pub trait Settings: Sized {
    /// The binary's name, for messages.
    const BINARY: &'static str;
    fn read(general: General, r: &mut Reader) -> Self;
    fn general(&self) -> &General;
    fn observability(&self) -> &Observability;
}

/// Every problem found in the environment, reported at once.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// Reads `.env` (if present) and the process environment.
pub fn from_env<T: Settings>() -> Result<T, ConfigError> {
    // A missing .env is normal; a malformed one is reported by the values it would set.
    let _ = dotenvy::dotenv();
    from_vars(std::env::vars().collect())
}

/// Builds the configuration from explicit variables (tests, tools).
pub fn from_vars<T: Settings>(vars: HashMap<String, String>) -> Result<T, ConfigError> {
    let (config, r) = read::<T>(vars);
    if r.problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError {
            problems: r.problems,
        })
    }
}

/// Every variable `T` reads, in order, with its section, default and meaning.
pub fn describe<T: Settings>() -> Vec<VarDoc> {
    read::<T>(HashMap::new()).1.docs
}

fn read<T: Settings>(vars: HashMap<String, String>) -> (T, Reader) {
    let mut r = Reader::new(vars);
    let general = General::read(&mut r);
    let config = T::read(general, &mut r);
    (config, r)
}

/// What `todo-api` reads (the API, and the MCP server it runs).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub general: General,
    pub observability: Observability,
    pub database: Database,
    pub broker: Broker,
    pub auth: Auth,
    pub http: Http,
    pub chat: Chat,
    pub mcp: Mcp,
}

impl Settings for ApiConfig {
    fn general(&self) -> &General {
        &self.general
    }
    fn observability(&self) -> &Observability {
        &self.observability
    }
    const BINARY: &'static str = "todo-api";
    fn read(general: General, r: &mut Reader) -> Self {
        let config = Self {
            general,
            observability: Observability::read(r),
            database: Database::read(r),
            broker: Broker::read(r),
            auth: Auth::read(r),
            http: Http::read(r),
            chat: Chat::read(r),
            mcp: Mcp::read(r),
        };
        if config.mcp.port == config.http.port && config.mcp.host == config.http.host {
            r.problem("MCP_SERVER_PORT must differ from API_PORT");
        }
        config
    }
}

impl ApiConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        from_env()
    }
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        from_vars(vars)
    }
    pub fn is_production(&self) -> bool {
        self.general.is_production()
    }
}

/// What `todo-worker` reads.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub general: General,
    pub observability: Observability,
    pub database: Database,
    pub broker: Broker,
    pub chat: Chat,
    pub model: Model,
    pub worker: Worker,
}

impl Settings for WorkerConfig {
    fn general(&self) -> &General {
        &self.general
    }
    fn observability(&self) -> &Observability {
        &self.observability
    }
    const BINARY: &'static str = "todo-worker";
    fn read(general: General, r: &mut Reader) -> Self {
        Self {
            general,
            observability: Observability::read(r),
            database: Database::read(r),
            broker: Broker::read(r),
            chat: Chat::read(r),
            model: Model::read(r),
            worker: Worker::read(r),
        }
    }
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        from_env()
    }
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        from_vars(vars)
    }
}

#[cfg(test)]
mod tests;
