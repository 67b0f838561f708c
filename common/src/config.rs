//! Configuration: read from the environment (and `.env` when present) once at
//! start, validated once, every problem reported together.
//!
//! Every variable of the production checklist (`docs/configuration.md` lists
//! them all with defaults) is read here and nowhere else.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

pub use ipnet::IpNet;
use jsonwebtoken::Algorithm;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

/// Which request field carries the output limit (OPENAI_MAX_TOKENS_FIELD).
/// OpenAI refuses `max_tokens` for its newer models and refuses the two
/// fields together; Ollama and older llama.cpp/vLLM read only `max_tokens`
/// (docs/models.md, "Output limit and timeouts").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens` for OpenAI and Azure OpenAI, `max_tokens`
    /// for every other server.
    Auto,
    MaxCompletionTokens,
    MaxTokens,
}

/// RabbitMQ on this machine, as the services use it when RABBITMQ_URL is unset.
pub const DEFAULT_RABBITMQ_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    /// DEBUG: more verbose default logging. Never changes what clients see.
    pub debug: bool,
    /// LOG_LEVEL, normalised to a tracing level name (`WARNING` -> `warn`).
    pub log_level: String,
    pub log_format: LogFormat,

    pub api_host: String,
    pub api_port: u16,
    /// TRUSTED_PROXIES: the proxies (IPs or CIDRs) in front of the API. The
    /// client address (sign-up and login throttling) is the right-most
    /// X-Forwarded-For entry that is not one of them, and X-Forwarded-For is
    /// read only when the socket peer is one of them.
    pub trusted_proxies: Vec<IpNet>,

    pub database_url: Secret,
    /// DATABASE_POOL_SIZE: connections the pool keeps open when busy.
    pub database_pool_size: u32,
    /// DATABASE_MAX_OVERFLOW: extra connections allowed above the pool size
    /// under bursts; the pool never exceeds size + overflow.
    pub database_max_overflow: u32,
    /// DATABASE_CONNECT_TIMEOUT_SECONDS: how long a request waits for a connection.
    pub database_connect_timeout: Duration,
    /// RUN_MIGRATIONS: apply pending migrations at start. Defaults to true
    /// outside production, false in production (one deploy step migrates).
    pub run_migrations: bool,

    pub rabbitmq_url: Secret,
    /// RABBITMQ_PREFIX: prefix of every exchange and queue name, so several
    /// deployments (or test runs) can share one broker.
    pub rabbitmq_prefix: String,
    /// RABBITMQ_QUEUE_EXPIRES_SECONDS: delete our queues after this long
    /// unused (test runs, previews); unset in production.
    pub rabbitmq_queue_expires: Option<Duration>,

    /// CHAT_RATE_LIMIT_PER_MINUTE: chat messages one user may send per minute.
    pub chat_rate_limit_per_minute: u32,
    /// CHAT_HISTORY_LIMIT: earlier messages sent to the model as context.
    pub chat_history_limit: u32,
    /// MAX_TOOL_ROUNDS: model calls with tool use per turn before it is wrapped up.
    pub max_tool_rounds: u32,
    /// WORKER_CONCURRENCY: turns one worker handles at once (its prefetch).
    /// A turn mostly waits on the model without a database connection, so
    /// this is sized by memory (~90 KiB a turn), not by the pool; the shared
    /// limiter paces the model (docs/benchmarks.md, issue 11).
    pub worker_concurrency: u16,
    /// WORKER_METRICS_PORT: where a worker serves /metrics (0: off).
    pub worker_metrics_port: u16,
    /// TURN_LEASE_SECONDS: how long a claimed turn is reserved without a
    /// heartbeat before another worker may take it over. Each worker renews
    /// its turns' leases every fifth of it and stops a turn it could not
    /// renew one heartbeat before the lease runs out (worker/src/lease.rs).
    pub turn_lease: Duration,
    /// TURN_MAX_ATTEMPTS: claims of one turn (crashes, lost leases) before it fails.
    pub turn_max_attempts: u32,
    /// TURNS_PER_USER: turns of one user in progress at once, across all
    /// workers (fair share of workers and of the model's rate limit).
    pub turns_per_user: u32,

    pub jwt_algorithm: Algorithm,
    pub jwt_expiration_hours: u32,
    /// BETTER_AUTH_SECRET: signs and verifies HS* session tokens.
    pub better_auth_secret: Secret,
    /// SECRET_KEY: keys the HMACs that name throttling buckets (no raw IPs or
    /// emails are stored) and anything else that needs a server-side key.
    pub secret_key: Secret,
    /// AUTH_JWKS_URL: a Better Auth (or other) JWKS; tokens signed by its keys
    /// (EdDSA, RS256, ES256) are accepted too.
    pub auth_jwks_url: Option<String>,
    /// AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE: when set, JWKS-signed tokens
    /// must carry this `iss` / `aud` (a token without the claim is refused).
    pub auth_jwt_issuer: Option<String>,
    pub auth_jwt_audience: Option<String>,
    /// BETTER_AUTH_URL: Better Auth's base URL. When set, a shared-secret
    /// token that is not one of ours must name it as `iss` and `aud` (as
    /// Better Auth does); unset, any JWT signed with BETTER_AUTH_SECRET that
    /// has `sub`, `iat` and `exp` is accepted.
    pub better_auth_url: Option<String>,
    /// LOGIN_MAX_FAILURES failed logins per LOGIN_FAILURE_WINDOW_SECONDS, per
    /// client IP and per account, before answering 429.
    pub login_max_failures: u32,
    pub login_failure_window: Duration,
    /// SIGNUP_MAX_PER_IP sign-up attempts per SIGNUP_WINDOW_SECONDS and client
    /// IP before answering 429.
    pub signup_max_per_ip: u32,
    pub signup_window: Duration,
    /// PASSWORD_HASH_CONCURRENCY: argon2 hashes (sign-up, login) running at
    /// once; each holds 19 MiB and a core. Default: the number of cores.
    pub password_hash_concurrency: u32,
    /// PASSWORD_HASH_WAIT_MS: how long a request waits for a hashing slot
    /// before it gets 503 + Retry-After.
    pub password_hash_wait: Duration,

    pub allowed_origins: AllowedOrigins,
    pub cors_allow_credentials: bool,
    pub cors_allow_methods: Vec<String>,

    pub openai_api_key: Option<Secret>,
    pub openai_model: String,
    pub openai_base_url: Option<String>,
    /// OPENAI_TIMEOUT_SECONDS: the ceiling of one model request, start to
    /// end, however steadily it streams.
    pub openai_timeout: Duration,
    /// OPENAI_FIRST_BYTE_TIMEOUT_SECONDS: how long a request may go before
    /// the first byte of the answer (prompt processing, a model loading).
    pub openai_first_byte_timeout: Duration,
    /// OPENAI_IDLE_TIMEOUT_SECONDS: the longest silence allowed between two
    /// pieces of a streamed answer; a longer one is a stalled stream.
    pub openai_idle_timeout: Duration,
    /// OPENAI_MAX_OUTPUT_TOKENS: the output limit sent with every request.
    pub openai_max_output_tokens: u32,
    /// OPENAI_MAX_TOKENS_FIELD: which request field carries that limit.
    pub openai_max_tokens_field: MaxTokensField,
    /// OPENAI_MAX_ATTEMPTS: tries per model call (5xx, timeouts), with
    /// exponential backoff and jitter, honouring Retry-After. Rate-limit
    /// 429s wait for the shared limiter instead and do not use up attempts.
    pub openai_max_attempts: u32,
    /// OPENAI_RPM / OPENAI_TPM: the account's per-minute limits. Unset: learnt
    /// from the server's x-ratelimit-limit-* headers (or none at all).
    pub openai_rpm: Option<u32>,
    pub openai_tpm: Option<u32>,
    /// OPENAI_LIMIT_TARGET: the fraction of those limits the workers aim to use.
    pub openai_limit_target: f64,

    pub mcp_server_host: String,
    pub mcp_server_port: u16,
    /// MCP_ENABLED: `todo-api` also serves MCP on MCP_SERVER_HOST:MCP_SERVER_PORT.
    pub mcp_enabled: bool,
    /// MCP_ALLOWED_HOSTS: the `Host` values the MCP server answers (its
    /// DNS-rebinding defence); host names, or `host:port`.
    pub mcp_allowed_hosts: Vec<String>,
    /// MCP_ALLOWED_ORIGINS: browser origins that may call the MCP server.
    /// Empty (the default) refuses every request that carries an `Origin`.
    pub mcp_allowed_origins: Vec<String>,
    /// MCP_PUBLIC_URL: the MCP endpoint as clients reach it
    /// (`https://mcp.example.com/mcp`), named in the OAuth metadata; by
    /// default `http://<Host header>/mcp`.
    pub mcp_public_url: Option<String>,

    pub sentry_dsn: Option<Secret>,
    /// HEALTH_CHECK_INTERVAL_SECONDS: how often the background probe checks
    /// PostgreSQL and updates the `database_up` gauge.
    pub health_check_interval: Duration,
    pub metrics_enabled: bool,
    /// METRICS_PORT: serve /metrics on this port (on API_HOST) instead of
    /// the API port, so it can stay off the public load balancer.
    pub metrics_port: Option<u16>,
    /// WEB_ENABLED: serve the web app embedded at build time (`web/dist`) at `/`.
    pub web_enabled: bool,
    /// SSE_MAX_STREAMS_PER_USER: open event streams one user may hold on
    /// one API instance (tabs, devices); more get 429 `too_many_streams`.
    pub sse_max_streams_per_user: usize,
    /// SSE_MAX_STREAMS: open event streams one API instance serves at once.
    pub sse_max_streams: usize,
    /// EVENT_RETENTION: how long durable events are kept for SSE resume
    /// ("7d", "36h", "90m", or seconds). A client further behind is told to resync.
    pub event_retention: Duration,
}

