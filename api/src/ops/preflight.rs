//! `todo-api preflight [--api-replicas N] [--worker-replicas M] [--json]`:
//! the deployment checklist's "Pre-Deployment Verification" as a command. It
//! reads the same variables the services will, checks each item and prints
//! one line per item (pass / warn / fail, the reason, the fix); any failure
//! makes the exit status non-zero. Nothing is changed except that the
//! RabbitMQ topology is declared (idempotent: what every process does at start).
//!
//! It takes the raw variables rather than a `Config`, so a configuration the
//! services would refuse is reported item by item instead of stopping here;
//! the connectivity checks then run with what could be read.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use todo_common::error::ErrorChain;

use sqlx::postgres::PgPoolOptions;
use todo_common::config::{
    AllowedOrigins, ApiConfig, ConfigError, Environment, LogFormat, Model, WorkerConfig,
};
use todo_common::queue::{Probe, Topology};

use super::{Check, Report, Status};

/// The settings both services read from one environment: the API's
/// sections, and the worker's model (the API never calls it).
struct Deployment {
    api: ApiConfig,
    model: Model,
}

impl Deployment {
    /// Both services' configurations; their problems together, each once.
    fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        match (
            ApiConfig::from_vars(vars.clone()),
            WorkerConfig::from_vars(vars),
        ) {
            (Ok(api), Ok(worker)) => Ok(Self {
                api,
                model: worker.model,
            }),
            (api, worker) => {
                let mut problems = api.err().map(|e| e.problems).unwrap_or_default();
                for p in worker.err().map(|e| e.problems).unwrap_or_default() {
                    if !problems.contains(&p) {
                        problems.push(p);
                    }
                }
                Err(ConfigError { problems })
            }
        }
    }
}

/// What the operator says about the deployment, and how long to wait.
#[derive(Debug, Clone)]
pub struct Options {
    /// API replicas that will run (each has a pool of size + overflow).
    pub api_replicas: u32,
    /// Worker processes that will run (same pool each).
    pub worker_replicas: u32,
    /// Per network check.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            api_replicas: 2,
            worker_replicas: 2,
            timeout: Duration::from_secs(5),
        }
    }
}

/// `.env` (when present) and the process environment, as the services read them.
pub fn env_vars() -> HashMap<String, String> {
    let _ = dotenvy::dotenv();
    std::env::vars().collect()
}

/// Runs every check against `vars`.
pub async fn preflight(vars: HashMap<String, String>, options: &Options) -> Report {
    let mut report = Report::default();
    let parsed = Deployment::from_vars(vars.clone());
    match &parsed {
        Ok(_) => report.push(Check::pass(
            "config",
            "every variable is set and valid for this ENVIRONMENT",
        )),
        Err(e) => {
            for problem in &e.problems {
                report.push(Check::fail("config", problem.clone(), fix_for(problem)));
            }
        }
    }
    // Variables the configuration already reported: their checks below
    // would only say it again.
    let reported: Vec<String> = match &parsed {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .iter()
            .filter_map(|p| leading_var(p).map(String::from))
            .collect(),
    };
    let Some(config) = parsed.ok().or_else(|| readable_config(&vars)) else {
        report.push(Check::fail(
            "config",
            "the variables cannot be read well enough to check connections",
            "fix the problems above, then run preflight again",
        ));
        return report;
    };
    let mut items = Report::default();
    settings(&mut items, &vars, &config);
    for check in items.checks {
        let repeats = check.status == Status::Fail
            && vars_of(check.id)
                .iter()
                .any(|v| reported.iter().any(|r| r == v));
        if !repeats {
            report.push(check);
        }
    }
    // A URL the configuration could not use was dropped for these checks;
    // checking the default instead would report on the wrong server.
    let given = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    if given("DATABASE_URL").is_none_or(|v| v == config.api.database.url.expose()) {
        database(&mut report, &config, options).await;
    }
    if given("RABBITMQ_URL").is_none_or(|v| v == config.api.broker.url.expose()) {
        rabbitmq(&mut report, &config, options).await;
    }
    model(&mut report, &config, options).await;
    jwks(&mut report, &config, options).await;
    report
}

