//! Start-up behaviour of the real binary: configuration checks and error reporting.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;

use crate::helpers::todo_api;

#[test]
fn production_refuses_to_start_and_lists_every_problem() {
    let out = todo_api(
        &["serve"],
        &[
            ("ENVIRONMENT", "production"),
            ("DEBUG", "true"),
            ("BETTER_AUTH_SECRET", "too-short"),
            ("SECRET_KEY", "changeme-changeme-changeme-changeme-42"),
            ("ALLOWED_ORIGINS", "*"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
            (
                "DATABASE_URL",
                "postgres://app:hunter2-db-password@db.internal/app",
            ),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "BETTER_AUTH_SECRET",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_ORIGINS",
        "sslmode=require",
    ] {
        assert!(stderr.contains(needle), "missing {needle} in:\n{stderr}");
    }
    for secret in ["too-short", "hunter2-db-password", "changeme-changeme"] {
        assert!(
            !stderr.contains(secret),
            "secret {secret} printed:\n{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_reported_to_sentry_without_secrets() {
    // A stand-in Sentry ingestion endpoint on localhost that keeps what it gets.
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let store = received.clone();
    let app = Router::new().route(
        "/api/{project}/envelope/",
        post(move |body: Bytes| {
            let store = store.clone();
            async move {
                store
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dsn = format!("http://publickey@{}/42", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A role the server does not know: start-up fails (waiting would not
    // help), and the error is reported.
    let out = tokio::task::spawn_blocking(move || {
        todo_api(
            &["serve"],
            &[
                ("SENTRY_DSN", dsn.as_str()),
                (
                    "DATABASE_URL",
                    "postgres://no_such_app:hunter2-db-password@127.0.0.1:5432/app",
                ),
            ],
        )
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let envelopes = received.lock().unwrap().join("\n");
    assert!(
        envelopes.contains("todo-api stopped with an error"),
        "{envelopes}"
    );
    assert!(
        envelopes.contains("\"environment\":\"development\""),
        "{envelopes}"
    );
    assert!(
        envelopes.contains("role \\\"no_such_app\\\" does not exist"),
        "the cause, not just `database error`: {envelopes}"
    );
    assert!(!envelopes.contains("hunter2"), "no secrets in reports");
}

#[test]
fn the_command_line_explains_itself() {
    let help = todo_api(&["--help"], &[]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "migrate",
        "  API_PORT [8000]",
        "  ALLOWED_ORIGINS [",
        "  RUN_MIGRATIONS [",
    ] {
        assert!(text.contains(needle), "--help shows `{needle}`:\n{text}");
    }
    assert!(!text.contains("OPENAI_API_KEY"), "only what the API reads");
    let version = todo_api(&["--version"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("todo-api {}", env!("CARGO_PKG_VERSION"))
    );
    for wrong in [
        &["--port", "80"][..],
        &["migrate", "sideways"],
        &["migrate", "down", "--to", "x"],
    ] {
        let out = todo_api(wrong, &[]);
        assert_eq!(out.status.code(), Some(2), "{wrong:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}

/// The operator's commands, through the binary as a container or a deploy
/// script runs them (their checks are tested item by item in tests/ops).
#[tokio::test(flavor = "multi_thread")]
async fn the_operators_commands_run_from_the_binary() {
    // Without the web app: this build may lack web/dist (tests/web covers it).
    let app = testkit::TestApp::spawn_with(&[("WEB_ENABLED", "false")]).await;
    let worker = app.spawn_worker(None, &[]).await;
    let run = |args: Vec<String>, env: Vec<(&'static str, String)>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            todo_api(&args, &env)
        })
    };
    let health = format!("{}/health", app.base);
    let out = run(vec!["healthcheck".into(), "--url".into(), health], vec![])
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // Without --url it checks API_PORT on this machine: nothing listens there.
    let port = testkit::free_port().to_string();
    let out = run(vec!["healthcheck".into()], vec![("API_PORT", port.clone())])
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");

    // Smoke against the running app: every item passes, as JSON.
    let out = run(
        [
            "smoke",
            "--url",
            &app.base,
            "--origin",
            "https://app.example.com",
            "--json",
        ]
        .map(String::from)
        .to_vec(),
        vec![],
    )
    .await
    .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], true, "{report:#}");
    assert!(out.status.success());

    // Preflight refuses a production environment with a weak secret, even
    // though the configuration cannot be read: it reports instead of exiting 2.
    let out = run(
        vec!["preflight".into()],
        vec![
            ("ENVIRONMENT", "production".into()),
            ("SECRET_KEY", "changeme".into()),
            ("DATABASE_URL", app.config.database.url.expose().to_string()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "FAIL  config                  SECRET_KEY",
        "fix: set SECRET_KEY to a random value",
        "PASS  database.reachable",
    ] {
        assert!(text.contains(needle), "`{needle}` in:\n{text}");
    }
    assert!(!text.contains("changeme"), "no secret echoed:\n{text}");
    worker.stop().await;
}