/// Every problem found in the environment, reported at once.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    /// Reads `.env` (if present) and the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported by the values it would set.
        let _ = dotenvy::dotenv();
        Self::from_vars(std::env::vars().collect())
    }

    /// Builds the configuration from explicit variables (tests, tools).
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            vars,
            problems: Vec::new(),
        };
        let environment = r.parse("ENVIRONMENT", Environment::Development, |v| {
            match v.to_ascii_lowercase().as_str() {
                "development" | "dev" | "local" => Ok(Environment::Development),
                "test" => Ok(Environment::Test),
                "staging" => Ok(Environment::Staging),
                "production" | "prod" => Ok(Environment::Production),
                _ => Err("expected development, test, staging or production".into()),
            }
        });
        let production = environment == Environment::Production;
        // Secrets may be weak only where an operator said, in so many words,
        // that nothing real is at stake; a deployment that forgot ENVIRONMENT
        // gets the strict rules. Unset secrets are random per process in
        // development and test (ENVIRONMENT unset included) and required elsewhere.
        let lenient_secrets = r.optional("ENVIRONMENT").is_some()
            && matches!(environment, Environment::Development | Environment::Test);
        let secrets_required = !matches!(environment, Environment::Development | Environment::Test);

        let debug = r.bool("DEBUG", false);
        let log_level = r.parse(
            "LOG_LEVEL",
            if debug { "debug" } else { "info" }.to_string(),
            |v| match v.to_ascii_lowercase().as_str() {
                "trace" => Ok("trace".into()),
                "debug" => Ok("debug".into()),
                "info" => Ok("info".into()),
                "warn" | "warning" => Ok("warn".into()),
                "error" | "critical" => Ok("error".into()),
                _ => Err("expected TRACE, DEBUG, INFO, WARNING or ERROR".into()),
            },
        );
        let log_format = r.parse(
            "LOG_FORMAT",
            if production {
                LogFormat::Json
            } else {
                LogFormat::Text
            },
            |v| match v.to_ascii_lowercase().as_str() {
                "json" => Ok(LogFormat::Json),
                "text" | "pretty" | "plain" => Ok(LogFormat::Text),
                _ => Err("expected json or text".into()),
            },
        );

        let api_host = r.string("API_HOST", "0.0.0.0");
        let api_port = r.number("API_PORT", 8000u16);
        // Removed (issue 10): it trusted the first X-Forwarded-For entry,
        // which a client behind an appending proxy writes itself.
        if r.bool("TRUST_FORWARDED_FOR", false) {
            r.problems.push(
                "TRUST_FORWARDED_FOR is no longer supported (it trusted the client-controlled first \
                 X-Forwarded-For entry); list the proxies in front of the API in TRUSTED_PROXIES \
                 instead, e.g. TRUSTED_PROXIES=10.0.0.0/8"
                    .into(),
            );
        }
        let trusted_proxies = r.parse("TRUSTED_PROXIES", Vec::new(), parse_networks);

        let database_url = Secret::new(r.string(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/todo_chat",
        ));
        let database_pool_size = r.number("DATABASE_POOL_SIZE", 10u32);
        let database_max_overflow = r.number("DATABASE_MAX_OVERFLOW", 10u32);
        let database_connect_timeout =
            Duration::from_secs(r.number("DATABASE_CONNECT_TIMEOUT_SECONDS", 30u64));
        let run_migrations = r.bool("RUN_MIGRATIONS", !production);

        let rabbitmq_url = Secret::new(r.string("RABBITMQ_URL", DEFAULT_RABBITMQ_URL));

        let rabbitmq_prefix = r.string("RABBITMQ_PREFIX", "todo");
        let rabbitmq_queue_expires = r.parse("RABBITMQ_QUEUE_EXPIRES_SECONDS", None, |v| {
            v.parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(|s| Some(Duration::from_secs(s)))
                .ok_or_else(|| "expected a positive number of seconds".to_string())
        });
        let chat_rate_limit_per_minute = r.number("CHAT_RATE_LIMIT_PER_MINUTE", 30u32);
        let chat_history_limit = r.number("CHAT_HISTORY_LIMIT", 20u32);
        let max_tool_rounds = r.number("MAX_TOOL_ROUNDS", 5u32);
        let worker_concurrency = r.number("WORKER_CONCURRENCY", 256u16);
        let worker_metrics_port = r.number("WORKER_METRICS_PORT", 9100u16);
        let turn_lease = Duration::from_secs(r.number("TURN_LEASE_SECONDS", 5u64));
        let turn_max_attempts = r.number("TURN_MAX_ATTEMPTS", 5u32);
        let turns_per_user = r.number("TURNS_PER_USER", 2u32);

        let jwt_algorithm = r.parse("JWT_ALGORITHM", Algorithm::HS256, |v| {
            match v.to_ascii_uppercase().as_str() {
                "HS256" => Ok(Algorithm::HS256),
                "HS384" => Ok(Algorithm::HS384),
                "HS512" => Ok(Algorithm::HS512),
                _ => Err(
                    "expected HS256, HS384 or HS512 (asymmetric keys come from AUTH_JWKS_URL)"
                        .into(),
                ),
            }
        });
        let jwt_expiration_hours = r.number("JWT_EXPIRATION_HOURS", 24u32);
        let better_auth_secret = r.secret("BETTER_AUTH_SECRET", secrets_required);
        let secret_key = r.secret("SECRET_KEY", secrets_required);
        let auth_jwks_url = r.optional("AUTH_JWKS_URL");
        let auth_jwt_issuer = r.optional("AUTH_JWT_ISSUER");
        let auth_jwt_audience = r.optional("AUTH_JWT_AUDIENCE");
        let better_auth_url = r.optional("BETTER_AUTH_URL");
        let login_max_failures = r.number("LOGIN_MAX_FAILURES", 10u32);
        let login_failure_window =
            Duration::from_secs(r.number("LOGIN_FAILURE_WINDOW_SECONDS", 60u64));
        let signup_max_per_ip = r.number("SIGNUP_MAX_PER_IP", 20u32);
        let signup_window = Duration::from_secs(r.number("SIGNUP_WINDOW_SECONDS", 3600u64));
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        let password_hash_concurrency = r.number(
            "PASSWORD_HASH_CONCURRENCY",
            u32::try_from(cores).unwrap_or(u32::MAX),
        );
        let password_hash_wait = Duration::from_millis(r.number("PASSWORD_HASH_WAIT_MS", 1000u64));

        let allowed_origins = r.parse(
            "ALLOWED_ORIGINS",
            AllowedOrigins::List(vec![
                "http://localhost:3000".into(),
                "http://127.0.0.1:3000".into(),
                "http://localhost:8000".into(),
                "http://127.0.0.1:8000".into(),
            ]),
            parse_origins,
        );
        let cors_allow_credentials = r.bool("CORS_ALLOW_CREDENTIALS", true);
        let cors_allow_methods = r.parse(
            "CORS_ALLOW_METHODS",
            ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .map(String::from)
                .to_vec(),
            parse_methods,
        );

        let openai_api_key = r.optional("OPENAI_API_KEY").map(Secret::new);
        let openai_model = r.string("OPENAI_MODEL", "gpt-4-turbo");
        let openai_base_url = r.optional("OPENAI_BASE_URL");
        // The ceiling lets a slow local model (~10 tokens/s) write a whole
        // answer of OPENAI_MAX_OUTPUT_TOKENS; the two below catch a dead one.
        let openai_timeout = Duration::from_secs(r.number("OPENAI_TIMEOUT_SECONDS", 300u64));
        let openai_first_byte_timeout =
            Duration::from_secs(r.number("OPENAI_FIRST_BYTE_TIMEOUT_SECONDS", 60u64));
        let openai_idle_timeout =
            Duration::from_secs(r.number("OPENAI_IDLE_TIMEOUT_SECONDS", 30u64));
        let openai_max_output_tokens = r.number("OPENAI_MAX_OUTPUT_TOKENS", 1024u32);
        let openai_max_tokens_field =
            r.parse("OPENAI_MAX_TOKENS_FIELD", MaxTokensField::Auto, |v| match v
                .trim()
                .to_ascii_lowercase()
                .as_str()
            {
                "auto" => Ok(MaxTokensField::Auto),
                "max_completion_tokens" => Ok(MaxTokensField::MaxCompletionTokens),
                "max_tokens" => Ok(MaxTokensField::MaxTokens),
                _ => Err("expected auto, max_completion_tokens or max_tokens".to_string()),
            });
        let openai_max_attempts = r.number("OPENAI_MAX_ATTEMPTS", 5u32);
        let openai_rpm = r.parse("OPENAI_RPM", None, |v| {
            v.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| "expected a positive whole number".to_string())
        });
        let openai_tpm = r.parse("OPENAI_TPM", None, |v| {
            v.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| "expected a positive whole number".to_string())
        });
        let openai_limit_target = r.parse("OPENAI_LIMIT_TARGET", 0.9f64, |v| {
            v.parse::<f64>()
                .ok()
                .filter(|t| *t > 0.0 && *t <= 1.0)
                .ok_or_else(|| "expected a fraction in (0, 1], e.g. 0.9".to_string())
        });

        let mcp_server_host = r.string("MCP_SERVER_HOST", "0.0.0.0");
        let mcp_server_port = r.number("MCP_SERVER_PORT", 5555u16);
        let mcp_enabled = r.bool("MCP_ENABLED", true);
        let mcp_allowed_hosts = r.parse(
            "MCP_ALLOWED_HOSTS",
            ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec(),
            |v| Ok(split_list(v)),
        );
        let mcp_allowed_origins = r.parse("MCP_ALLOWED_ORIGINS", Vec::new(), |v| {
            if split_list(v).is_empty() {
                return Ok(Vec::new());
            }
            match parse_origins(v)? {
                AllowedOrigins::List(list) => Ok(list),
                AllowedOrigins::Any => Err("list origins; * is not allowed here".into()),
            }
        });
        let mcp_public_url = r.optional("MCP_PUBLIC_URL");

        let sentry_dsn = r.optional("SENTRY_DSN").map(Secret::new);
        let health_check_interval =
            Duration::from_secs(r.number("HEALTH_CHECK_INTERVAL_SECONDS", 60u64));
        let metrics_enabled = r.bool("METRICS_ENABLED", true);
        let metrics_port = r.parse("METRICS_PORT", None, |v| {
            v.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .map(Some)
                .ok_or_else(|| "expected a port number, 1 to 65535".to_string())
        });
        let web_enabled = r.bool("WEB_ENABLED", true);
        let positive = |v: &str| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| "expected a positive whole number".to_string())
        };
        let sse_max_streams_per_user = r.parse("SSE_MAX_STREAMS_PER_USER", 20, positive);
        let sse_max_streams = r.parse("SSE_MAX_STREAMS", 10_000, positive);
        let event_retention = r.parse(
            "EVENT_RETENTION",
            Duration::from_secs(7 * 24 * 3600),
            parse_duration,
        );

        let config = Config {
            environment,
            debug,
            log_level,
            log_format,
            api_host,
            api_port,
            trusted_proxies,
            database_url,
            database_pool_size,
            database_max_overflow,
            database_connect_timeout,
            run_migrations,
            rabbitmq_url,
            rabbitmq_prefix,
            rabbitmq_queue_expires,
            chat_rate_limit_per_minute,
            chat_history_limit,
            max_tool_rounds,
            worker_concurrency,
            worker_metrics_port,
            turn_lease,
            turn_max_attempts,
            turns_per_user,
            jwt_algorithm,
            jwt_expiration_hours,
            better_auth_secret,
            secret_key,
            auth_jwks_url,
            auth_jwt_issuer,
            auth_jwt_audience,
            better_auth_url,
            login_max_failures,
            login_failure_window,
            signup_max_per_ip,
            signup_window,
            password_hash_concurrency,
            password_hash_wait,
            allowed_origins,
            cors_allow_credentials,
            cors_allow_methods,
            openai_api_key,
            openai_model,
            openai_base_url,
            openai_timeout,
            openai_first_byte_timeout,
            openai_idle_timeout,
            openai_max_output_tokens,
            openai_max_tokens_field,
            openai_max_attempts,
            openai_rpm,
            openai_tpm,
            openai_limit_target,
            mcp_server_host,
            mcp_server_port,
            mcp_enabled,
            mcp_allowed_hosts,
            mcp_allowed_origins,
            mcp_public_url,
            sentry_dsn,
            health_check_interval,
            metrics_enabled,
            metrics_port,
            web_enabled,
            sse_max_streams_per_user,
            sse_max_streams,
            event_retention,
        };
        let mut problems = r.problems;
        problems.extend(config.problems());
        if !lenient_secrets {
            problems.extend(config.weak_secrets());
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Rules on combinations of values; the strict ones apply in production.
    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.database_pool_size == 0 {
            p.push("DATABASE_POOL_SIZE must be at least 1".into());
        }
        if !(1..=720).contains(&self.jwt_expiration_hours) {
            p.push("JWT_EXPIRATION_HOURS must be between 1 and 720".into());
        }
        if self.login_max_failures == 0 || self.login_failure_window.is_zero() {
            p.push("LOGIN_MAX_FAILURES and LOGIN_FAILURE_WINDOW_SECONDS must be positive".into());
        }
        if self.signup_max_per_ip == 0 || self.signup_window.is_zero() {
            p.push("SIGNUP_MAX_PER_IP and SIGNUP_WINDOW_SECONDS must be positive".into());
        }
        if self.password_hash_wait > Duration::from_secs(30) {
            p.push("PASSWORD_HASH_WAIT_MS must be at most 30000".into());
        }
        for (name, value) in [
            (
                "CHAT_RATE_LIMIT_PER_MINUTE",
                self.chat_rate_limit_per_minute,
            ),
            ("MAX_TOOL_ROUNDS", self.max_tool_rounds),
            ("WORKER_CONCURRENCY", u32::from(self.worker_concurrency)),
            ("TURN_MAX_ATTEMPTS", self.turn_max_attempts),
            ("TURNS_PER_USER", self.turns_per_user),
            ("OPENAI_MAX_ATTEMPTS", self.openai_max_attempts),
            ("OPENAI_MAX_OUTPUT_TOKENS", self.openai_max_output_tokens),
            ("PASSWORD_HASH_CONCURRENCY", self.password_hash_concurrency),
        ] {
            if value == 0 {
                p.push(format!("{name} must be at least 1"));
            }
        }
        // The heartbeat renews every fifth of the lease; under 2 s that is
        // closer to a database round trip under load than is safe.
        if self.turn_lease < Duration::from_secs(2) || self.openai_timeout.is_zero() {
            p.push(
                "TURN_LEASE_SECONDS must be at least 2 and OPENAI_TIMEOUT_SECONDS positive".into(),
            );
        }
        if self.openai_first_byte_timeout.is_zero() || self.openai_idle_timeout.is_zero() {
            p.push(
                "OPENAI_FIRST_BYTE_TIMEOUT_SECONDS and OPENAI_IDLE_TIMEOUT_SECONDS must be positive"
                    .into(),
            );
        }
        if let Some(url) = &self.openai_base_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            p.push("OPENAI_BASE_URL must be an http(s) URL".into());
        }
        if !self
            .rabbitmq_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            p.push("RABBITMQ_PREFIX may use letters, digits, '-', '_' and '.' only".into());
        }
        if self.health_check_interval.is_zero() {
            p.push("HEALTH_CHECK_INTERVAL_SECONDS must be positive".into());
        }
        if let Some(url) = &self.auth_jwks_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            p.push("AUTH_JWKS_URL must be an http(s) URL".into());
        }
        let db = self.database_url.expose();
        if !(db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            p.push("DATABASE_URL must be a postgres:// URL".into());
        }

        if let Some(url) = &self.better_auth_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            p.push("BETTER_AUTH_URL must be an http(s) URL, as Better Auth's own".into());
        }
        if self.metrics_port == Some(self.api_port) {
            p.push("METRICS_PORT must differ from API_PORT (unset it to serve /metrics on the API port)".into());
        }

        if self.environment == Environment::Production {
            // Keys fetched over plain HTTP, or from wherever a redirect
            // points, could be anyone's.
            if let Some(url) = &self.auth_jwks_url
                && !url.starts_with("https://")
            {
                p.push("AUTH_JWKS_URL must be an https:// URL in production".into());
            }
            if self.debug {
                p.push("DEBUG must be false in production".into());
            }
            if self.allowed_origins == AllowedOrigins::Any && self.cors_allow_credentials {
                p.push(
                    "ALLOWED_ORIGINS=* together with CORS_ALLOW_CREDENTIALS=true lets any site act as the user; list the origins".into(),
                );
            }
            if !requires_tls(db) {
                p.push(
                    "DATABASE_URL must set sslmode=require (or verify-ca / verify-full) in production"
                        .into(),
                );
            }
        }
        p
    }

    /// Secrets too short or known placeholders: refused everywhere except an
    /// explicit ENVIRONMENT=development or test.
    fn weak_secrets(&self) -> Vec<String> {
        [
            ("BETTER_AUTH_SECRET", &self.better_auth_secret),
            ("SECRET_KEY", &self.secret_key),
        ]
        .into_iter()
        .filter_map(|(name, secret)| {
            weak_secret(secret.expose()).map(|why| {
                format!("{name} {why} (weak secrets are allowed only with ENVIRONMENT=development or test)")
            })
        })
        .collect()
    }

    /// True when no model provider is configured: workers use the built-in
    /// offline assistant.
    pub fn offline_assistant(&self) -> bool {
        self.openai_api_key.is_none() && self.openai_base_url.is_none()
    }

    /// The request field the output limit goes in, OPENAI_MAX_TOKENS_FIELD
    /// resolved against OPENAI_BASE_URL.
    pub fn output_limit_field(&self) -> &'static str {
        let openai = || {
            let Some(url) = &self.openai_base_url else {
                return true; // OpenAI itself is the default server
            };
            let host = url
                .split_once("://")
                .map_or(url.as_str(), |(_, rest)| rest)
                .split(['/', ':', '?'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            host == "api.openai.com" || host.ends_with(".openai.azure.com")
        };
        match self.openai_max_tokens_field {
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::Auto if openai() => "max_completion_tokens",
            MaxTokensField::Auto => "max_tokens",
        }
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Upper bound of the connection pool (size + overflow).
    pub fn database_max_connections(&self) -> u32 {
        self.database_pool_size + self.database_max_overflow
    }

    /// `host:port/db` of DATABASE_URL without credentials, for logs.
    pub fn database_display(&self) -> String {
        redact_url(self.database_url.expose())
    }
}

/// Strips the `user:password@` part of a URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn requires_tls(url: &str) -> bool {
    let Some((_, query)) = url.split_once('?') else {
        return false;
    };
    query.split('&').any(|kv| {
        matches!(
            kv.split_once('='),
            Some(("sslmode", "require" | "verify-ca" | "verify-full"))
        )
    })
}

