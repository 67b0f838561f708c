//! METRICS_PORT: /metrics on an internal listener, not on the API port.

use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, expect_error};

#[tokio::test]
async fn with_metrics_port_metrics_leave_the_api_port() {
    // The app binds the port itself, as in production.
    let port = testkit::free_port().to_string();
    let app = TestApp::spawn_with(&[("API_HOST", "127.0.0.1"), ("METRICS_PORT", &port)]).await;
    app.call(Method::GET, "/health", None).await;

    let res = app.call(Method::GET, "/metrics", None).await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;

    let res = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("db_pool_connections"), "{text}");
    // Nothing else is served there.
    let res = reqwest::get(format!("http://127.0.0.1:{port}/api/auth/me"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
