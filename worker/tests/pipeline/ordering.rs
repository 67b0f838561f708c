//! Per conversation, turns are answered in the order sent and never two at
//! once, however many workers compete.

use std::time::Duration;

use reqwest::StatusCode;
use testkit::{TestApp, start_mock};

#[tokio::test]
async fn two_workers_answer_twenty_quick_messages_in_order() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(serde_json::json!({"latency_ms": 15})).await;
    let w1 = app
        .spawn_worker(Some(&mock), &[("WORKER_CONCURRENCY", "4")])
        .await;
    let w2 = app
        .spawn_worker(Some(&mock), &[("WORKER_CONCURRENCY", "4")])
        .await;
    let user = app.signup("order@example.com").await;

    let (status, first) = app.chat(&user, "add step 01", None, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    for i in 2..=20 {
        // Posting while workers answer in the same conversation: no post may
        // fail (a lock-order deadlock between the two once lost one).
        let (status, body) = app
            .chat(
                &user,
                &format!("add step {i:02}"),
                Some(&conversation),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "step {i}: {body}");
    }
    app.wait_until_all_answered(Duration::from_secs(90)).await;

    // Tasks were created in the order the messages were sent.
    let titles: Vec<String> = sqlx::query_scalar("SELECT title FROM tasks ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let expected: Vec<String> = (1..=20).map(|i| format!("step {i:02}")).collect();
    assert_eq!(titles, expected);

    // Turns never overlapped: each turn's first step came after the
    // previous turn's final answer.
    let spans: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT u.seq, min(r.seq), max(r.seq) FROM messages u JOIN messages r ON r.reply_to = u.id \
         WHERE u.role = 'user' GROUP BY u.seq ORDER BY u.seq",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(spans.len(), 20);
    for pair in spans.windows(2) {
        assert!(
            pair[0].2 < pair[1].1,
            "turn {} overlapped turn {}: {spans:?}",
            pair[0].0,
            pair[1].0
        );
    }
    let finals: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE is_final")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(finals, 20, "one answer per message");
    w1.stop().await;
    w2.stop().await;
}
