//! Starting up (issue 11): a worker started before PostgreSQL is reachable,
//! then before the schema is migrated, waits and says why, then starts by
//! itself; what waiting cannot fix ends the start with a non-zero status and
//! the cause in the log.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use sqlx::postgres::PgPoolOptions;
use testkit::{LoggedProcess, TcpProxy, TestApp, empty_database, start_mock, test_config, url_for};
use todo_common::db;

const WAIT: Duration = Duration::from_secs(30);

fn worker(vars: &[(&str, &str)]) -> LoggedProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_todo-worker"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ENVIRONMENT", "test")
        .env("LOG_LEVEL", "info")
        .env("LOG_FORMAT", "text")
        .env("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600")
        .env("WORKER_METRICS_PORT", "0")
        .current_dir(std::env::temp_dir());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    LoggedProcess::spawn(cmd)
}

#[tokio::test]
async fn a_worker_started_before_its_database_waits_then_answers() {
    let name = empty_database().await;
    let config = test_config(&name, &[]);
    // PostgreSQL "down": the worker's only way to it refuses connections.
    let link = TcpProxy::start("127.0.0.1:5432").await;
    link.set(false);
    let through_link = url_for(&name).replacen("127.0.0.1:5432", &link.addr.to_string(), 1);
    let mock = start_mock().await;
    let worker = worker(&[
        ("DATABASE_URL", &through_link),
        ("RABBITMQ_PREFIX", &config.broker.prefix),
        ("OPENAI_BASE_URL", &mock.url),
        ("OPENAI_API_KEY", "sk-test"),
    ]);
    worker.wait_for_line("waiting for PostgreSQL", WAIT).await;

    // Reachable, but not migrated: it waits for the migrations and says how.
    link.set(true);
    worker
        .wait_for_line("waiting for migrations: run `todo-api migrate up`", WAIT)
        .await;

    // The API migrates (RUN_MIGRATIONS); the worker starts by itself.
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect(&url_for(&name))
        .await
        .unwrap();
    db::migrate_up(&pool, None).await.unwrap();
    let app = TestApp::spawn_on(config, pool).await;
    worker.wait_for_line("worker starting", WAIT).await;

    let user = app.signup("early@example.com").await;
    let (status, body) = app
        .chat(&user, "add water the plants", None, Some(30))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, tasks) = app.list_tasks(&user, "").await;
    assert_eq!(tasks["tasks"][0]["title"], "water the plants", "{tasks}");
}

#[tokio::test]
async fn a_fatal_start_error_exits_non_zero_with_its_cause() {
    // A role that does not exist: waiting would not help.
    let mut worker = worker(&[(
        "DATABASE_URL",
        "postgres://no_such_role@127.0.0.1:5432/postgres",
    )]);
    assert_eq!(worker.exit_code(WAIT).await, Some(1), "{}", worker.output());
    assert!(
        worker
            .output()
            .contains("role \"no_such_role\" does not exist"),
        "the cause is in the log: {}",
        worker.output()
    );
}

#[tokio::test]
async fn bad_configuration_exits_with_status_2_naming_the_variable() {
    let mut worker = worker(&[
        ("WORKER_CONCURRENCY", "0"),
        ("OPENAI_BASE_URL", "localhost"),
    ]);
    assert_eq!(worker.exit_code(WAIT).await, Some(2));
    let output = worker.output();
    assert!(output.contains("WORKER_CONCURRENCY"), "{output}");
    assert!(output.contains("OPENAI_BASE_URL"), "{output}");
}

#[tokio::test]
async fn the_command_line_explains_itself() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_todo-worker"))
            .args(args)
            .env_clear()
            .output()
            .expect("run todo-worker")
    };
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for line in [
        "  WORKER_CONCURRENCY [",
        "  OPENAI_API_KEY [unset]",
        "  DATABASE_URL [",
    ] {
        assert!(text.contains(line), "--help lists `{line}`:\n{text}");
    }
    assert!(
        !text.contains("ALLOWED_ORIGINS"),
        "only what the worker reads"
    );

    let version = run(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("todo-worker {}", env!("CARGO_PKG_VERSION"))
    );

    let unknown = run(&["--concurrency", "4"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unexpected argument"));
}
