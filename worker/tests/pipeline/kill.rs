//! SIGKILL a worker process at random points during 200 turns: after
//! restarts every message is answered exactly once and exactly one task
//! exists per "add" message.

use std::time::{Duration, Instant};

use testkit::{TestApp, start_mock};

use crate::procs::worker_process;

/// A pseudo-random delay without a RNG dependency.
fn random_ms(low: u64, high: u64) -> u64 {
    low + (uuid::Uuid::new_v4().as_u128() % u128::from(high - low)) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_at_random_points_answer_everything_exactly_once() {
    let app = TestApp::spawn_with(&[("CHAT_RATE_LIMIT_PER_MINUTE", "1000")]).await;
    let mock = start_mock().await;
    mock.configure(serde_json::json!({"latency_ms": 10})).await;
    let user = app.signup("kill@example.com").await;
    const TURNS: usize = 200;
    // Ten conversations of twenty turns: ordering and claiming both get exercised.
    let mut conversations: Vec<Option<String>> = vec![None; 10];
    for i in 0..TURNS {
        let slot = i % conversations.len();
        let (_, body) = app
            .chat(
                &user,
                &format!("add kill-task {i:03}"),
                conversations[slot].as_deref(),
                None,
            )
            .await;
        conversations[slot] = Some(body["conversation_id"].as_str().unwrap().to_string());
    }

    let mut worker = worker_process(&app, &mock, &[]);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages WHERE role = 'user' AND status IN ('queued', 'processing')",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} turns still open after {kills} kills"
        );
        tokio::time::sleep(Duration::from_millis(random_ms(150, 900))).await;
        if kills < 15 {
            worker.kill().expect("SIGKILL the worker");
            let _ = worker.wait();
            kills += 1;
            worker = worker_process(&app, &mock, &[]);
        }
    }
    drop(worker);
    assert!(kills >= 5, "the test killed the worker only {kills} times");
    // The kills landed mid-turn: some turns were claimed again and resumed.
    let resumed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE role = 'user' AND attempts > 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(resumed >= 1, "no kill interrupted a turn ({kills} kills)");
    eprintln!("{kills} kills, {resumed} turns resumed after a kill");

    let failed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE role = 'user' AND status <> 'completed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(failed, 0, "every message answered");
    let finals: Vec<(i64,)> = sqlx::query_as(
        "SELECT count(f.id) FROM messages u LEFT JOIN messages f ON f.reply_to = u.id AND f.is_final \
         WHERE u.role = 'user' GROUP BY u.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(finals.len(), TURNS);
    assert!(
        finals.iter().all(|(n,)| *n == 1),
        "exactly one answer per message"
    );
    let per_title: Vec<(String, i64)> =
        sqlx::query_as("SELECT title, count(*) FROM tasks GROUP BY title")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(per_title.len(), TURNS, "one task per add message");
    assert!(
        per_title.iter().all(|(_, n)| *n == 1),
        "no task created twice"
    );
}
