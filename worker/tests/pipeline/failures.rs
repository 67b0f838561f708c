//! Models misbehave and fail; turns still end with a sensible, visible answer.

use reqwest::StatusCode;
use serde_json::json;
use testkit::{TestApp, start_mock};

async fn task_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_arguments_unknown_tools_loops_and_plain_text_end_sensibly() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(Some(&mock), &[("MAX_TOOL_ROUNDS", "3")])
        .await;
    let user = app.signup("weird@example.com").await;

    mock.configure(json!({"behaviour": "malformed_args"})).await;
    let (status, turn) = app.chat(&user, "add buy milk", None, Some(30)).await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["status"], "completed");
    let error = turn["tool_calls"][0]["result"]["error"].as_str().unwrap();
    assert!(
        error.contains("not valid JSON"),
        "the model is told what was wrong: {error}"
    );
    assert!(!turn["response"].as_str().unwrap().is_empty());

    mock.configure(json!({"behaviour": "unknown_tool"})).await;
    let (_, turn) = app.chat(&user, "add buy milk", None, Some(30)).await;
    assert_eq!(turn["status"], "completed");
    assert!(
        turn["tool_calls"][0]["result"]["error"]
            .as_str()
            .unwrap()
            .contains("unknown tool"),
        "{turn}"
    );

    mock.configure(json!({"behaviour": "loop_tools"})).await;
    let (_, turn) = app.chat(&user, "what's open?", None, Some(30)).await;
    assert_eq!(turn["status"], "completed");
    assert_eq!(
        turn["tool_calls"].as_array().unwrap().len(),
        3,
        "stopped at MAX_TOOL_ROUNDS"
    );
    assert!(
        turn["response"]
            .as_str()
            .unwrap()
            .contains("stopped after 3 rounds"),
        "{turn}"
    );

    mock.configure(json!({"behaviour": "plain_text"})).await;
    let (_, turn) = app.chat(&user, "add buy milk", None, Some(30)).await;
    assert_eq!(turn["status"], "completed");
    assert_eq!(turn["response"], "Sure, noted.");
    assert_eq!(turn["tool_calls"], json!([]));

    assert_eq!(task_count(&app).await, 0, "no misbehaviour created a task");
    worker.stop().await;
}

#[tokio::test]
async fn transient_model_errors_are_retried_with_the_servers_delay() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(Some(&mock), &[("OPENAI_MAX_ATTEMPTS", "4")])
        .await;
    let user = app.signup("retry@example.com").await;

    mock.fail(json!({"status": 500, "count": 1})).await;
    mock.fail(
        json!({"status": 429, "count": 1, "retry_after_ms": 20, "code": "rate_limit_exceeded"}),
    )
    .await;
    mock.fail(json!({"status": 503, "count": 1, "retry_after_ms": 20}))
        .await;
    let (_, turn) = app.chat(&user, "add survive errors", None, Some(30)).await;
    assert_eq!(turn["status"], "completed", "{turn}");
    assert_eq!(task_count(&app).await, 1, "retries did not add twice");
    let stats = mock.stats().await;
    assert_eq!(stats["by_status"]["500"], 1);
    assert_eq!(stats["by_status"]["429"], 1);
    assert_eq!(stats["by_status"]["503"], 1);
    worker.stop().await;
}

#[tokio::test]
async fn exhausted_retries_and_quota_fail_the_turn_in_plain_words() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(Some(&mock), &[("OPENAI_MAX_ATTEMPTS", "2")])
        .await;
    let user = app.signup("quota@example.com").await;

    mock.fail(json!({"status": 429, "count": 1, "code": "insufficient_quota"}))
        .await;
    let (_, turn) = app.chat(&user, "add something", None, Some(30)).await;
    assert_eq!(turn["status"], "failed", "{turn}");
    assert!(turn["error"].as_str().unwrap().contains("quota"), "{turn}");
    assert!(
        turn["response"]
            .as_str()
            .unwrap()
            .starts_with("Sorry, I couldn't answer"),
        "{turn}"
    );
    assert_eq!(
        mock.stats().await["requests"],
        1,
        "quota errors are not retried"
    );

    mock.fail(json!({"status": 500, "count": 2})).await;
    let (_, turn) = app.chat(&user, "add something else", None, Some(30)).await;
    assert_eq!(turn["status"], "failed", "{turn}");
    assert!(
        turn["error"].as_str().unwrap().contains("not answering"),
        "{turn}"
    );

    // The conversation goes on afterwards.
    let (_, turn) = app.chat(&user, "add a third thing", None, Some(30)).await;
    assert_eq!(turn["status"], "completed", "{turn}");
    assert_eq!(task_count(&app).await, 1);
    worker.stop().await;
}
