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

    // Nothing listens on port 1: start-up fails, and the error is reported.
    let out = tokio::task::spawn_blocking(move || {
        todo_api(
            &["serve"],
            &[
                ("SENTRY_DSN", dsn.as_str()),
                (
                    "DATABASE_URL",
                    "postgres://app:hunter2-db-password@127.0.0.1:1/app",
                ),
                ("DATABASE_CONNECT_TIMEOUT_SECONDS", "1"),
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
    assert!(!envelopes.contains("hunter2"), "no secrets in reports");
}
