//! `todo-api preflight`'s logic: a well-configured environment passes, and
//! each misconfiguration the checklist names fails with its reason and fix,
//! against the real PostgreSQL and RabbitMQ.

use std::collections::HashMap;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use testkit::{TestApp, free_port, fresh_database, start_mock, url_for};
use todo_api::ops::preflight::{Options, preflight};
use todo_api::ops::{Report, Status};

const STRONG: &str = "k7Qp2vX9mZr4Tn8LwB3yHc6Jd1Fs5Ga0Ue-preflight";

/// The variables of a sound staging deployment on this machine's services
/// (production would need TLS to PostgreSQL, which this machine lacks).
fn sound(db_url: &str, prefix: &str) -> HashMap<String, String> {
    [
        ("ENVIRONMENT", "staging"),
        ("BETTER_AUTH_SECRET", STRONG),
        ("SECRET_KEY", "Zx81-aQw93-LkJh72-MnBv45-PoIu67-YtRe"),
        ("DATABASE_URL", db_url),
        ("RABBITMQ_PREFIX", prefix),
        ("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600"),
        ("LOG_FORMAT", "json"),
        ("ALLOWED_ORIGINS", "https://app.example.com"),
        ("METRICS_PORT", "9100"),
        ("MCP_PUBLIC_URL", "https://mcp.example.com/mcp"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn prefix() -> String {
    format!("pf{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

fn status(report: &Report, id: &str) -> Status {
    report
        .get(id)
        .unwrap_or_else(|| panic!("no `{id}` in:\n{}", report.to_text()))
        .status
        .clone()
}

fn failed_reasons(report: &Report, id: &str) -> String {
    report
        .checks
        .iter()
        .filter(|c| c.id == id && c.status == Status::Fail)
        .map(|c| format!("{} / fix: {}", c.reason, c.fix))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A model server and a key server that answer the ways real ones fail.
async fn fake_servers() -> String {
    let app = Router::new()
        .route(
            "/refusing/v1/models",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": {"message": "Incorrect API key provided"}})),
                )
            }),
        )
        .route(
            "/keyed/v1/models",
            get(|headers: HeaderMap| async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer sk-good") {
                    axum::Json(json!({"data": [{"id": "gpt-4o"}, {"id": "gpt-4-turbo"}]})).into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        )
        .route(
            "/jwks/good",
            get(|| async {
                // Ed25519 public key of api/tests/fixtures/ed25519_a.
                let x = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ed25519_a.x"))
                    .unwrap();
                axum::Json(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x.trim(), "kid": "a", "alg": "EdDSA", "use": "sig"}]}))
            }),
        )
        .route("/jwks/empty", get(|| async { axum::Json(json!({"keys": []})) }))
        .route(
            "/jwks/moved",
            get(|| async { (StatusCode::FOUND, [("location", "/jwks/good")]) }),
        )
        .route("/jwks/html", get(|| async { "<html>sign in</html>" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_sound_deployment_passes_with_its_latency_and_pool_budget() {
    let (name, pool) = fresh_database().await;
    let mock = start_mock().await;
    let mut vars = sound(&url_for(&name), &prefix());
    vars.insert("OPENAI_BASE_URL".into(), mock.url.clone());
    vars.insert("OPENAI_API_KEY".into(), "sk-test".into());
    vars.insert("OPENAI_MODEL".into(), "mock-gpt".into());
    let options = Options {
        api_replicas: 1,
        worker_replicas: 1,
        ..Options::default()
    };
    // A local server without its context window: said, with the fix.
    let report = preflight(vars.clone(), &options).await;
    let context = report.get("model.context").expect("checked");
    assert_eq!(context.status, Status::Warn, "{}", report.to_text());
    assert!(context.fix.contains("OPENAI_CONTEXT_TOKENS"));

    vars.insert("OPENAI_CONTEXT_TOKENS".into(), "8192".into());
    let report = preflight(vars, &options).await;
    let text = report.to_text();
    assert!(report.passed(), "{text}");
    for id in [
        "config",
        "secrets",
        "debug",
        "log_format",
        "cors",
        "metrics",
        "mcp.public_url",
        "database.reachable",
        "database.migrations",
        "database.pool",
        "rabbitmq.reachable",
        "rabbitmq.topology",
        "model",
        "model.context",
    ] {
        assert_eq!(status(&report, id), Status::Pass, "{id}:\n{text}");
    }
    // Staging is fine but said; plain PostgreSQL without TLS is a warning outside production.
    assert_eq!(status(&report, "environment"), Status::Warn);
    assert_eq!(status(&report, "database.tls"), Status::Warn);
    assert!(
        report
            .get("database.reachable")
            .unwrap()
            .reason
            .contains(" ms"),
        "{text}"
    );
    assert!(text.contains("1 API + 1 worker replicas x 20"), "{text}");
    let json = report.to_json();
    assert_eq!(json["passed"], true);
    assert!(json["checks"].as_array().unwrap().len() >= 12);
    pool.close().await;
}

#[tokio::test]
async fn a_misconfigured_production_lists_every_problem_with_its_fix() {
    let (name, pool) = fresh_database().await;
    let vars: HashMap<String, String> = [
        ("ENVIRONMENT", "production"),
        ("BETTER_AUTH_SECRET", "changeme"),
        ("DEBUG", "true"),
        ("LOG_LEVEL", "debug"),
        ("LOG_FORMAT", "text"),
        ("ALLOWED_ORIGINS", "http://app.example.com"),
        ("API_PORT", "eighty"),
        ("DATABASE_URL", &url_for(&name)),
        ("RABBITMQ_PREFIX", &prefix()),
        ("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let report = preflight(vars, &Options::default()).await;
    let text = report.to_text();
    println!("{text}");
    assert!(!report.passed());
    let config = failed_reasons(&report, "config");
    for needle in [
        "BETTER_AUTH_SECRET must be at least 32",
        "SECRET_KEY is required",
        "DEBUG must be false",
        "sslmode=require",
        "API_PORT",
        "openssl rand -base64 48",
        "set DEBUG=false",
        "append ?sslmode=require",
    ] {
        assert!(config.contains(needle), "missing `{needle}` in:\n{text}");
    }
    // Said once: the configuration's own problems are not repeated below.
    assert!(report.get("debug").is_none(), "{text}");
    assert_eq!(status(&report, "log_format"), Status::Fail);
    assert_eq!(status(&report, "log_level"), Status::Warn);
    assert_eq!(status(&report, "cors"), Status::Fail);
    assert!(failed_reasons(&report, "cors").contains("http://app.example.com"));
    // The connections were still checked with what could be read.
    assert_eq!(
        status(&report, "database.reachable"),
        Status::Pass,
        "{text}"
    );
    assert_eq!(
        status(&report, "rabbitmq.reachable"),
        Status::Pass,
        "{text}"
    );
    // No model configured: the offline assistant, said as a warning.
    assert_eq!(status(&report, "model"), Status::Warn);
    for check in report.checks.iter().filter(|c| c.status != Status::Pass) {
        assert!(!check.fix.is_empty(), "{} has no fix:\n{text}", check.id);
    }
    assert!(!text.contains("changeme"), "secrets are never printed");
    pool.close().await;
}

#[tokio::test]
async fn production_without_metrics_port_fails_naming_it() {
    // Unset, /metrics is on the public API port (issue 19).
    let (name, pool) = fresh_database().await;
    let mut vars = sound(&url_for(&name), &prefix());
    vars.remove("METRICS_PORT");
    vars.insert("ENVIRONMENT".into(), "production".into());
    let report = preflight(vars.clone(), &Options::default()).await;
    let reason = failed_reasons(&report, "metrics");
    assert!(
        reason.contains("METRICS_PORT is unset") && reason.contains("fix: set METRICS_PORT"),
        "{}",
        report.to_text()
    );
    assert!(!report.passed());

    // Outside production it is said, without failing the deploy.
    vars.insert("ENVIRONMENT".into(), "staging".into());
    let report = preflight(vars.clone(), &Options::default()).await;
    assert_eq!(status(&report, "metrics"), Status::Warn);

    // Set, or with /metrics off, there is nothing public to fix.
    vars.insert("ENVIRONMENT".into(), "production".into());
    vars.insert("METRICS_ENABLED".into(), "false".into());
    let report = preflight(vars.clone(), &Options::default()).await;
    assert_eq!(status(&report, "metrics"), Status::Pass);
    vars.remove("METRICS_ENABLED");
    vars.insert("METRICS_PORT".into(), "9100".into());
    let report = preflight(vars, &Options::default()).await;
    assert_eq!(
        status(&report, "metrics"),
        Status::Pass,
        "{}",
        report.to_text()
    );
    pool.close().await;
}

#[tokio::test]
async fn production_mcp_without_an_https_public_url_fails() {
    // The OAuth metadata names this URL; unset, it is http://<Host>/mcp,
    // which clients reaching the server over https refuse (issue 19).
    let (name, pool) = fresh_database().await;
    let mut vars = sound(&url_for(&name), &prefix());
    vars.insert("ENVIRONMENT".into(), "production".into());
    vars.remove("MCP_PUBLIC_URL");
    let report = preflight(vars.clone(), &Options::default()).await;
    let reason = failed_reasons(&report, "mcp.public_url");
    assert!(
        reason.contains("MCP_PUBLIC_URL is unset") && reason.contains("fix: set MCP_PUBLIC_URL"),
        "{}",
        report.to_text()
    );
    assert!(!report.passed());

    vars.insert("MCP_PUBLIC_URL".into(), "http://mcp.example.com/mcp".into());
    let report = preflight(vars.clone(), &Options::default()).await;
    assert!(
        failed_reasons(&report, "mcp.public_url").contains("is not https"),
        "{}",
        report.to_text()
    );

    // Outside production it is said, without failing the deploy.
    vars.insert("ENVIRONMENT".into(), "staging".into());
    let report = preflight(vars.clone(), &Options::default()).await;
    assert_eq!(status(&report, "mcp.public_url"), Status::Warn);

    // https, or no MCP server at all: nothing to fix.
    vars.insert("ENVIRONMENT".into(), "production".into());
    vars.insert(
        "MCP_PUBLIC_URL".into(),
        "https://mcp.example.com/mcp".into(),
    );
    let report = preflight(vars.clone(), &Options::default()).await;
    assert_eq!(
        status(&report, "mcp.public_url"),
        Status::Pass,
        "{}",
        report.to_text()
    );
    vars.remove("MCP_PUBLIC_URL");
    vars.insert("MCP_ENABLED".into(), "false".into());
    let report = preflight(vars, &Options::default()).await;
    assert_eq!(status(&report, "mcp.public_url"), Status::Pass);
    pool.close().await;
}

#[tokio::test]
async fn unreachable_database_and_broker_fail() {
    let mut vars = sound(
        &format!("postgres://postgres@127.0.0.1:{}/todo_chat", free_port()),
        &prefix(),
    );
    vars.insert(
        "RABBITMQ_URL".into(),
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", free_port()),
    );
    let report = preflight(vars, &Options::default()).await;
    assert_eq!(
        status(&report, "database.reachable"),
        Status::Fail,
        "{}",
        report.to_text()
    );
    assert_eq!(status(&report, "rabbitmq.reachable"), Status::Fail);
    assert!(
        report.get("database.migrations").is_none(),
        "nothing more to ask a database that is not there"
    );
    assert!(!report.passed());
}

#[tokio::test]
async fn pending_and_unknown_migrations_fail() {
    // An empty database: every migration pending.
    let name = format!(
        "todo_test_{}_{}",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    let admin = sqlx::PgPool::connect(&url_for("postgres")).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&admin)
        .await
        .unwrap();
    let report = preflight(sound(&url_for(&name), &prefix()), &Options::default()).await;
    let reason = failed_reasons(&report, "database.migrations");
    assert!(
        reason.contains("pending") && reason.contains("todo-api migrate up"),
        "{}",
        report.to_text()
    );

    // A database a newer build migrated: a version this build does not know.
    let (name, pool) = fresh_database().await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000000, 'from the future', true, '\\x00', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let report = preflight(sound(&url_for(&name), &prefix()), &Options::default()).await;
    let reason = failed_reasons(&report, "database.migrations");
    assert!(
        reason.contains("29991231000000") && reason.contains("unknown"),
        "{}",
        report.to_text()
    );
    pool.close().await;
    admin.close().await;
}

#[tokio::test]
async fn pools_larger_than_max_connections_fail() {
    let (name, pool) = fresh_database().await;
    let mut vars = sound(&url_for(&name), &prefix());
    vars.insert("DATABASE_POOL_SIZE".into(), "400".into());
    let options = Options {
        api_replicas: 3,
        worker_replicas: 4,
        ..Options::default()
    };
    let report = preflight(vars, &options).await;
    let reason = failed_reasons(&report, "database.pool");
    assert!(
        reason.contains("3 API + 4 worker replicas") && reason.contains("max_connections"),
        "{}",
        report.to_text()
    );
    pool.close().await;
}

#[tokio::test]
async fn a_topology_rabbitmq_refuses_fails() {
    // Someone declared the turns queue with other arguments: declaring ours
    // is a PRECONDITION_FAILED, as it would be for every service at start.
    let prefix = prefix();
    let url = todo_common::config::DEFAULT_RABBITMQ_URL;
    let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    let mut args = lapin::types::FieldTable::default();
    args.insert("x-expires".into(), lapin::types::AMQPValue::LongInt(60_000));
    ch.queue_declare(
        format!("{prefix}.chat.turns").as_str().into(),
        lapin::options::QueueDeclareOptions::default(),
        args,
    )
    .await
    .unwrap();
    let (name, pool) = fresh_database().await;
    let report = preflight(sound(&url_for(&name), &prefix), &Options::default()).await;
    assert_eq!(status(&report, "rabbitmq.reachable"), Status::Pass);
    let reason = failed_reasons(&report, "rabbitmq.topology");
    assert!(
        reason.contains("PRECONDITION_FAILED"),
        "{}",
        report.to_text()
    );
    let ch = conn.create_channel().await.unwrap();
    let _ = ch
        .queue_delete(
            format!("{prefix}.chat.turns").as_str().into(),
            Default::default(),
        )
        .await;
    let _ = todo_common::queue::Topology::new(&prefix)
        .delete_at(url)
        .await;
    let _ = conn.close(200, "done".into()).await;
    pool.close().await;
}

#[tokio::test]
async fn a_refused_key_a_missing_model_and_an_unreachable_provider_fail() {
    let (name, pool) = fresh_database().await;
    let fake = fake_servers().await;
    let run = |base: String, key: &'static str, model: &'static str| {
        let mut vars = sound(&url_for(&name), &prefix());
        vars.insert("OPENAI_BASE_URL".into(), base);
        vars.insert("OPENAI_API_KEY".into(), key.into());
        vars.insert("OPENAI_MODEL".into(), model.into());
        async move { preflight(vars, &Options::default()).await }
    };
    let report = run(format!("{fake}/refusing/v1"), "sk-bad", "gpt-4-turbo").await;
    assert!(
        failed_reasons(&report, "model").contains("refused the key"),
        "{}",
        report.to_text()
    );
    let report = run(format!("{fake}/keyed/v1"), "sk-bad", "gpt-4-turbo").await;
    assert!(failed_reasons(&report, "model").contains("refused the key"));
    let report = run(format!("{fake}/keyed/v1"), "sk-good", "gpt-5-imaginary").await;
    let reason = failed_reasons(&report, "model");
    assert!(
        reason.contains("does not list OPENAI_MODEL=gpt-5-imaginary") && reason.contains("gpt-4o"),
        "{reason}"
    );
    let report = run(format!("{fake}/keyed/v1"), "sk-good", "gpt-4-turbo").await;
    assert_eq!(
        status(&report, "model"),
        Status::Pass,
        "{}",
        report.to_text()
    );
    let report = run(
        format!("http://127.0.0.1:{}/v1", free_port()),
        "sk-good",
        "gpt-4-turbo",
    )
    .await;
    assert!(failed_reasons(&report, "model").contains("did not answer"));
    pool.close().await;
}

#[tokio::test]
async fn a_jwks_without_usable_keys_or_behind_a_redirect_fails() {
    let (name, pool) = fresh_database().await;
    let fake = fake_servers().await;
    let run = |path: &'static str| {
        let mut vars = sound(&url_for(&name), &prefix());
        vars.insert("AUTH_JWKS_URL".into(), format!("{fake}{path}"));
        async move { preflight(vars, &Options::default()).await }
    };
    let report = run("/jwks/good").await;
    assert_eq!(
        status(&report, "jwks"),
        Status::Pass,
        "{}",
        report.to_text()
    );
    assert!(failed_reasons(&run("/jwks/empty").await, "jwks").contains("none usable"));
    assert!(failed_reasons(&run("/jwks/moved").await, "jwks").contains("302"));
    assert!(failed_reasons(&run("/jwks/html").await, "jwks").contains("not a JSON Web Key Set"));
    // Unset: not checked at all.
    let report = preflight(sound(&url_for(&name), &prefix()), &Options::default()).await;
    assert!(report.get("jwks").is_none());
    pool.close().await;
}

#[tokio::test]
async fn a_running_app_is_not_disturbed_by_a_preflight_on_its_topology() {
    // Declaring the topology is what every process does at start: a
    // preflight next to running services changes nothing for them.
    let app = TestApp::spawn().await;
    let mut vars = sound(app.config.database.url.expose(), &app.config.broker.prefix);
    vars.insert("RABBITMQ_QUEUE_EXPIRES_SECONDS".into(), "600".into());
    let report = preflight(vars, &Options::default()).await;
    assert_eq!(
        status(&report, "rabbitmq.topology"),
        Status::Pass,
        "{}",
        report.to_text()
    );
    let res = app.call(reqwest::Method::GET, "/health", None).await;
    assert_eq!(res.status(), 200);
}
