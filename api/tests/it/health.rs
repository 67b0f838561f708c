//! GET /health, including PostgreSQL going away and coming back.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::{TcpProxy, TestApp, fresh_database, test_config};

#[tokio::test]
async fn healthy_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.call(Method::GET, "/health", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["database_connected"], true);
    assert!(body["database_latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

/// /health answers from the background probe (a reading at most a second
/// old), so a load balancer's checks cost the database nothing each;
/// `?deep=true` asks it now.
#[tokio::test]
async fn health_reports_the_probe_and_deep_asks_the_database_now() {
    let app = TestApp::spawn().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (status, body) = health(&app).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The first calls may come before the probe's first answer.
        if body["database_checked_ms_ago"].as_f64().unwrap() > 0.0 {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "never answered from the probe: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        body["database_checked_ms_ago"].as_f64().unwrap() <= 1000.0,
        "{body}"
    );
    assert_eq!(body["database_connected"], true);

    let res = app.call(Method::GET, "/health?deep=true", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let deep: Value = res.json().await.unwrap();
    assert_eq!(deep["database_checked_ms_ago"], 0.0);
    assert!(deep["database_latency_ms"].as_f64().unwrap() >= 0.0);

    let res = app.call(Method::GET, "/health?deep=maybe", None).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn health(app: &TestApp) -> (StatusCode, Value) {
    let res = app.call(Method::GET, "/health", None).await;
    (res.status(), res.json().await.unwrap())
}

/// Polls /health until it answers `want`, with a deadline.
async fn wait_for(app: &TestApp, want: StatusCode) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = health(app).await;
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "/health stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn unhealthy_while_the_database_is_down_and_back_by_itself() {
    let (db_name, _direct) = fresh_database().await;
    let outage = TcpProxy::start("127.0.0.1:5432").await;
    let url = format!("postgres://postgres@{}/{db_name}", outage.addr);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(1))
        .connect(&url)
        .await
        .unwrap();
    let app = TestApp::spawn_on(test_config(&db_name, &[]), pool).await;
    assert_eq!(health(&app).await.0, StatusCode::OK);

    outage.set(false);
    let body = wait_for(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["database_connected"], false);
    assert_eq!(body["database_latency_ms"], Value::Null);
    assert!(
        !body.to_string().contains("5432"),
        "no connection details leak: {body}"
    );
    // Asked now, the database does not answer either.
    let res = app.call(Method::GET, "/health?deep=true", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Requests that need the database fail cleanly, not with a 500.
    let res = app
        .send_json(
            Method::POST,
            "/api/auth/login",
            None,
            &serde_json::json!({"email": "a@example.com", "password": "whatever1"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));

    outage.set(true);
    let body = wait_for(&app, StatusCode::OK).await;
    assert_eq!(body["database_connected"], true);
}

/// Issue 19, item 10: a background loop that hangs (here the outbox relay,
/// its query blocked by a lock) takes the instance out of rotation until it
/// runs again; it used to go unnoticed while chat hand-offs piled up.
#[tokio::test]
async fn a_stalled_background_loop_makes_the_instance_unhealthy_until_it_runs_again() {
    let app = TestApp::spawn_with(&[("BACKGROUND_STALL_SECONDS", "1")]).await;
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stalled_loops"], serde_json::json!([]));

    // The relay's next pass waits on the outbox table as long as this holds it.
    let mut lock = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let body = wait_for(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["stalled_loops"], serde_json::json!(["outbox_relay"]));
    assert_eq!(
        body["database_connected"], true,
        "the database itself answers"
    );

    lock.commit().await.unwrap();
    let body = wait_for(&app, StatusCode::OK).await;
    assert_eq!(body["stalled_loops"], serde_json::json!([]));
}

/// Issue 23: /health turns 503 when RabbitMQ stops answering, also when the
/// connection stays open and silent (a partition, which RabbitMQ's
/// heartbeat would notice only after a minute): the background round trip
/// notices. The instance still takes chat into its outbox meanwhile.
#[tokio::test]
async fn unavailable_while_rabbitmq_does_not_answer_and_back_by_itself() {
    let link = TcpProxy::start("127.0.0.1:5672").await;
    let (db_name, pool) = fresh_database().await;
    let url = format!("amqp://guest:guest@{}/%2f", link.addr);
    let app = TestApp::spawn_on(test_config(&db_name, &[("RABBITMQ_URL", &url)]), pool).await;
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["broker_connected"], true);

    // Silent: the TCP connection stays up and nothing crosses it.
    link.freeze();
    let body = wait_for(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["broker_connected"], false);
    assert_eq!(body["database_connected"], true);
    assert!(!body.to_string().contains("5672"), "{body}");
    let res = app.call(Method::GET, "/health?deep=true", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Chat is still accepted (the outbox holds it).
    let user = app.signup("partition@example.com").await;
    let (status, body) = app.chat(&user, "add buy milk", None, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // The partition ends: the silent connection is closed, a new one made.
    link.set(true);
    let body = wait_for(&app, StatusCode::OK).await;
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["broker_connected"], true);

    // Gone outright (connections cut, new ones refused).
    link.set(false);
    let body = wait_for(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["status"], "degraded", "{body}");
    link.set(true);
    wait_for(&app, StatusCode::OK).await;
}
