//! Sharing the model: one limit for all workers, and no user starves another.

use std::time::{Duration, Instant};

use serde_json::json;
use testkit::{TestApp, start_mock};

use crate::procs::worker_process;

#[tokio::test]
async fn one_users_burst_does_not_starve_another_user() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(json!({"latency_ms": 150})).await;
    let worker = app
        .spawn_worker(
            Some(&mock),
            &[("WORKER_CONCURRENCY", "8"), ("TURNS_PER_USER", "2")],
        )
        .await;
    let greedy = app.signup("greedy@example.com").await;
    let polite = app.signup("polite@example.com").await;
    for i in 0..12 {
        app.chat(&greedy, &format!("add greedy {i}"), None, None)
            .await;
    }
    let (_, mine) = app.chat(&polite, "add polite one", None, None).await;
    app.wait_until_all_answered(Duration::from_secs(60)).await;
    let polite_done: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT completed_at FROM messages WHERE id = $1")
            .bind(uuid::Uuid::parse_str(mine["message_id"].as_str().unwrap()).unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let greedy_after: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE role = 'user' AND user_id = $1 AND completed_at > $2",
    )
    .bind(&greedy.id)
    .bind(polite_done)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        greedy_after >= 6,
        "the polite user waited behind most of the burst ({greedy_after} after)"
    );
    worker.stop().await;
}

#[tokio::test]
async fn two_worker_processes_share_one_limit_and_never_hit_a_429() {
    let app = TestApp::spawn_with(&[("CHAT_RATE_LIMIT_PER_MINUTE", "1000")]).await;
    let mock = start_mock().await;
    // The server allows 120 requests a minute (2/s); the workers aim for 90%.
    mock.configure(json!({"rpm": 120})).await;
    let limits = [("OPENAI_RPM", "120"), ("OPENAI_LIMIT_TARGET", "0.9")];
    let w1 = worker_process(&app, &mock, &limits);
    let w2 = worker_process(&app, &mock, &limits);
    let users = [
        app.signup("l1@example.com").await,
        app.signup("l2@example.com").await,
        app.signup("l3@example.com").await,
    ];
    let started = Instant::now();
    for i in 0..12 {
        app.chat(&users[i % 3], &format!("add limited {i}"), None, None)
            .await;
    }
    app.wait_until_all_answered(Duration::from_secs(90)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let stats = mock.stats().await;
    assert_eq!(
        stats["by_status"].get("429"),
        None,
        "the limiter stayed ahead of the server: {stats}"
    );
    let requests = stats["requests"].as_u64().unwrap() as f64;
    assert_eq!(requests, 24.0, "two model calls per turn");
    // 24 calls at 1.8/s with a burst of two need at least ~12 s.
    assert!(
        requests / elapsed <= 120.0 / 60.0 * 1.05,
        "{requests} calls in {elapsed:.1} s is over the limit"
    );
    drop((w1, w2));
}
