//! Idempotency-Key on POST /chat and POST /tasks: a request retried after
//! its answer was lost finds what the first one stored instead of storing it
//! again.

use futures_util::future::join_all;
use reqwest::header::HeaderValue;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, expect_error};
use todo_common::work::Work;

/// POST `/api/{user}/{resource}` with these Idempotency-Key headers (none,
/// one or several).
async fn post_keys_to(
    app: &TestApp,
    user: &TestUser,
    resource: &str,
    keys: &[HeaderValue],
    body: &Value,
) -> Response {
    let mut req = app
        .request(
            Method::POST,
            &format!("/api/{}/{resource}", user.id),
            Some(&user.token),
        )
        .json(body);
    for key in keys {
        req = req.header("idempotency-key", key.clone());
    }
    req.send().await.unwrap()
}

fn one_key(key: Option<&str>) -> Vec<HeaderValue> {
    key.map(|k| HeaderValue::from_str(k).unwrap())
        .into_iter()
        .collect()
}

/// POST /chat with these Idempotency-Key headers (none, one or several).
async fn post_keys(app: &TestApp, user: &TestUser, keys: &[HeaderValue], body: &Value) -> Response {
    post_keys_to(app, user, "chat", keys, body).await
}

async fn post(app: &TestApp, user: &TestUser, key: Option<&str>, body: &Value) -> Response {
    post_keys(app, user, &one_key(key), body).await
}

/// POST /tasks, with an Idempotency-Key if given.
async fn create(app: &TestApp, user: &TestUser, key: Option<&str>, body: &Value) -> Response {
    post_keys_to(app, user, "tasks", &one_key(key), body).await
}

