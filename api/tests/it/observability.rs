//! Request ids and Prometheus metrics.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/health", None)
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
    let res = app.call(Method::GET, "/health", None).await;
    let made = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");
    // An id that could forge log lines is replaced, not echoed.
    let res = app
        .request(Method::GET, "/health", None)
        .header("x-request-id", "evil\"} {\"level\":\"error")
        .send()
        .await
        .unwrap();
    assert!(uuid::Uuid::parse_str(res.headers()["x-request-id"].to_str().unwrap()).is_ok());
}

#[tokio::test]
async fn metrics_use_route_templates_not_raw_paths() {
    let app = TestApp::spawn().await;
    let user = app.signup("metrics@example.com").await;
    app.list_tasks(&user, "").await;
    app.call(
        Method::GET,
        &format!("/api/{}/tasks/77", user.id),
        Some(&user.token),
    )
    .await;
    let res = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/{user_id}/tasks",status="200"}"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="/api/{user_id}/tasks/{id}",status="404""#));
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    assert!(!text.contains(&user.id), "no raw ids in labels");
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let app = TestApp::spawn_with(&[("METRICS_ENABLED", "false")]).await;
    let res = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shutdown_stops_accepting_and_the_server_returns() {
    let mut app = TestApp::spawn().await;
    assert_eq!(
        app.call(Method::GET, "/health", None).await.status(),
        StatusCode::OK
    );
    app.shutdown.cancel();
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), &mut app.server)
        .await
        .expect("server stops within 10 s")
        .expect("server task did not panic");
    assert!(result.is_ok(), "{result:?}");
    let after = reqwest::Client::new()
        .get(format!("{}/health", app.base))
        .send()
        .await;
    assert!(after.is_err(), "no longer accepting connections");
}
