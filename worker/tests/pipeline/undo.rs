//! "undo" (issue 22): the last change a conversation made is put back,
//! once, and nothing else: not another conversation's changes, not another
//! user's tasks, not a task changed since.

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

/// All the user's task titles, oldest first.
async fn titles(app: &TestApp, user: &TestUser) -> Vec<String> {
    let (_, list) = app.list_tasks(user, "?status=all&sort=created").await;
    crate::chat::titles(&list)
}

#[tokio::test]
async fn undo_puts_back_the_last_change_once() {
    let app = TestApp::spawn().await;
    let worker = app.spawn_worker(None, &[]).await; // offline
    let user = app.signup("undo@example.com").await;

    // Added, then undone: gone, with a task.deleted event for live clients.
    let first = say(&app, &user, None, "add call mom").await;
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    let c = Some(conversation.as_str());
    let undone = say(&app, &user, c, "undo").await;
    assert_eq!(undone["tool_calls"][0]["name"], "undo_last_change");
    assert_eq!(
        response(&undone),
        "Undid: added #1 “call mom” (deleted it).",
        "{undone}"
    );
    assert!(task(&app, &user, 1).await.is_none());
    let last_event: String = sqlx::query_scalar(
        "SELECT type FROM events WHERE user_id = $1 AND type LIKE 'task.%' ORDER BY seq DESC LIMIT 1",
    )
    .bind(&user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(last_event, "task.deleted");

    // Once: a second undo finds nothing more, and nothing comes back.
    let again = say(&app, &user, c, "undo that").await;
    assert!(response(&again).contains("nothing more to undo"), "{again}");
    assert_eq!(titles(&app, &user).await, Vec::<String>::new());

    // Completed, then undone: open again.
    say(&app, &user, c, "add water the plants").await;
    say(&app, &user, c, "done with 2").await;
    assert_eq!(task(&app, &user, 2).await.unwrap()["completed"], true);
    let reopened = say(&app, &user, c, "oops, undo").await;
    assert_eq!(
        response(&reopened),
        "Undid: completed #2 “water the plants” (reopened it).",
        "{reopened}"
    );
    let plants = task(&app, &user, 2).await.unwrap();
    assert_eq!(plants["completed"], false, "{plants}");
    assert_eq!(plants["completed_at"], Value::Null, "{plants}");

    // Renamed in one message, moved in the next: undo is the last change
    // only, the move.
    say(&app, &user, c, "rename 2 to water the ferns").await;
    say(&app, &user, c, "move 2 to tomorrow").await;
    assert_ne!(task(&app, &user, 2).await.unwrap()["due_date"], Value::Null);
    let unmoved = say(&app, &user, c, "undo the last change").await;
    assert_eq!(
        response(&unmoved),
        "Undid: changed #2 “water the ferns” (back to no due date).",
        "{unmoved}"
    );
    let ferns = task(&app, &user, 2).await.unwrap();
    assert_eq!(ferns["title"], "water the ferns");
    assert_eq!(ferns["due_date"], Value::Null);

    // Deleted, then undone: back under its number with all its fields.
    let taxes = app
        .create_task(
            &user,
            json!({"title": "file taxes", "description": "forms in the drawer",
                   "priority": "high", "tags": ["home"], "due_date": "2030-01-15",
                   "reminders": [{"before_due_minutes": 60}]}),
        )
        .await;
    let id = taxes["id"].as_i64().unwrap();
    say(&app, &user, c, &format!("delete {id}")).await;
    assert!(task(&app, &user, id).await.is_none());
    let restored = say(&app, &user, c, "revert that").await;
    assert_eq!(
        response(&restored),
        format!("Undid: deleted #{id} “file taxes” (restored it as #{id})."),
        "{restored}"
    );
    assert_eq!(fields(task(&app, &user, id).await.unwrap()), fields(taxes));

    // Several changes of one message are undone together.
    say(&app, &user, c, &format!("complete 2 and {id}")).await;
    let both = say(&app, &user, c, "undo").await;
    assert!(
        response(&both).contains("#2") && response(&both).contains(&format!("#{id}")),
        "{both}"
    );
    for n in [2, id] {
        assert_eq!(task(&app, &user, n).await.unwrap()["completed"], false);
    }
    worker.stop().await;
}

/// The user's done occurrences of recurring tasks, as stored.
async fn done_occurrences(app: &TestApp, user: &TestUser) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM task_completions c JOIN tasks t ON t.id = c.task_id
         WHERE t.user_id = $1",
    )
    .bind(&user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn undoing_a_done_occurrence_puts_the_series_back() {
    let app = TestApp::spawn().await;
    let worker = app.spawn_worker(None, &[]).await;
    let user = app.signup("undo-series@example.com").await;
    let weekly = app
        .create_task(
            &user,
            json!({"title": "water the plants", "due_date": "2030-01-07",
                   "recurrence": {"rrule": "FREQ=WEEKLY"}}),
        )
        .await;
    let first = say(&app, &user, None, "done with 1").await;
    let c = first["conversation_id"].as_str().map(str::to_string);
    let moved = task(&app, &user, 1).await.unwrap();
    assert_eq!(moved["due_date"], "2030-01-14", "{moved}");
    assert_eq!(done_occurrences(&app, &user).await, 1);

    let undone = say(&app, &user, c.as_deref(), "undo").await;
    assert_eq!(
        response(&undone),
        "Undid: completed #1 “water the plants” (open again, due 2030-01-07).",
        "{undone}"
    );
    assert_eq!(fields(task(&app, &user, 1).await.unwrap()), fields(weekly));
    assert_eq!(
        done_occurrences(&app, &user).await,
        0,
        "the done occurrence is forgotten"
    );
    worker.stop().await;
}

#[tokio::test]
async fn undo_touches_only_this_conversations_change_of_this_users_tasks() {
    let app = TestApp::spawn().await;
    let worker = app.spawn_worker(None, &[]).await;
    let alice = app.signup("alice-undo@example.com").await;
    let bob = app.signup("bob-undo@example.com").await;
    // Bob's first task is a #1 too: numbers are per user.
    app.create_task(&bob, json!({"title": "bob's plan"})).await;

    let first = say(&app, &alice, None, "add buy milk").await;
    let mine = first["conversation_id"].as_str().unwrap().to_string();

    // Another conversation of hers has changed nothing: nothing to undo.
    let elsewhere = say(&app, &alice, None, "undo").await;
    assert_ne!(elsewhere["conversation_id"], mine.as_str());
    assert!(
        response(&elsewhere).contains("nothing to undo"),
        "{elsewhere}"
    );
    assert_eq!(titles(&app, &alice).await, ["buy milk"]);

    // In its own conversation her add is undone; Bob's #1 stays.
    let undone = say(&app, &alice, Some(&mine), "undo").await;
    assert!(response(&undone).starts_with("Undid: added #1"), "{undone}");
    assert_eq!(titles(&app, &alice).await, Vec::<String>::new());
    assert_eq!(titles(&app, &bob).await, ["bob's plan"]);

    // A task changed since (in the app) is not overwritten: refused, kept.
    say(&app, &alice, Some(&mine), "add call the bank").await;
    let res = app
        .send_json(
            Method::PUT,
            &format!("/api/{}/tasks/2", alice.id),
            Some(&alice.token),
            &json!({"title": "call the bank at 9"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let refused = say(&app, &alice, Some(&mine), "undo").await;
    assert!(
        response(&refused).contains("has changed since"),
        "{refused}"
    );
    assert_eq!(titles(&app, &alice).await, ["call the bank at 9"]);
    worker.stop().await;
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