/// The variables a settings check is about.
fn vars_of(id: &str) -> &'static [&'static str] {
    match id {
        "environment" => &["ENVIRONMENT"],
        "debug" => &["DEBUG"],
        "log_level" => &["LOG_LEVEL"],
        "log_format" => &["LOG_FORMAT"],
        "secrets" => &["BETTER_AUTH_SECRET", "SECRET_KEY"],
        "cors" => &["ALLOWED_ORIGINS"],
        "database.tls" => &["DATABASE_URL"],
        "metrics" => &["METRICS_PORT", "METRICS_ENABLED"],
        "mcp.public_url" => &["MCP_PUBLIC_URL"],
        _ => &[],
    }
}

/// ENVIRONMENT as the configuration reads it (None: unset or unreadable).
fn declared_environment(vars: &HashMap<String, String>) -> Option<Environment> {
    match vars
        .get("ENVIRONMENT")?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "development" | "dev" | "local" => Some(Environment::Development),
        "test" => Some(Environment::Test),
        "staging" => Some(Environment::Staging),
        "production" | "prod" => Some(Environment::Production),
        _ => None,
    }
}

/// What to do about a problem the configuration reported.
fn fix_for(problem: &str) -> String {
    let var = leading_var(problem).unwrap_or("");
    if problem.contains("required")
        || problem.contains("at least 32")
        || problem.contains("placeholder")
    {
        format!("set {var} to a random value: openssl rand -base64 48")
    } else if var == "DEBUG" {
        "set DEBUG=false".into()
    } else if problem.contains("ALLOWED_ORIGINS=*") {
        "list the browser origins, e.g. ALLOWED_ORIGINS=https://app.example.com".into()
    } else if problem.contains("sslmode") {
        "append ?sslmode=require (or verify-full) to DATABASE_URL".into()
    } else if problem.contains("https://") {
        format!("use an https:// URL for {var}")
    } else if var.is_empty() {
        "see docs/configuration.md".into()
    } else {
        format!(
            "correct {var}: docs/configuration.md lists what it accepts (#{})",
            var.to_ascii_lowercase()
        )
    }
}

/// The variable a problem starts with (`API_PORT: ...`, `DEBUG must ...`).
fn leading_var(problem: &str) -> Option<&str> {
    let end = problem
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(problem.len());
    let name = &problem[..end];
    ((name.len() > 2 && name.contains('_')) || matches!(name, "DEBUG" | "ENVIRONMENT"))
        .then_some(name)
}

/// A configuration good enough for the connection checks: the production
/// and secret rules relaxed, and variables that do not parse dropped.
fn readable_config(vars: &HashMap<String, String>) -> Option<Deployment> {
    let mut vars = vars.clone();
    vars.insert("ENVIRONMENT".into(), "test".into());
    for _ in 0..3 {
        match Deployment::from_vars(vars.clone()) {
            Ok(c) => return Some(c),
            Err(e) => {
                for p in &e.problems {
                    if let Some(name) = leading_var(p) {
                        vars.remove(name);
                    }
                }
            }
        }
    }
    None
}

