//! GET /health, including PostgreSQL going away and coming back.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{TestApp, fresh_database, test_config};

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

/// A TCP proxy in front of PostgreSQL that can cut every connection and
/// refuse new ones, like a database host going down.
struct Outage {
    addr: std::net::SocketAddr,
    up: watch::Sender<bool>,
}

impl Outage {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, _) = watch::channel(true);
        let state = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut rx = state.subscribe();
                if !*rx.borrow() {
                    continue; // dropped: connection refused in effect
                }
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = rx.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
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
    let outage = Outage::start().await;
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
