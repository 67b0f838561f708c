//! Concurrency that fits slow models (issue 11): a turn spends its time
//! waiting on the model without holding a database connection, so one
//! worker holds as many slow turns as WORKER_CONCURRENCY allows, far more
//! than its pool has connections.

use std::time::Duration;

use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use testkit::{TestApp, start_mock};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_worker_with_three_connections_holds_forty_slow_turns_at_once() {
    const TURNS: usize = 40;
    const POOL: u32 = 3;
    let app = TestApp::spawn_with(&[("SIGNUP_MAX_PER_IP", "1000")]).await;
    let mock = start_mock().await;
    // Slow enough that the turns overlap however slowly they are posted.
    mock.configure(json!({"latency_ms": 2000})).await;

    // One worker, a large WORKER_CONCURRENCY and a pool of three connections
    // (the heartbeat shares them with the turns).
    let config = app.worker_config(Some(&mock), &[("WORKER_CONCURRENCY", "200")]);
    let pool = PgPoolOptions::new()
        .max_connections(POOL)
        .connect(config.database.url.expose())
        .await
        .expect("worker pool");
    let stop = CancellationToken::new();
    let worker = tokio::spawn(todo_worker::run(config, pool.clone(), stop.clone()));

    // Forty users, one message each: forty conversations, none waiting for another.
    let mut users = Vec::new();
    for i in 0..TURNS {
        users.push(app.signup(&format!("slow{i}@example.com")).await);
    }
    let posts = users.iter().enumerate().map(|(i, user)| {
        let app = &app;
        async move {
            app.chat(user, &format!("add slow task {i}"), None, None)
                .await
        }
    });
    for (status, body) in futures_util::future::join_all(posts).await {
        assert_eq!(status, 202, "{body}");
    }
    app.wait_until_all_answered(Duration::from_secs(120)).await;

    let (completed, tasks): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages WHERE role = 'user' AND status = 'completed'), \
                (SELECT count(*) FROM tasks)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((completed, tasks), (TURNS as i64, TURNS as i64));
    let stats = mock.stats().await;
    assert_eq!(
        stats["requests"],
        2 * TURNS,
        "two model calls per turn: {stats}"
    );
    // Were a connection held across a model call, at most three calls could
    // be in flight; the worker had (nearly) every turn at the model at once.
    let peak = stats["peak_in_flight"].as_u64().unwrap();
    assert!(
        peak >= 30,
        "only {peak} model calls in flight at once with {POOL} connections: {stats}"
    );
    assert!(pool.size() <= POOL);
    stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(40), worker).await;
}