/// ENVIRONMENT, DEBUG, LOG_LEVEL, LOG_FORMAT, secrets, CORS, DATABASE_URL,
/// where /metrics is served and the MCP server's public URL against what
/// production needs.
fn settings(report: &mut Report, vars: &HashMap<String, String>, config: &Deployment) {
    // The declared one: `config` may be the relaxed copy made for the
    // connection checks.
    let environment = declared_environment(vars);
    let production = environment == Some(Environment::Production);
    report.push(match environment {
        Some(Environment::Production) => Check::pass("environment", "ENVIRONMENT=production"),
        Some(Environment::Staging) => Check::warn(
            "environment",
            "ENVIRONMENT=staging: production's secret rules, without its TLS and CORS rules",
            "set ENVIRONMENT=production for a production deploy",
        ),
        None => Check::fail(
            "environment",
            "ENVIRONMENT is unset or unknown (development rules)",
            "set ENVIRONMENT=production",
        ),
        Some(other) => Check::fail(
            "environment",
            format!("ENVIRONMENT={}: development rules", other.as_str()),
            "set ENVIRONMENT=production",
        ),
    });
    report.push(if config.api.general.debug {
        Check::fail("debug", "DEBUG=true", "set DEBUG=false")
    } else {
        Check::pass("debug", "DEBUG=false")
    });
    report.push(match config.api.observability.log_level.as_str() {
        "info" | "warn" | "error" => Check::pass(
            "log_level",
            format!("LOG_LEVEL={}", config.api.observability.log_level),
        ),
        other => Check::warn(
            "log_level",
            format!("LOG_LEVEL={other}: verbose logs cost disk and may show more than needed"),
            "set LOG_LEVEL=INFO (or WARNING)",
        ),
    });
    report.push(match config.api.observability.log_format {
        LogFormat::Json => Check::pass("log_format", "LOG_FORMAT=json"),
        LogFormat::Text if production => Check::fail(
            "log_format",
            "LOG_FORMAT=text in production: log collectors need one JSON object per line",
            "set LOG_FORMAT=json",
        ),
        LogFormat::Text => Check::warn("log_format", "LOG_FORMAT=text", "set LOG_FORMAT=json"),
    });
    // The secrets themselves were judged by the configuration (length,
    // placeholders); here only whether they were given at all.
    let missing: Vec<&str> = ["BETTER_AUTH_SECRET", "SECRET_KEY"]
        .into_iter()
        .filter(|name| vars.get(*name).is_none_or(|v| v.trim().is_empty()))
        .collect();
    report.push(if missing.is_empty() {
        Check::pass("secrets", "BETTER_AUTH_SECRET and SECRET_KEY are set")
    } else {
        Check::fail(
            "secrets",
            format!(
                "{} unset: a random one per process would log everyone out at each restart",
                missing.join(" and ")
            ),
            "set them from your secrets manager: openssl rand -base64 48",
        )
    });
    report.push(cors(config, production));
    report.push(metrics(config, production));
    report.push(mcp_public_url(config, production));
    let url = config.api.database.url.expose();
    let tls = [
        "sslmode=require",
        "sslmode=verify-ca",
        "sslmode=verify-full",
    ]
    .iter()
    .any(|m| url.contains(m));
    report.push(match (tls, production) {
        (true, _) => Check::pass("database.tls", "DATABASE_URL requires TLS"),
        (false, true) => Check::fail(
            "database.tls",
            "DATABASE_URL does not require TLS",
            "append ?sslmode=require (or verify-full) to DATABASE_URL",
        ),
        (false, false) => Check::warn(
            "database.tls",
            "DATABASE_URL does not require TLS",
            "append ?sslmode=require when the database is on another host",
        ),
    });
}

fn cors(config: &Deployment, production: bool) -> Check {
    let origins = match &config.api.http.allowed_origins {
        AllowedOrigins::Any => {
            let mut check = Check::warn(
                "cors",
                "ALLOWED_ORIGINS=*: any web site may call the API from a browser",
                "list the app's origins, e.g. ALLOWED_ORIGINS=https://app.example.com",
            );
            if production {
                check.status = Status::Fail;
            }
            return check;
        }
        AllowedOrigins::List(list) => list,
    };
    let plain: Vec<&str> = origins
        .iter()
        .map(String::as_str)
        .filter(|o| !o.starts_with("https://"))
        .collect();
    if plain.is_empty() {
        Check::pass("cors", format!("ALLOWED_ORIGINS: {}", origins.join(", ")))
    } else if production {
        Check::fail(
            "cors",
            format!(
                "ALLOWED_ORIGINS has plain-http origins: {}",
                plain.join(", ")
            ),
            "list only the https:// origins the app is served from",
        )
    } else {
        Check::warn(
            "cors",
            format!(
                "ALLOWED_ORIGINS has plain-http origins: {}",
                plain.join(", ")
            ),
            "use https:// origins in production",
        )
    }
}