fn replayed(res: &Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

/// (user messages, conversations, message.created events) stored for the user.
async fn stored(app: &TestApp, user: &TestUser) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages WHERE user_id = $1 AND role = 'user'), \
                (SELECT count(*) FROM conversations WHERE user_id = $1), \
                (SELECT count(*) FROM events WHERE user_id = $1 AND type = 'message.created')",
    )
    .bind(&user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_retried_post_gets_the_first_message_back_and_stores_nothing_twice() {
    let app = TestApp::spawn().await;
    let user = app.signup("retry-post@example.com").await;
    let body = json!({"message": "add call mom tomorrow"});

    let first = post(&app, &user, Some("key-1"), &body).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(!replayed(&first), "the first post is not a replay");
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let first: Value = first.json().await.unwrap();

    // The retry, its answer lost: a new conversation was started the first
    // time, and the retry (still without one) lands in it.
    let again = post(&app, &user, Some("key-1"), &body).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert!(replayed(&again));
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the same answer as the first time");
    assert_eq!(stored(&app, &user).await, (1, 1, 1));

    // Naming the conversation the first post started is the same request too.
    let named =
        json!({"message": "add call mom tomorrow", "conversation_id": first["conversation_id"]});
    let res = post(&app, &user, Some("key-1"), &named).await;
    assert!(replayed(&res));
    // A new key is a new message, in the same conversation.
    let res = post(&app, &user, Some("key-2"), &named).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(!replayed(&res));
    assert_eq!(stored(&app, &user).await, (2, 1, 2));
}

#[tokio::test]
async fn a_key_sent_again_with_another_message_is_refused_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("key-reuse@example.com").await;
    let res = post(&app, &user, Some("k"), &json!({"message": "add milk"})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let conversation = res.json::<Value>().await.unwrap()["conversation_id"].clone();

    let other_text = post(&app, &user, Some("k"), &json!({"message": "add eggs"})).await;
    let body = expect_error(
        other_text,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("new key"),
        "{body}"
    );
    // Another conversation (here: a second one of the user's) under the key.
    let res = post(&app, &user, None, &json!({"message": "hello"})).await;
    let second = res.json::<Value>().await.unwrap()["conversation_id"].clone();
    assert_ne!(second, conversation);
    let moved = json!({"message": "add milk", "conversation_id": second});
    expect_error(
        post(&app, &user, Some("k"), &moved).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(stored(&app, &user).await, (2, 2, 2));
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let app = TestApp::spawn().await;
    let alice = app.signup("key-alice@example.com").await;
    let bob = app.signup("key-bob@example.com").await;
    let body = json!({"message": "add water the plants"});
    let a = post(&app, &alice, Some("shared"), &body).await;
    let b = post(&app, &bob, Some("shared"), &body).await;
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert!(
        !replayed(&b),
        "Bob's post is his own, not a replay of Alice's"
    );
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_ne!(a["message_id"], b["message_id"]);
    assert_eq!(stored(&app, &alice).await.0, 1);
    assert_eq!(stored(&app, &bob).await.0, 1);
    // Bob's key tells him nothing about Alice's message.
    let other = post(&app, &bob, Some("shared"), &json!({"message": "x"})).await;
    expect_error(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
}

/// Answers to parallel retries with one key: all `status`, one of them the
/// request that stored it and the others replays, all naming the same `field`.
async fn stored_once(responses: Vec<reqwest::Response>, status: StatusCode, field: &str) {
    let mut ids = Vec::new();
    let mut firsts = 0;
    for res in responses {
        assert_eq!(res.status(), status);
        firsts += usize::from(!replayed(&res));
        ids.push(res.json::<Value>().await.unwrap()[field].clone());
    }
    assert_eq!(firsts, 1, "one request stored it, the others found it");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

#[tokio::test]
async fn parallel_retries_store_one_message() {
    let app = TestApp::spawn().await;
    let user = app.signup("key-parallel@example.com").await;
    let body = json!({"message": "add one thing"});
    let responses = join_all((0..8).map(|_| post(&app, &user, Some("same"), &body))).await;
    stored_once(responses, StatusCode::ACCEPTED, "message_id").await;
    assert_eq!(stored(&app, &user).await, (1, 1, 1));
}

#[tokio::test]
async fn a_retry_is_answered_even_when_the_rate_limit_is_used_up() {
    let app = TestApp::spawn_with(&[("CHAT_RATE_LIMIT_PER_MINUTE", "1")]).await;
    let user = app.signup("key-rate@example.com").await;
    let body = json!({"message": "add the one message"});
    let first = post(&app, &user, Some("r"), &body).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    // The retry is not a new message: it neither counts nor is refused.
    let again = post(&app, &user, Some("r"), &body).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert!(replayed(&again));
    let new = post(&app, &user, Some("s"), &json!({"message": "add another"})).await;
    expect_error(new, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(stored(&app, &user).await.0, 1);
}

#[tokio::test]
async fn a_bad_key_is_a_clear_400_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("key-bad@example.com").await;
    let body = json!({"message": "add something"});
    let long = "k".repeat(256);
    for key in ["", "has space", "tab\there", long.as_str()] {
        let res = post(&app, &user, Some(key), &body).await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(err["error"]["field"], "Idempotency-Key", "{key:?}: {err}");
    }
    // Bytes that are not visible ASCII.
    let utf8 = HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
    let res = post_keys(&app, &user, &[utf8], &body).await;
    expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    // Two keys on one post.
    let two = [HeaderValue::from_static("a"), HeaderValue::from_static("b")];
    let res = post_keys(&app, &user, &two, &body).await;
    let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("one key"),
        "{err}"
    );
    // The longest key is fine.
    let longest = "k".repeat(255);
    let res = post(&app, &user, Some(&longest), &body).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(stored(&app, &user).await.0, 1);
}

/// (tasks, task.created events) stored for the user.
async fn tasks_stored(app: &TestApp, user: &TestUser) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM tasks WHERE user_id = $1), \
                (SELECT count(*) FROM events WHERE user_id = $1 AND type = 'task.created')",
    )
    .bind(&user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_retried_task_creation_gets_the_first_task_back_and_adds_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("retry-task@example.com").await;
    let body = json!({"title": "call mom", "priority": "high", "tags": ["family"]});

    let first = create(&app, &user, Some("task-1"), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!replayed(&first), "the first creation is not a replay");
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let first: Value = first.json().await.unwrap();

    let again = create(&app, &user, Some("task-1"), &body).await;
    assert_eq!(again.status(), StatusCode::CREATED, "answered as the first");
    assert!(replayed(&again));
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(tasks_stored(&app, &user).await, (1, 1));

    // The same task in other words (spacing, tag case) is the same request.
    let same = json!({"title": " call mom ", "priority": "high", "tags": ["Family"]});
    let res = create(&app, &user, Some("task-1"), &same).await;
    assert!(replayed(&res));

    // Changed since, the task comes back as it is now: it is the same one.
    let path = format!("/api/{}/tasks/{}", user.id, first["id"]);
    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&user.token),
            &json!({"completed": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = create(&app, &user, Some("task-1"), &body).await;
    assert!(replayed(&res));
    let now: Value = res.json().await.unwrap();
    assert_eq!(
        (now["id"].clone(), now["completed"].clone()),
        (first["id"].clone(), json!(true))
    );

    // A new key, or none, is a new task.
    let res = create(&app, &user, Some("task-2"), &body).await;
    assert!(!replayed(&res));
    let res = create(&app, &user, None, &body).await;
    assert!(!replayed(&res));
    assert_eq!(tasks_stored(&app, &user).await, (3, 3));

    // Deleted, the task takes its key with it: the key can name a new one.
    let res = app.call(Method::DELETE, &path, Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = create(&app, &user, Some("task-1"), &json!({"title": "other"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!replayed(&res));
}

#[tokio::test]
async fn a_task_key_sent_again_with_another_task_is_refused_and_adds_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("task-key-reuse@example.com").await;
    let res = create(&app, &user, Some("k"), &json!({"title": "milk"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for other in [
        json!({"title": "eggs"}),
        json!({"title": "milk", "priority": "high"}),
        json!({"title": "milk", "due_at": "2026-12-01T17:00:00Z"}),
    ] {
        let res = create(&app, &user, Some("k"), &other).await;
        expect_error(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
    }
    assert_eq!(tasks_stored(&app, &user).await, (1, 1));
}

#[tokio::test]
async fn task_keys_belong_to_one_user_and_apart_from_chat_keys() {
    let app = TestApp::spawn().await;
    let alice = app.signup("task-key-alice@example.com").await;
    let bob = app.signup("task-key-bob@example.com").await;
    let body = json!({"title": "water the plants"});
    let a = create(&app, &alice, Some("shared"), &body).await;
    let b = create(&app, &bob, Some("shared"), &body).await;
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert!(!replayed(&b), "Bob's task is his own");
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    // Two tasks, each the first in its owner's list (numbers are per user).
    assert_ne!(a["user_id"], b["user_id"]);
    assert_eq!((&a["id"], &b["id"]), (&json!(1), &json!(1)));
    // Bob's key tells him nothing about Alice's task.
    let other = create(&app, &bob, Some("shared"), &json!({"title": "x"})).await;
    expect_error(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(tasks_stored(&app, &alice).await, (1, 1));
    assert_eq!(tasks_stored(&app, &bob).await, (1, 1));
    // A chat post names a message, not a task: the same key is free there.
    let res = post(&app, &alice, Some("shared"), &json!({"message": "hello"})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(!replayed(&res));
}

#[tokio::test]
async fn parallel_task_retries_create_one_task() {
    let app = TestApp::spawn().await;
    let user = app.signup("task-key-parallel@example.com").await;
    let body = json!({"title": "one thing"});
    let responses = join_all((0..8).map(|_| create(&app, &user, Some("same"), &body))).await;
    stored_once(responses, StatusCode::CREATED, "id").await;
    assert_eq!(tasks_stored(&app, &user).await, (1, 1));
}

#[tokio::test]
async fn a_bad_task_key_is_a_clear_400_and_adds_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("task-key-bad@example.com").await;
    let body = json!({"title": "something"});
    let long = "k".repeat(256);
    for key in ["", "has space", long.as_str()] {
        let res = create(&app, &user, Some(key), &body).await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(err["error"]["field"], "Idempotency-Key", "{key:?}: {err}");
    }
    let utf8 = HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
    let two = [HeaderValue::from_static("a"), HeaderValue::from_static("b")];
    for keys in [vec![utf8], two.to_vec()] {
        let res = post_keys_to(&app, &user, "tasks", &keys, &body).await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(err["error"]["field"], "Idempotency-Key", "{err}");
    }
    assert_eq!(tasks_stored(&app, &user).await, (0, 0));
}

/// The chat agent's tool calls already run once each (the turn records
/// them), so its door takes no key: one a model sends anyway changes nothing.
#[tokio::test]
async fn the_chat_door_ignores_an_idempotency_key_argument() {
    let app = TestApp::spawn().await;
    let user = app.signup("task-key-chat@example.com").await;
    let res = create(&app, &user, Some("k"), &json!({"title": "milk"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = todo_common::domain::UserId::parse(&user.id).unwrap();
    for title in ["eggs", "eggs"] {
        let arguments = json!({"title": title, "idempotency_key": "k"}).to_string();
        let mut work = Work::begin(&app.pool, &app.broker()).await.unwrap();
        let turn = todo_common::tools::InTurn {
            conversation_id: uuid::Uuid::nil(),
            message_id: uuid::Uuid::nil(),
            earlier: &[],
        };
        let result = todo_common::tools::execute(&mut work, &id, turn, "add_task", &arguments)
            .await
            .unwrap()
            .result;
        work.commit().await.unwrap();
        assert_eq!(result["status"], "created", "{result}");
    }
    let keys: Vec<Option<String>> =
        sqlx::query_scalar("SELECT idempotency_key FROM tasks WHERE user_id = $1 ORDER BY id")
            .bind(&user.id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(keys, [Some("k".to_string()), None, None]);
}