/// Why a secret is unfit for production, if it is.
fn weak_secret(value: &str) -> Option<&'static str> {
    const PLACEHOLDERS: [&str; 12] = [
        "changeme",
        "change-me",
        "change_me",
        "placeholder",
        "your-secret",
        "your_secret",
        "yoursecret",
        "replace-me",
        "replace_me",
        "example",
        "dummy",
        "insecure",
    ];
    let lower = value.to_ascii_lowercase();
    if value.chars().count() < 32 {
        Some("must be at least 32 characters")
    } else if PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || lower.trim_start_matches("secret").is_empty()
        || value.chars().all(|c| value.starts_with(c))
    {
        Some("is a known placeholder; generate one with `openssl rand -base64 48`")
    } else {
        None
    }
}

/// "7d", "36h", "90m", "45s" or a plain number of seconds; positive.
fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim().to_ascii_lowercase();
    let (number, unit) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => v.split_at(i),
        None => (v.as_str(), "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{v}` is not a duration like 7d or 36h"))?;
    let unit_secs = match unit.trim() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("`{v}`: use s, m, h or d")),
    };
    if n == 0 {
        return Err("must be positive".into());
    }
    Ok(Duration::from_secs(n.saturating_mul(unit_secs)))
}

fn parse_origins(v: &str) -> Result<AllowedOrigins, String> {
    let items: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items == ["*"] {
        return Ok(AllowedOrigins::Any);
    }
    if items.is_empty() {
        return Err("list at least one origin, or *".into());
    }
    let mut out = Vec::new();
    for item in items {
        let valid = (item.starts_with("http://") || item.starts_with("https://"))
            && !item.ends_with('/')
            && !item.contains('*')
            && item.is_ascii();
        if !valid {
            return Err(format!(
                "`{item}` is not an origin like https://app.example.com (no path, no trailing slash)"
            ));
        }
        out.push(item.to_string());
    }
    Ok(AllowedOrigins::List(out))
}