/// Without METRICS_PORT, /metrics is on the API port: public wherever the
/// API is. It names every route with its traffic and error rates, the open
/// streams, the database pool and the processes' resources: a map of the
/// service and of its load for an attacker (issue 19).
fn metrics(config: &Deployment, production: bool) -> Check {
    let http = &config.api.http;
    if !config.api.observability.metrics_enabled {
        return Check::pass("metrics", "METRICS_ENABLED=false: /metrics is not served");
    }
    if let Some(port) = http.metrics_port {
        return Check::pass(
            "metrics",
            format!("METRICS_PORT={port}: /metrics is served there only"),
        );
    }
    let reason = format!(
        "METRICS_PORT is unset: /metrics is served on the public API port {} to anyone",
        http.port
    );
    let fix =
        "set METRICS_PORT (e.g. 9100) to a port only Prometheus reaches, never the load balancer";
    if production {
        Check::fail("metrics", reason, fix)
    } else {
        Check::warn("metrics", reason, fix)
    }
}

/// The MCP server names its own URL in its OAuth protected-resource
/// metadata (RFC 9728), and clients must refuse metadata whose `resource`
/// differs from the URL they used (§3.3). Unset, the URL is built from the
/// request's Host header with `http://`: behind a TLS proxy that is the
/// wrong scheme (and, through our nginx, which forwards `$host`, the wrong
/// port), so OAuth discovery breaks and tells clients to use plain http.
/// So production fails on unset as well as on an `http://` URL (issue 19).
fn mcp_public_url(config: &Deployment, production: bool) -> Check {
    let mcp = &config.api.mcp;
    if !mcp.enabled {
        return Check::pass("mcp.public_url", "MCP_ENABLED=false: no MCP server");
    }
    let reason = match &mcp.public_url {
        Some(url) if url.starts_with("https://") => {
            return Check::pass("mcp.public_url", format!("MCP_PUBLIC_URL={url}"));
        }
        Some(url) => format!(
            "MCP_PUBLIC_URL={url} is not https: MCP clients are told to send their tokens in the clear"
        ),
        None => "MCP_PUBLIC_URL is unset: the OAuth metadata names http://<Host header>/mcp, not the https:// URL clients use, so they refuse it".into(),
    };
    let fix = "set MCP_PUBLIC_URL to the https:// URL clients use, e.g. https://mcp.example.com/mcp (or MCP_ENABLED=false)";
    if production {
        Check::fail("mcp.public_url", reason, fix)
    } else {
        Check::warn("mcp.public_url", reason, fix)
    }
}

async fn database(report: &mut Report, config: &Deployment, options: &Options) {
    let start = Instant::now();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(options.timeout)
        .connect(config.api.database.url.expose())
        .await;
    let pool = match pool {
        Ok(pool) => pool,
        Err(e) => {
            report.push(Check::fail(
                "database.reachable",
                format!("cannot connect to {}: {e}", config.api.database.display()),
                "check DATABASE_URL (host, port, user, password, database) and that PostgreSQL accepts connections from here",
            ));
            return;
        }
    };
    match todo_common::db::ping(&pool, options.timeout).await {
        Ok(latency) => report.push(Check::pass(
            "database.reachable",
            format!(
                "{} answers in {:.1} ms (connect {:.0} ms)",
                config.api.database.display(),
                latency.as_secs_f64() * 1000.0,
                start.elapsed().as_secs_f64() * 1000.0
            ),
        )),
        Err(e) => report.push(Check::fail(
            "database.reachable",
            format!("{} does not answer: {e}", config.api.database.display()),
            "check PostgreSQL's health and load",
        )),
    }
    report.push(migrations(&pool).await);
    report.push(pool_capacity(&pool, config, options).await);
    pool.close().await;
}

