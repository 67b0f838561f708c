//! `todo-api healthcheck`'s logic: healthy only when the URL answers 200
//! and, for the API's JSON, says healthy with the database connected.

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;
use testkit::TestApp;
use todo_api::ops::healthcheck::{HealthError, TIMEOUT, default_url, healthcheck};

/// A server answering the ways a sick service does.
async fn sick_server() -> String {
    let app = Router::new()
        .route(
            "/down",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"status": "unhealthy", "database_connected": false})),
                )
            }),
        )
        .route(
            "/confused",
            get(|| async { Json(json!({"status": "healthy", "database_connected": false})) }),
        )
        .route("/plain", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_running_api_is_healthy() {
    let app = TestApp::spawn().await;
    let healthy = healthcheck(&format!("{}/health", app.base), TIMEOUT)
        .await
        .expect("the API is healthy");
    assert!(
        healthy.body.contains("\"database_connected\":true"),
        "{}",
        healthy.body
    );
    // The default URL is this process's own API port.
    assert_eq!(
        default_url(&app.config.http),
        format!("http://127.0.0.1:{}/health", app.config.http.port)
    );
}

#[tokio::test]
async fn a_worker_style_plain_ok_is_healthy() {
    let base = sick_server().await;
    healthcheck(&format!("{base}/plain"), TIMEOUT)
        .await
        .unwrap();
}

#[tokio::test]
async fn unhealthy_answers_and_silence_are_failures() {
    let base = sick_server().await;
    let err = healthcheck(&format!("{base}/down"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HealthError::Status { status: 503, .. }),
        "{err}"
    );
    let err = healthcheck(&format!("{base}/confused"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(err, HealthError::Unhealthy { .. }), "{err}");
    let err = healthcheck(&format!("{base}/missing"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HealthError::Status { status: 404, .. }),
        "{err}"
    );

    let port = testkit::free_port();
    let err = healthcheck(&format!("http://127.0.0.1:{port}/health"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(err, HealthError::Unreachable { .. }), "{err}");
}