/// "a, b,,c" -> [a, b, c]
fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// "10.0.0.0/8, 192.168.1.7, fd00::/8": CIDRs, or single addresses.
fn parse_networks(v: &str) -> Result<Vec<IpNet>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is not an IP address or CIDR like 10.0.0.0/8"))
        })
        .collect()
}

fn parse_methods(v: &str) -> Result<Vec<String>, String> {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
    let mut out = Vec::new();
    for m in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let m = m.to_ascii_uppercase();
        if !KNOWN.contains(&m.as_str()) {
            return Err(format!("unknown HTTP method `{m}`"));
        }
        out.push(m);
    }
    if out.is_empty() {
        return Err("list at least one method".into());
    }
    Ok(out)
}

/// Reads variables, collecting every problem instead of stopping at the first.
struct Reader {
    vars: HashMap<String, String>,
    problems: Vec<String>,
}

impl Reader {
    fn optional(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn string(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_string())
    }

    fn parse<T>(
        &mut self,
        name: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        match self.optional(name) {
            None => default,
            Some(raw) => parse(&raw).unwrap_or_else(|why| {
                self.problems.push(format!("{name}: {why}"));
                default
            }),
        }
    }

    fn bool(&mut self, name: &str, default: bool) -> bool {
        self.parse(name, default, |v| match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err("expected true or false".into()),
        })
    }

    fn number<T: std::str::FromStr>(&mut self, name: &str, default: T) -> T {
        self.parse(name, default, |v| {
            v.parse()
                .map_err(|_| format!("`{v}` is not a valid number"))
        })
    }

    /// A required secret in staging and production; in development and test
    /// a random one is made per process when unset (tokens then die with the
    /// process, which is fine locally).
    fn secret(&mut self, name: &str, required: bool) -> Secret {
        match self.optional(name) {
            Some(v) => Secret::new(v),
            None => {
                if required {
                    self.problems
                        .push(format!("{name} is required outside development and test"));
                }
                Secret::new(format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const STRONG: &str = "k7Qp2vX9mZr4Tn8LwB3yHc6Jd1Fs5Ga0Ue";

    fn production_ok() -> Vec<(&'static str, &'static str)> {
        vec![
            ("ENVIRONMENT", "production"),
            ("BETTER_AUTH_SECRET", STRONG),
            ("SECRET_KEY", "Zx81-aQw93-LkJh72-MnBv45-PoIu67-YtRe"),
            ("DATABASE_URL", "postgres://u:p@db:5432/app?sslmode=require"),
            ("ALLOWED_ORIGINS", "https://app.example.com"),
        ]
    }

    #[test]
    fn starts_with_no_variables_outside_production() {
        let c = Config::from_vars(HashMap::new()).expect("defaults are valid");
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(c.api_port, 8000);
        assert!(c.run_migrations);
        assert!(c.better_auth_secret.expose().len() >= 32);
        assert_eq!(c.database_max_connections(), 20);
    }

    #[test]
    fn production_with_strong_settings_is_accepted() {
        let c = Config::from_vars(vars(&production_ok())).expect("valid production config");
        assert!(!c.run_migrations, "production migrates only when asked");
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn production_lists_every_problem_at_once() {
        let err = Config::from_vars(vars(&[
            ("ENVIRONMENT", "production"),
            ("BETTER_AUTH_SECRET", "short"),
            ("SECRET_KEY", "changeme-changeme-changeme-changeme-changeme"),
            ("DEBUG", "true"),
            ("ALLOWED_ORIGINS", "*"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
            ("DATABASE_URL", "postgres://u:p@db/app"),
            ("API_PORT", "eighty"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "BETTER_AUTH_SECRET must be at least 32",
            "SECRET_KEY is a known placeholder",
            "DEBUG must be false",
            "ALLOWED_ORIGINS=*",
            "sslmode=require",
            "API_PORT",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
        assert_eq!(err.problems.len(), 6, "{text}");
        assert!(!text.contains("u:p@"), "no credentials in errors");
    }

    #[test]
    fn production_requires_secrets_to_be_set() {
        let mut v = vars(&production_ok());
        v.remove("SECRET_KEY");
        let err = Config::from_vars(v).unwrap_err();
        assert_eq!(
            err.problems,
            vec!["SECRET_KEY is required outside development and test"]
        );
    }

    #[test]
    fn repeated_character_secrets_are_placeholders() {
        assert!(weak_secret(&"a".repeat(40)).is_some());
        assert!(weak_secret(&"secret".repeat(8)).is_some());
        assert!(weak_secret(STRONG).is_none());
    }

    #[test]
    fn secrets_never_print() {
        let c = Config::from_vars(vars(&production_ok())).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains(STRONG));
        assert!(!shown.contains("u:p@"));
        assert_eq!(
            c.database_display(),
            "postgres://db:5432/app?sslmode=require"
        );
    }

    #[test]
    fn checklist_values_parse() {
        let c = Config::from_vars(vars(&[
            ("LOG_LEVEL", "WARNING"),
            ("LOG_FORMAT", "json"),
            ("DEBUG", "False"),
            ("CORS_ALLOW_METHODS", "GET,POST,PUT,DELETE,OPTIONS"),
            (
                "ALLOWED_ORIGINS",
                "https://app.example.com, https://staging.example.com",
            ),
            ("DATABASE_POOL_SIZE", "20"),
            ("DATABASE_MAX_OVERFLOW", "40"),
            ("JWT_ALGORITHM", "HS256"),
        ]))
        .unwrap();
        assert_eq!(c.log_level, "warn");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.database_max_connections(), 60);
        assert_eq!(
            c.allowed_origins,
            AllowedOrigins::List(vec![
                "https://app.example.com".into(),
                "https://staging.example.com".into()
            ])
        );
        assert_eq!(c.cors_allow_methods.len(), 5);
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("36h").unwrap(), Duration::from_secs(129_600));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3w").is_err());
    }

    #[test]
    fn trusted_proxies_replace_trust_forwarded_for() {
        let c = Config::from_vars(vars(&[(
            "TRUSTED_PROXIES",
            "10.0.0.0/8, 192.168.1.7,fd00::/8",
        )]))
        .unwrap();
        let ips = ["10.1.2.3", "192.168.1.7", "fd00::1"];
        for ip in ips {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            assert!(c.trusted_proxies.iter().any(|n| n.contains(&ip)), "{ip}");
        }
        assert!(
            Config::from_vars(HashMap::new())
                .unwrap()
                .trusted_proxies
                .is_empty()
        );

        let err = Config::from_vars(vars(&[
            ("TRUST_FORWARDED_FOR", "true"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(
            err.to_string()
                .contains("TRUST_FORWARDED_FOR is no longer supported"),
            "{err}"
        );
        assert!(err.to_string().contains("`proxy.internal`"), "{err}");
        // Saying false is harmless and still accepted.
        Config::from_vars(vars(&[("TRUST_FORWARDED_FOR", "false")])).unwrap();
    }

    #[test]
    fn hashing_and_signup_limits_have_sane_defaults() {
        let c = Config::from_vars(HashMap::new()).unwrap();
        assert!(c.password_hash_concurrency >= 1);
        assert_eq!(c.password_hash_wait, Duration::from_secs(1));
        assert_eq!(c.signup_max_per_ip, 20);
        let err = Config::from_vars(vars(&[
            ("PASSWORD_HASH_CONCURRENCY", "0"),
            ("SIGNUP_MAX_PER_IP", "0"),
            ("PASSWORD_HASH_WAIT_MS", "60000"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = Config::from_vars(vars(&[
            ("JWT_ALGORITHM", "none"),
            ("ALLOWED_ORIGINS", "app.example.com/"),
            ("CORS_ALLOW_METHODS", "GET,FETCH"),
            ("METRICS_ENABLED", "maybe"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
    }

    /// Weak, placeholder and missing secrets outside an explicit
    /// development/test environment (issue 10, attack 11).
    fn secret_problems(pairs: &[(&str, &str)]) -> Vec<String> {
        match Config::from_vars(vars(pairs)) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems,
        }
    }

    #[test]
    fn staging_refuses_weak_and_missing_secrets() {
        let weak = secret_problems(&[
            ("ENVIRONMENT", "staging"),
            ("BETTER_AUTH_SECRET", "compose-local-secret"),
            ("SECRET_KEY", "changeme-changeme-changeme-changeme-changeme"),
        ]);
        assert_eq!(weak.len(), 2, "{weak:?}");
        assert!(weak[0].starts_with("BETTER_AUTH_SECRET must be at least 32"));
        assert!(weak[1].starts_with("SECRET_KEY is a known placeholder"));

        let missing = secret_problems(&[("ENVIRONMENT", "staging")]);
        assert_eq!(
            missing,
            vec![
                "BETTER_AUTH_SECRET is required outside development and test",
                "SECRET_KEY is required outside development and test",
            ]
        );
    }

    #[test]
    fn weak_secrets_need_an_explicit_development_or_test_environment() {
        let weak = [
            ("BETTER_AUTH_SECRET", "short"),
            ("SECRET_KEY", &*"x".repeat(40)),
        ];
        // ENVIRONMENT unset: a deployment that forgot it is held to the rules.
        assert_eq!(secret_problems(&weak).len(), 2);
        for env in ["development", "dev", "test"] {
            let mut pairs = weak.to_vec();
            pairs.push(("ENVIRONMENT", env));
            assert_eq!(secret_problems(&pairs), Vec::<String>::new(), "{env}");
        }
        // Unset secrets stay random per process locally: no variables at all is fine.
        assert!(secret_problems(&[]).is_empty());
        assert!(secret_problems(&[("ENVIRONMENT", "test")]).is_empty());
    }

    #[test]
    fn production_fetches_the_jwks_over_https_only() {
        let with = |url: &str| {
            let mut v = production_ok();
            v.push(("AUTH_JWKS_URL", url));
            secret_problems(&v)
        };
        assert_eq!(
            with("http://auth.example.com/api/auth/jwks"),
            vec!["AUTH_JWKS_URL must be an https:// URL in production"]
        );
        assert!(with("https://auth.example.com/api/auth/jwks").is_empty());
        // Locally a plain-http key server (or a test's) is fine.
        let local = Config::from_vars(vars(&[("AUTH_JWKS_URL", "http://127.0.0.1:3000/jwks")]));
        assert!(local.is_ok());
    }

    #[test]
    fn metrics_port_and_better_auth_url_are_read() {
        let c = Config::from_vars(vars(&[
            ("METRICS_PORT", "9464"),
            ("BETTER_AUTH_URL", "https://auth.example.com"),
        ]))
        .unwrap();
        assert_eq!(c.metrics_port, Some(9464));
        assert_eq!(
            c.better_auth_url.as_deref(),
            Some("https://auth.example.com")
        );
        let c = Config::from_vars(HashMap::new()).unwrap();
        assert_eq!((c.metrics_port, c.better_auth_url), (None, None));

        let err = Config::from_vars(vars(&[
            ("METRICS_PORT", "0"),
            ("BETTER_AUTH_URL", "auth.example.com"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        let err = Config::from_vars(vars(&[("METRICS_PORT", "8000")])).unwrap_err();
        assert!(err.problems[0].contains("METRICS_PORT must differ from API_PORT"));
    }

    #[test]
    fn model_output_limit_and_timeouts() {
        let c = Config::from_vars(HashMap::new()).unwrap();
        assert_eq!(c.openai_max_output_tokens, 1024);
        assert_eq!(
            (
                c.openai_timeout,
                c.openai_first_byte_timeout,
                c.openai_idle_timeout
            ),
            (
                Duration::from_secs(300),
                Duration::from_secs(60),
                Duration::from_secs(30)
            )
        );
        // OpenAI (the default server) and Azure get max_completion_tokens;
        // every other server max_tokens, unless told otherwise.
        assert_eq!(c.output_limit_field(), "max_completion_tokens");
        for (url, field) in [
            ("https://api.openai.com/v1", "max_completion_tokens"),
            (
                "https://me.openai.azure.com/openai/v1",
                "max_completion_tokens",
            ),
            ("http://localhost:11434/v1", "max_tokens"),
            ("http://api.openai.com.example.net/v1", "max_tokens"),
        ] {
            let c = Config::from_vars(vars(&[("OPENAI_BASE_URL", url)])).unwrap();
            assert_eq!(c.output_limit_field(), field, "{url}");
        }
        let c = Config::from_vars(vars(&[
            ("OPENAI_BASE_URL", "http://localhost:8080/v1"),
            ("OPENAI_MAX_TOKENS_FIELD", "max_completion_tokens"),
            ("OPENAI_TIMEOUT_SECONDS", "60"),
        ]))
        .unwrap();
        assert_eq!(c.output_limit_field(), "max_completion_tokens");
        assert_eq!(c.openai_timeout, Duration::from_secs(60), "still the total");

        let err = Config::from_vars(vars(&[
            ("OPENAI_MAX_OUTPUT_TOKENS", "0"),
            ("OPENAI_IDLE_TIMEOUT_SECONDS", "0"),
            ("OPENAI_MAX_TOKENS_FIELD", "n_predict"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
    }
}