/// Pending, unknown (applied by a newer build), failed and edited migrations.
pub async fn migrations(pool: &sqlx::PgPool) -> Check {
    let exists =
        sqlx::query_scalar!(r#"SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS "exists!""#)
            .fetch_one(pool)
            .await;
    let applied: Vec<(i64, bool, Vec<u8>)> = match exists {
        Ok(false) => Vec::new(),
        Ok(true) => match sqlx::query!(
            "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version"
        )
        .fetch_all(pool)
        .await
        {
            Ok(rows) => rows
                .into_iter()
                .map(|r| (r.version, r.success, r.checksum))
                .collect(),
            Err(e) => {
                return Check::fail(
                    "database.migrations",
                    e.to_string(),
                    "check the database user's rights",
                );
            }
        },
        Err(e) => {
            return Check::fail(
                "database.migrations",
                e.to_string(),
                "check the database user's rights",
            );
        }
    };
    let known: BTreeMap<i64, &[u8]> = todo_common::db::MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, &*m.checksum))
        .collect();
    let applied_map: BTreeMap<i64, (bool, &[u8])> = applied
        .iter()
        .map(|(v, ok, sum)| (*v, (*ok, sum.as_slice())))
        .collect();
    let pending: Vec<String> = known
        .keys()
        .filter(|v| !applied_map.contains_key(v))
        .map(i64::to_string)
        .collect();
    let unknown: Vec<String> = applied_map
        .keys()
        .filter(|v| !known.contains_key(v))
        .map(i64::to_string)
        .collect();
    let failed: Vec<String> = applied_map
        .iter()
        .filter(|(_, (ok, _))| !ok)
        .map(|(v, _)| v.to_string())
        .collect();
    let edited: Vec<String> = applied_map
        .iter()
        .filter(|(v, (ok, sum))| *ok && known.get(v).is_some_and(|k| k != sum))
        .map(|(v, _)| v.to_string())
        .collect();
    if !unknown.is_empty() {
        Check::fail(
            "database.migrations",
            format!(
                "applied but unknown to this build: {} (the database is newer than this image)",
                unknown.join(", ")
            ),
            "deploy the image that applied them, or revert them with that image's `todo-api migrate down` (docs/deployment.md#rolling-back)",
        )
    } else if !failed.is_empty() {
        Check::fail(
            "database.migrations",
            format!("failed half-way: {}", failed.join(", ")),
            "restore the backup taken before the upgrade (docs/deployment.md#restoring-a-backup)",
        )
    } else if !edited.is_empty() {
        Check::fail(
            "database.migrations",
            format!("changed since they were applied: {}", edited.join(", ")),
            "never edit an applied migration: restore its original file and add a new migration",
        )
    } else if !pending.is_empty() {
        Check::fail(
            "database.migrations",
            format!("{} pending: {}", pending.len(), pending.join(", ")),
            "back up (scripts/backup.sh), then run `todo-api migrate up` once (docs/deployment.md#upgrading)",
        )
    } else {
        Check::pass(
            "database.migrations",
            format!("all {} applied, none pending or unknown", known.len()),
        )
    }
}

/// Every replica's pool at its maximum, plus a migration, against the
/// connections PostgreSQL accepts from non-superusers.
async fn pool_capacity(pool: &sqlx::PgPool, config: &Deployment, options: &Options) -> Check {
    let row = sqlx::query!(
        r#"SELECT current_setting('max_connections')::int AS "max!",
                current_setting('superuser_reserved_connections')::int AS "reserved!",
                (SELECT count(*) FROM pg_stat_activity
                  WHERE backend_type = 'client backend') AS "in_use!""#
    )
    .fetch_one(pool)
    .await;
    let (max, reserved, in_use) = match row {
        Ok(r) => (r.max, r.reserved, r.in_use),
        Err(e) => {
            return Check::fail(
                "database.pool",
                e.to_string(),
                "check the database user's rights",
            );
        }
    };
    let available = i64::from(max - reserved);
    let per = i64::from(config.api.database.max_connections());
    let replicas = i64::from(options.api_replicas) + i64::from(options.worker_replicas);
    let need = replicas * per + 1;
    let what = format!(
        "{} API + {} worker replicas x {per} (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW) + 1 migration = {need} of {available} usable connections (max_connections {max} - {reserved} reserved; {in_use} open now)",
        options.api_replicas, options.worker_replicas
    );
    if need > available {
        Check::fail(
            "database.pool",
            what,
            format!(
                "lower DATABASE_POOL_SIZE/DATABASE_MAX_OVERFLOW to at most {} per replica in total, or raise max_connections",
                (available - 1) / replicas.max(1)
            ),
        )
    } else if need * 10 > available * 8 {
        Check::warn(
            "database.pool",
            what,
            "leave room for admin sessions, backups and a rolling deploy's extra replica",
        )
    } else {
        Check::pass("database.pool", what)
    }
}

