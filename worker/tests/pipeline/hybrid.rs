//! ASSISTANT_MODE (issue 22): with a model configured, what the offline
//! assistant fully understands is answered at once with no model call, and
//! the rest goes to the model; `model` sends everything to the model.

use reqwest::StatusCode;
use testkit::{TestApp, start_mock};

async fn model_requests(mock: &testkit::Mock) -> u64 {
    mock.stats().await["requests"].as_u64().unwrap()
}

#[tokio::test]
async fn hybrid_answers_clear_commands_offline_and_asks_the_model_the_rest() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    // A model is configured and ASSISTANT_MODE is left to its default.
    let worker = app
        .spawn_worker(Some(&mock), &[("ASSISTANT_MODE", "auto")])
        .await;
    let user = app.signup("hybrid@example.com").await;

    for clear in [
        "add call mom tomorrow at 5pm",
        "what's still open?",
        "done with 1",
    ] {
        let (status, turn) = app.chat(&user, clear, None, Some(30)).await;
        assert_eq!(status, StatusCode::OK, "{turn}");
        assert_eq!(turn["status"], "completed", "{turn}");
        assert_eq!(
            turn["metadata"]["answered_by"], "offline",
            "{clear}: {turn}"
        );
        assert_eq!(turn["metadata"]["offline"], true, "{turn}");
    }
    assert_eq!(
        model_requests(&mock).await,
        0,
        "no model call for clear commands"
    );
    let (_, done) = app.list_tasks(&user, "?status=completed").await;
    assert_eq!(done["tasks"][0]["title"], "call mom", "{done}");

    // Not a command it knows: the model answers.
    let (_, turn) = app
        .chat(&user, "could you help me plan my week?", None, Some(30))
        .await;
    assert_eq!(turn["metadata"]["answered_by"], "model", "{turn}");
    assert!(model_requests(&mock).await >= 1);
    worker.stop().await;

    // Forced to the model, the same clear command costs a model call.
    let before = model_requests(&mock).await;
    let worker = app
        .spawn_worker(Some(&mock), &[("ASSISTANT_MODE", "model")])
        .await;
    let (_, turn) = app.chat(&user, "add buy milk", None, Some(30)).await;
    assert_eq!(turn["metadata"]["answered_by"], "model", "{turn}");
    assert!(model_requests(&mock).await > before);
    worker.stop().await;
}
