//! "undo" (issue 22): the last change a conversation made is put back.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{TestApp, TestUser, start_mock};
use todo_common::llm::{Reply, ToolCall};

/// One chat message, answered; the turn.
async fn say(app: &TestApp, user: &TestUser, conversation: Option<&str>, text: &str) -> Value {
    let (status, turn) = app.chat(user, text, conversation, Some(30)).await;
    assert_eq!(status, StatusCode::OK, "{text}: {turn}");
    assert_eq!(turn["status"], "completed", "{text}: {turn}");
    turn
}

fn response(turn: &Value) -> &str {
    turn["response"].as_str().unwrap_or_default()
}

/// GET the task: its JSON, or None when it is gone.
async fn task(app: &TestApp, user: &TestUser, id: i64) -> Option<Value> {
    let res = app
        .call(
            Method::GET,
            &format!("/api/{}/tasks/{id}", user.id),
            Some(&user.token),
        )
        .await;
    match res.status() {
        StatusCode::NOT_FOUND => None,
        StatusCode::OK => Some(res.json().await.unwrap()),
        other => panic!("GET task {id}: {other}"),
    }
}

/// The task as the user sees it, without the time of its last write.
fn fields(mut task: Value) -> Value {
    task.as_object_mut().unwrap().remove("updated_at");
    task
}

/// The model's next reply: one call of `name`.
fn script_call(mock: &testkit::Mock, name: &str, arguments: Value) {
    mock.state.script(Reply {
        content: None,
        tool_calls: vec![ToolCall {
            id: format!("call_{name}"),
            name: name.into(),
            arguments: arguments.to_string(),
        }],
        ..Reply::default()
    });
}

/// A model may rename and move a task in one call, and undo it. The
/// offline assistant (the mock's answers) never does the first, so the
/// model's calls are scripted; its words come from the tool results.
#[tokio::test]
async fn a_model_undoes_a_rename_and_move_in_one_call() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(Some(&mock), &[("ASSISTANT_MODE", "model")])
        .await;
    let user = app.signup("undo-model@example.com").await;
    let before = app
        .create_task(
            &user,
            json!({"title": "call mom", "due_date": "2030-01-10"}),
        )
        .await;
    script_call(
        &mock,
        "update_task",
        json!({"task_id": 1, "title": "call dad", "due_date": "2030-01-24"}),
    );
    let first = say(&app, &user, None, "make it call dad, two weeks later").await;
    let c = first["conversation_id"].as_str().map(str::to_string);
    let changed = task(&app, &user, 1).await.unwrap();
    assert_eq!(
        (&changed["title"], &changed["due_date"]),
        (&json!("call dad"), &json!("2030-01-24"))
    );

    script_call(&mock, "undo_last_change", json!({}));
    let undone = say(&app, &user, c.as_deref(), "please put that back").await;
    assert_eq!(undone["metadata"]["answered_by"], "model", "{undone}");
    assert_eq!(
        response(&undone),
        "Undid: changed #1 “call dad” (back to the title “call mom”, due 2030-01-10).",
        "{undone}"
    );
    assert_eq!(fields(task(&app, &user, 1).await.unwrap()), fields(before));
    // The model was offered the tool, and told when to use it.
    let last = mock.stats().await["last_request"].clone();
    let offered: Vec<&str> = last["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(offered.contains(&"undo_last_change"), "{offered:?}");
    let system = last["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("undo_last_change"), "{system}");
    worker.stop().await;
}