async fn rabbitmq(report: &mut Report, config: &Deployment, options: &Options) {
    // As the services do: the first address (of a cluster's) that answers.
    let mut unreachable = Vec::new();
    let mut reached = None;
    for url in todo_common::config::broker_addresses(config.api.broker.url.expose()) {
        let display = todo_common::config::redact_url(url);
        let connect = tokio::time::timeout(options.timeout, Probe::connect(url)).await;
        match connect {
            Ok(Ok(conn)) => {
                reached = Some((conn, display));
                break;
            }
            Ok(Err(e)) => unreachable.push(format!("cannot connect to {display}: {e}")),
            Err(_) => unreachable.push(format!(
                "{display} did not answer within {:?}",
                options.timeout
            )),
        }
    }
    let Some((conn, display)) = reached else {
        report.push(Check::fail(
            "rabbitmq.reachable",
            unreachable.join("; "),
            "check RABBITMQ_URL (host, port, user, password, vhost), that RabbitMQ runs, and the firewall",
        ));
        return;
    };
    let mut what = format!("connected to {display}");
    if !unreachable.is_empty() {
        what = format!("{what} ({})", unreachable.join("; "));
    }
    report.push(Check::pass("rabbitmq.reachable", what));
    let topology = Topology::from_config(&config.api.broker);
    let declared = conn.declare(&topology);
    report.push(match tokio::time::timeout(options.timeout, declared).await {
        Ok(Ok(())) => Check::pass(
            "rabbitmq.topology",
            format!("exchanges and queues of prefix `{}` declared", config.api.broker.prefix),
        ),
        Ok(Err(e)) => Check::fail(
            "rabbitmq.topology",
            format!("cannot declare the `{}` topology: {e}", config.api.broker.prefix),
            "give the user configure/write/read rights on the vhost; a PRECONDITION_FAILED means queues exist with other arguments: delete them when empty, or use another RABBITMQ_PREFIX",
        ),
        Err(_) => Check::fail(
            "rabbitmq.topology",
            "declaring the topology timed out",
            "check RabbitMQ's health (memory or disk alarm)",
        ),
    });
    conn.close().await;
}

async fn model(report: &mut Report, config: &Deployment, options: &Options) {
    if config.model.offline() {
        report.push(Check::warn(
            "model",
            "no OPENAI_API_KEY or OPENAI_BASE_URL: workers answer with the built-in offline assistant",
            "set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server) to use a model",
        ));
        return;
    }
    report.push(context_window(&config.model));
    let base = config
        .model
        .base_url
        .clone()
        .unwrap_or_else(|| "https://api.openai.com/v1".into());
    let url = format!("{}/models", base.trim_end_matches('/'));
    let http = match reqwest::Client::builder().timeout(options.timeout).build() {
        Ok(h) => h,
        Err(e) => {
            report.push(Check::fail("model", e.to_string(), "report this as a bug"));
            return;
        }
    };
    let mut request = http.get(&url);
    if let Some(key) = &config.model.api_key {
        request = request.bearer_auth(key.expose());
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            report.push(Check::fail(
                "model",
                format!("{url} did not answer: {}", e.without_url().chain()),
                "check OPENAI_BASE_URL and that this host may reach it (proxy, firewall)",
            ));
            return;
        }
    };
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    report.push(match status {
        200 => {
            let ids: Vec<&str> = body["data"]
                .as_array()
                .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
                .unwrap_or_default();
            if ids.contains(&config.model.name.as_str()) {
                Check::pass(
                    "model",
                    format!("{base} accepts the key and serves {}", config.model.name),
                )
            } else {
                let some: Vec<&str> = ids.iter().take(8).copied().collect();
                Check::fail(
                    "model",
                    format!(
                        "{base} does not list OPENAI_MODEL={} (it has: {})",
                        config.model.name,
                        if some.is_empty() {
                            "none".into()
                        } else {
                            some.join(", ")
                        }
                    ),
                    "set OPENAI_MODEL to a model this account can use",
                )
            }
        }
        401 | 403 => Check::fail(
            "model",
            format!(
                "{base} refused the key ({status}): {}",
                body["error"]["message"].as_str().unwrap_or("")
            ),
            "set OPENAI_API_KEY to a valid key for this server (a project key with model access)",
        ),
        404 => Check::warn(
            "model",
            format!(
                "{url} is 404: this server does not list models, so OPENAI_MODEL was not checked"
            ),
            "check OPENAI_MODEL by hand",
        ),
        429 => Check::warn(
            "model",
            format!(
                "{base} answered 429: {}",
                body["error"]["message"].as_str().unwrap_or("rate limited")
            ),
            "if it says insufficient_quota, add credit before deploying",
        ),
        other => Check::fail(
            "model",
            format!("{url} answered {other}"),
            "check OPENAI_BASE_URL and the provider's status page",
        ),
    });
}

