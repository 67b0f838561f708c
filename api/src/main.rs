//! `todo-api`: serve the HTTP API (and MCP), manage the database's
//! migrations, and the operator's commands around a deploy.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use todo_api::ops::{self, preflight, smoke};
use todo_common::config::{self, ApiConfig};
use todo_common::error::ErrorChain;
use todo_common::startup::{self, Schema};
use todo_common::{db, shutdown};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// jemalloc, not glibc's malloc (issue 23). glibc served each 19 MiB argon2
/// buffer from its heap once its dynamic mmap threshold had risen past 19
/// MiB, and kept most of it there after the hash: 400 sign-ups left the API
/// at 300-600 MiB. jemalloc gives such blocks back when they are freed,
/// with no environment variable to forget (docs/benchmarks.md, "Memory").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Todo Chat's HTTP API (and web app): accounts, tasks, chat, live events.
#[derive(Parser)]
#[command(name = "todo-api", version, after_help = "Run with --help for the environment variables.", after_long_help = config::docs::help::<ApiConfig>())]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default), and MCP when MCP_ENABLED.
    Serve,
    /// Serve only the MCP server, on MCP_SERVER_HOST:MCP_SERVER_PORT.
    Mcp,
    /// Apply, revert or list the database's migrations.
    Migrate {
        #[command(subcommand)]
        action: Migrate,
    },
    /// Check a deployment's configuration and services before it starts:
    /// one line per item (pass / warn / fail, why, the fix); exit 1 on a failure.
    Preflight {
        /// API replicas that will run (for the connection budget).
        #[arg(long, value_name = "N", default_value_t = 2)]
        api_replicas: u32,
        /// Worker processes that will run (for the connection budget).
        #[arg(long, value_name = "N", default_value_t = 2)]
        worker_replicas: u32,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the post-deployment smoke tests against a deployed instance;
    /// exit 1 on a failure. What it creates is deleted at the end.
    Smoke {
        /// The deployment's base URL, e.g. https://todo.example.com.
        #[arg(long)]
        url: String,
        /// A browser origin the deployment allows, to check its CORS answer.
        #[arg(long)]
        origin: Option<String>,
        /// Log in as this account instead of signing up a throwaway one.
        #[arg(long, requires = "password")]
        email: Option<String>,
        /// Its password (better given in SMOKE_PASSWORD than on the command line).
        #[arg(
            long,
            requires = "email",
            env = "SMOKE_PASSWORD",
            hide_env_values = true
        )]
        password: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 when the API (or the URL given) answers healthy, else 1: the
    /// container healthcheck, so the image needs no curl.
    Healthcheck {
        /// Default: http://127.0.0.1:API_PORT/health.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum Migrate {
    /// Apply pending migrations (all, or up to and including --to).
    Up {
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
    },
    /// Revert the newest migration, or every one newer than --to (0: all).
    Down {
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
    },
    /// List the migrations: applied, pending, or unknown to this binary.
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // These report on a configuration rather than run with one: they must
    // work when it is wrong.
    match cli.command {
        Some(Command::Preflight {
            api_replicas,
            worker_replicas,
            json,
        }) => {
            let options = preflight::Options {
                api_replicas,
                worker_replicas,
                ..Default::default()
            };
            let report = preflight::preflight(preflight::env_vars(), &options).await;
            return print_report(&report, json);
        }
        Some(Command::Smoke {
            url,
            origin,
            email,
            password,
            json,
        }) => {
            let mut options = smoke::Options::new(url);
            options.origin = origin;
            options.credentials = email.zip(password);
            return print_report(&smoke::smoke(&options).await, json);
        }
        Some(Command::Healthcheck { url }) => return healthcheck(url).await,
        _ => {}
    }
    let (config, _telemetry) = match todo_common::init_process::<ApiConfig>() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Mcp => serve_mcp(config).await,
        Command::Migrate { action } => migrate(&config, action).await,
        Command::Preflight { .. } | Command::Smoke { .. } | Command::Healthcheck { .. } => {
            unreachable!("handled before the configuration is read")
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let e = e.chain();
            tracing::error!(error = %e, "todo-api stopped with an error");
            eprintln!("todo-api: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn serve(config: ApiConfig) -> AnyResult {
    tracing::info!(
        environment = config.general.environment.as_str(),
        database = %config.database.display(),
        version = todo_common::VERSION,
        "starting todo-api"
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(shutdown::cancel_on_signal(shutdown.clone()));
    let Some(pool) = database(&config, &shutdown).await? else {
        return Ok(());
    };
    let (host, port) = (config.http.host.as_str(), config.http.port);
    let listener = TcpListener::bind((host, port)).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {host}:{port} (API_HOST, API_PORT): {e}"),
        )
    })?;
    todo_api::run(config, pool, listener, shutdown).await?;
    tracing::info!("todo-api stopped");
    Ok(())
}

/// The database as `serve` and `mcp` wait for it; None when stopped meanwhile.
async fn database(
    config: &ApiConfig,
    shutdown: &CancellationToken,
) -> Result<Option<sqlx::PgPool>, startup::StartError> {
    let schema = if config.database.run_migrations {
        Schema::Migrate
    } else {
        Schema::WaitForMigrations
    };
    match startup::database(&config.database, schema, shutdown).await {
        Ok(pool) => Ok(Some(pool)),
        Err(startup::StartError::Stopped(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn serve_mcp(config: ApiConfig) -> AnyResult {
    tracing::info!(version = todo_common::VERSION, "starting todo-api mcp");
    let shutdown = CancellationToken::new();
    tokio::spawn(shutdown::cancel_on_signal(shutdown.clone()));
    let Some(pool) = database(&config, &shutdown).await? else {
        return Ok(());
    };
    let listener = todo_api::mcp::bind(&config.mcp).await?;
    todo_api::startup::run_mcp(config, pool, listener, shutdown).await?;
    tracing::info!("todo-api mcp stopped");
    Ok(())
}

fn print_report(report: &ops::Report, json: bool) -> ExitCode {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    report.exit_code()
}

async fn healthcheck(url: Option<String>) -> ExitCode {
    let url = match url {
        Some(url) => url,
        None => match ApiConfig::from_env() {
            Ok(config) => ops::healthcheck::default_url(&config.http),
            Err(e) => {
                eprintln!("todo-api healthcheck: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match ops::healthcheck::healthcheck(&url, ops::healthcheck::TIMEOUT).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("todo-api healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &ApiConfig, action: Migrate) -> AnyResult {
    let pool = db::connect(&config.database).await?;
    match action {
        Migrate::Up { to } => {
            let applied = db::migrate_up(&pool, to).await?;
            if applied.is_empty() {
                println!("nothing to apply");
            }
            for version in applied {
                println!("applied migration {version}");
            }
        }
        Migrate::Down { to } => {
            let reverted = db::migrate_down(&pool, to).await?;
            if reverted.is_empty() {
                println!("nothing to revert");
            }
            for version in reverted {
                println!("reverted migration {version}");
            }
        }
        Migrate::Status => {
            for m in db::migrate_status(&pool).await? {
                println!(
                    "{:>16}  {:<8}  {}",
                    m.version,
                    m.state.as_str(),
                    m.description
                );
            }
        }
    }
    Ok(())
}
