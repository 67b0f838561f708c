//! `todo-api`: serve the HTTP API, or manage migrations.
//!
//! Usage: `todo-api [serve]` | `todo-api migrate [up|down|status]`

use std::process::ExitCode;

use todo_common::{Config, db, shutdown};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, _telemetry) = match todo_common::init_process("todo-api") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        [] | ["serve"] => serve(config).await,
        ["migrate"] | ["migrate", "up"] => migrate(config, "up").await,
        ["migrate", "down"] => migrate(config, "down").await,
        ["migrate", "status"] => migrate(config, "status").await,
        ["-h" | "--help" | "help"] => {
            println!("usage: todo-api [serve] | todo-api migrate [up|down|status]");
            Ok(())
        }
        _ => {
            eprintln!("usage: todo-api [serve] | todo-api migrate [up|down|status]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "todo-api stopped with an error");
            eprintln!("todo-api: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn serve(config: Config) -> AnyResult {
    tracing::info!(
        environment = config.environment.as_str(),
        database = %config.database_display(),
        version = todo_common::VERSION,
        "starting todo-api"
    );
    let pool = db::connect(&config).await?;
    if config.run_migrations {
        db::migrate_up(&pool).await?;
        tracing::info!("migrations applied");
    }
    let listener = TcpListener::bind((config.api_host.as_str(), config.api_port)).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(shutdown::cancel_on_signal(shutdown.clone()));
    todo_api::run(config, pool, listener, shutdown).await?;
    tracing::info!("todo-api stopped");
    Ok(())
}

async fn migrate(config: Config, action: &str) -> AnyResult {
    let pool = db::connect(&config).await?;
    match action {
        "up" => {
            db::migrate_up(&pool).await?;
            println!("migrations applied");
        }
        "down" => match db::migrate_down_one(&pool).await? {
            Some(version) => println!("reverted migration {version}"),
            None => println!("nothing to revert"),
        },
        _ => {
            for m in db::migrate_status(&pool).await? {
                let state = if m.applied { "applied" } else { "pending" };
                println!("{:>16}  {:<8}  {}", m.version, state, m.description);
            }
        }
    }
    Ok(())
}