/// Local servers have small context windows that a long conversation
/// outgrows; the worker only trims its history to one it is told.
fn context_window(model: &Model) -> Check {
    match model.context_tokens {
        Some(tokens) => Check::pass(
            "model.context",
            format!("OPENAI_CONTEXT_TOKENS={tokens}: history is trimmed to fit"),
        ),
        None if model.is_openai() => Check::pass(
            "model.context",
            "OpenAI's context windows hold CHAT_HISTORY_LIMIT messages",
        ),
        None => Check::warn(
            "model.context",
            "OPENAI_CONTEXT_TOKENS is unset for a server other than OpenAI: a long conversation can outgrow its context window and every later turn be refused",
            "set OPENAI_CONTEXT_TOKENS to the server's context per parallel request (docs/models.md)",
        ),
    }
}

async fn jwks(report: &mut Report, config: &Deployment, options: &Options) {
    let Some(url) = &config.api.auth.jwks_url else {
        return;
    };
    let http = reqwest::Client::builder()
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let response = match http {
        Ok(h) => h.get(url).send().await,
        Err(e) => {
            report.push(Check::fail("jwks", e.to_string(), "report this as a bug"));
            return;
        }
    };
    let response = match response {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            report.push(Check::fail(
                "jwks",
                format!("{url} answered {} (redirects are not followed)", r.status().as_u16()),
                "point AUTH_JWKS_URL at the final key set URL (Better Auth: https://<auth host>/api/auth/jwks)",
            ));
            return;
        }
        Err(e) => {
            report.push(Check::fail(
                "jwks",
                format!("{url} did not answer: {}", e.without_url().chain()),
                "check AUTH_JWKS_URL and that this host may reach it",
            ));
            return;
        }
    };
    let set: Result<jsonwebtoken::jwk::JwkSet, _> = response.json().await;
    report.push(match set {
        Err(e) => Check::fail(
            "jwks",
            format!("{url} is not a JSON Web Key Set: {e}"),
            "point AUTH_JWKS_URL at the key set, not the auth server's home page",
        ),
        Ok(set) => {
            let usable = set
                .keys
                .iter()
                .filter(|k| jsonwebtoken::DecodingKey::from_jwk(k).is_ok())
                .filter(|k| {
                    matches!(
                        k.common.key_algorithm,
                        None | Some(
                            jsonwebtoken::jwk::KeyAlgorithm::EdDSA
                                | jsonwebtoken::jwk::KeyAlgorithm::RS256
                                | jsonwebtoken::jwk::KeyAlgorithm::ES256
                        )
                    )
                })
                .count();
            if usable == 0 {
                Check::fail(
                    "jwks",
                    format!(
                        "{url} holds {} keys, none usable (EdDSA, RS256 or ES256)",
                        set.keys.len()
                    ),
                    "have the auth server publish a signing key (Better Auth's jwt plugin)",
                )
            } else {
                Check::pass("jwks", format!("{url} holds {usable} usable key(s)"))
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_their_variable_and_fix() {
        assert_eq!(
            leading_var("API_PORT: `x` is not a valid number"),
            Some("API_PORT")
        );
        assert_eq!(
            leading_var("DEBUG must be false in production"),
            Some("DEBUG")
        );
        assert_eq!(leading_var("invalid"), None);
        assert!(
            fix_for("SECRET_KEY is required outside development and test").contains("openssl rand")
        );
        assert!(fix_for("DATABASE_URL must use sslmode=require").contains("sslmode=require"));
    }
}
