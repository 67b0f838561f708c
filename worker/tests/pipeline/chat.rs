//! A person chats; tasks change; replies arrive (Prefer: wait and polling).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{TestApp, expect_error, start_mock, zone_off_utc_date};

pub(crate) fn titles(list: &Value) -> Vec<String> {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn chat_adds_a_task_and_confirms_it() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app.spawn_worker(Some(&mock), &[]).await;
    let user = app.signup("milk@example.com").await;

    let (status, turn) = app
        .chat(
            &user,
            "add buy milk tomorrow, high priority",
            None,
            Some(30),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    assert_eq!(turn["status"], "completed");
    assert!(
        turn["response"].as_str().unwrap().contains("buy milk"),
        "{turn}"
    );
    assert_eq!(turn["tool_calls"][0]["name"], "add_task");
    assert_eq!(turn["tool_calls"][0]["arguments"]["title"], "buy milk");
    assert_eq!(turn["tool_calls"][0]["result"]["status"], "created");

    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(titles(&list), ["buy milk"]);
    assert_eq!(list["tasks"][0]["priority"], "high");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    // "tomorrow" is a day, not an instant: due all day.
    assert_eq!(list["tasks"][0]["due_date"], tomorrow.as_str());
    assert_eq!(list["tasks"][0]["due_at"], Value::Null);

    // The model saw the tools, and today's date with the user's message.
    let last = mock.stats().await["last_request"].clone();
    let sent = last_user_message(&last);
    assert!(
        sent.starts_with("add buy milk")
            && sent.contains(&chrono::Utc::now().format("%Y-%m-%d").to_string()),
        "{sent}"
    );
    // Every tool: the five task tools and undo_last_change.
    assert_eq!(last["tools"].as_array().unwrap().len(), 6);
    worker.stop().await;
}

#[tokio::test]
async fn list_complete_and_delete_through_chat_with_the_offline_assistant() {
    let app = TestApp::spawn().await;
    let worker = app.spawn_worker(None, &[]).await; // no key, no base URL: offline
    let user = app.signup("offline@example.com").await;

    let (_, first) = app
        .chat(&user, "add water the plants", None, Some(30))
        .await;
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(
        first["metadata"]["offline"], true,
        "replies say they are offline: {first}"
    );
    app.chat(&user, "add call the bank", Some(&conversation), Some(30))
        .await;
    let (_, list) = app.list_tasks(&user, "?sort=title").await;
    let bank = list["tasks"][0]["id"].as_i64().unwrap();
    let plants = list["tasks"][1]["id"].as_i64().unwrap();

    let (_, open) = app
        .chat(&user, "what's still open?", Some(&conversation), Some(30))
        .await;
    let text = open["response"].as_str().unwrap();
    assert!(
        text.contains("water the plants") && text.contains("call the bank"),
        "{text}"
    );

    let (_, done) = app
        .chat(
            &user,
            &format!("done with {plants}"),
            Some(&conversation),
            Some(30),
        )
        .await;
    assert_eq!(done["tool_calls"][0]["name"], "complete_task", "{done}");
    let (_, list) = app.list_tasks(&user, "?status=completed").await;
    assert_eq!(titles(&list), ["water the plants"]);

    let (_, deleted) = app
        .chat(
            &user,
            &format!("delete {bank}"),
            Some(&conversation),
            Some(30),
        )
        .await;
    assert_eq!(
        deleted["tool_calls"][0]["result"]["status"], "deleted",
        "{deleted}"
    );
    let (_, list) = app.list_tasks(&user, "?status=pending").await;
    assert_eq!(titles(&list), Vec::<String>::new());

    // A task that is not there is a sentence, not a crash.
    let (_, missing) = app
        .chat(&user, "complete 987654", Some(&conversation), Some(30))
        .await;
    assert_eq!(missing["status"], "completed");
    assert!(
        missing["response"].as_str().unwrap().contains("not found"),
        "{missing}"
    );
    worker.stop().await;
}

#[tokio::test]
async fn polling_with_after_returns_only_what_is_new() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app.spawn_worker(Some(&mock), &[]).await;
    let user = app.signup("poll@example.com").await;

    let res = app
        .send_json(
            Method::POST,
            &format!("/api/{}/chat", user.id),
            Some(&user.token),
            &json!({"message": "add pay rent"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["status"], "queued");
    let message_id = accepted["message_id"].as_str().unwrap();
    assert_eq!(location, format!("/api/{}/chat/{message_id}", user.id));
    let conversation = accepted["conversation_id"].as_str().unwrap().to_string();

    let turn = app.wait_for_turn(&user, message_id).await;
    assert_eq!(turn["status"], "completed");
    let polled = app
        .call_for_json(Method::GET, &location, Some(&user.token), None)
        .await;
    assert_eq!(polled["response"], turn["response"]);

    let path = format!("/api/{}/conversations/{conversation}/messages", user.id);
    let all = app
        .call_for_json(Method::GET, &path, Some(&user.token), None)
        .await;
    let messages = all["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant"], "{all}");
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(
        messages[1]["tool_calls"][0]["name"], "add_task",
        "the tool request is visible"
    );
    assert_eq!(messages[3]["is_final"], true);
    assert_eq!(messages[3]["reply_to"], message_id);

    let none_new = app
        .call_for_json(
            Method::GET,
            &format!("{path}?after=4"),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(none_new["messages"], json!([]));

    let (_, second) = app.chat(&user, "list", Some(&conversation), Some(30)).await;
    let fresh = app
        .call_for_json(
            Method::GET,
            &format!("{path}?after=4"),
            Some(&user.token),
            None,
        )
        .await;
    let fresh = fresh["messages"].as_array().unwrap();
    assert_eq!(fresh[0]["id"], second["message_id"]);
    assert!(fresh.iter().all(|m| m["seq"].as_i64().unwrap() > 4));
    let page = app
        .call_for_json(
            Method::GET,
            &format!("{path}?after=0&limit=2"),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    worker.stop().await;
}

#[tokio::test]
async fn prefer_wait_gives_up_with_202_and_the_turn_still_lands() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(json!({"latency_ms": 1500})).await;
    let worker = app.spawn_worker(Some(&mock), &[]).await;
    let user = app.signup("patience@example.com").await;
    let started = std::time::Instant::now();
    let (status, body) = app.chat(&user, "add slow thing", None, Some(1)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let turn = app
        .wait_for_turn(&user, body["message_id"].as_str().unwrap())
        .await;
    assert_eq!(turn["status"], "completed");
    worker.stop().await;
}

#[tokio::test]
async fn conversations_can_be_listed_read_and_deleted() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app.spawn_worker(Some(&mock), &[]).await;
    let user = app.signup("convs@example.com").await;
    let other = app.signup("other@example.com").await;

    let (_, a) = app.chat(&user, "add first thing", None, Some(30)).await;
    let (_, b) = app.chat(&user, "add second thing", None, Some(30)).await;
    let list = app
        .call_for_json(
            Method::GET,
            &format!("/api/{}/conversations", user.id),
            Some(&user.token),
            None,
        )
        .await;
    let convs = list["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 2);
    assert_eq!(convs[0]["id"], b["conversation_id"], "newest first");
    assert_eq!(convs[0]["title"], "add second thing");
    assert!(
        convs[0]["last_message"]
            .as_str()
            .unwrap()
            .contains("second thing")
    );

    let a_id = a["conversation_id"].as_str().unwrap();
    let one = app
        .call_for_json(
            Method::GET,
            &format!("/api/{}/conversations/{a_id}", user.id),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(one["id"], a_id);

    // Someone else's conversation does not exist for you.
    let (status, _) = app.chat(&other, "add sneaky", Some(a_id), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = app
        .call(
            Method::GET,
            &format!("/api/{}/conversations/{a_id}/messages", other.id),
            Some(&other.token),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .call(
            Method::GET,
            &format!(
                "/api/{}/chat/{}",
                other.id,
                a["message_id"].as_str().unwrap()
            ),
            Some(&other.token),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;

    let res = app
        .call(
            Method::DELETE,
            &format!("/api/{}/conversations/{a_id}", user.id),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .call(
            Method::GET,
            &format!("/api/{}/conversations/{a_id}", user.id),
            Some(&user.token),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    worker.stop().await;
}

#[tokio::test]
async fn chat_input_is_validated_and_rate_limited() {
    let app = TestApp::spawn_with(&[("CHAT_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let user = app.signup("limits@example.com").await;
    let path = format!("/api/{}/chat", user.id);
    for (body, field) in [
        (json!({"message": "   "}), Some("message")),
        (json!({"message": "x".repeat(4001)}), Some("message")),
        (
            json!({"message": "hi", "conversation_id": "not-a-uuid"}),
            Some("conversation_id"),
        ),
        (json!({"text": "hi"}), None),
    ] {
        let res = app
            .send_json(Method::POST, &path, Some(&user.token), &body)
            .await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        if let Some(field) = field {
            assert_eq!(err["error"]["field"], field, "{err}");
        }
    }
    // 4000 characters is fine.
    let (status, _) = app.chat(&user, &"y".repeat(4000), None, None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _) = app.chat(&user, "hello", Some(&unknown), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.chat(&user, "two", None, None).await;
    app.chat(&user, "three", None, None).await;
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&user.token),
            &json!({"message": "four"}),
        )
        .await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE role = 'user'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 3, "rejected messages are not stored");
}

/// A person whose answer got lost sends the message again: with the same
/// Idempotency-Key they get the finished turn, and the task exists once.
#[tokio::test]
async fn a_retried_message_is_answered_once_and_adds_its_task_once() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let worker = app.spawn_worker(Some(&mock), &[]).await;
    let user = app.signup("retried@example.com").await;
    let send = || {
        app.request(
            Method::POST,
            &format!("/api/{}/chat", user.id),
            Some(&user.token),
        )
        .header("idempotency-key", "7f0c1a52-retry")
        .json(&json!({"message": "add pay the rent"}))
    };
    let first = send().send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let message_id = first["message_id"].as_str().unwrap();
    let answered = app.wait_for_turn(&user, message_id).await;
    assert_eq!(answered["status"], "completed", "{answered}");

    // The retry of a finished turn gets the turn, as a post that waited would.
    let again = send().send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert!(again.headers().get("preference-applied").is_none());
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, answered);
    // With Prefer: wait it is the same turn, and the wait is applied.
    let waited = send().header("prefer", "wait=5").send().await.unwrap();
    assert_eq!(waited.status(), StatusCode::OK);
    assert_eq!(waited.headers()["preference-applied"], "wait=5");
    assert_eq!(waited.json::<Value>().await.unwrap(), answered);

    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(titles(&list), ["pay the rent"]);
    assert_eq!(
        mock.stats().await["requests"],
        2,
        "one turn: a tool round and the answer"
    );
    worker.stop().await;
}

/// Issue 21: "tomorrow" is the user's tomorrow, in their zone, for the
/// offline assistant; and a model is told the user's date, time and zone.
#[tokio::test]
async fn tomorrow_is_the_users_tomorrow_in_their_time_zone() {
    let app = TestApp::spawn().await;
    let (zone, today) = zone_off_utc_date();
    let user = app.signup("faraway@example.com").await;
    app.set_time_zone(&user, zone).await;

    let offline = app.spawn_worker(None, &[]).await;
    let (status, turn) = app
        .chat(&user, "add water the plants tomorrow", None, Some(30))
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let (_, list) = app.list_tasks(&user, "").await;
    let tomorrow = (today + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        list["tasks"][0]["due_date"],
        tomorrow.as_str(),
        "the user's tomorrow is {tomorrow}"
    );
    offline.stop().await;

    let mock = start_mock().await;
    let _model = app.spawn_worker(Some(&mock), &[]).await;
    let (status, turn) = app.chat(&user, "what is open?", None, Some(30)).await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let last = mock.stats().await["last_request"].clone();
    let sent = last_user_message(&last);
    for part in [
        today.format("%Y-%m-%d").to_string(),
        today.format("%A").to_string(),
        zone.to_string(),
    ] {
        assert!(sent.contains(&part), "{part} missing from: {sent}");
    }
}

/// The newest user message of a request to the model, as sent.
fn last_user_message(request: &Value) -> String {
    let messages = request["messages"].as_array().unwrap();
    let user = messages.iter().rev().find(|m| m["role"] == "user").unwrap();
    user["content"].as_str().unwrap().to_string()
}

/// Issue 21: tried as a new user would, on a database where someone else
/// has tasks: "done with 1" means the first task in this person's list.
#[tokio::test]
async fn done_with_1_is_the_first_task_in_my_own_list() {
    let app = TestApp::spawn().await;
    let _offline = app.spawn_worker(None, &[]).await;
    let other = app.signup("someone-else@example.com").await;
    for title in ["their first", "their second"] {
        app.create_task(&other, json!({ "title": title })).await;
    }
    let me = app.signup("newcomer@example.com").await;
    let (_, added) = app.chat(&me, "add buy bread", None, Some(30)).await;
    assert_eq!(added["tool_calls"][0]["result"]["task_id"], 1, "{added}");
    let (_, done) = app.chat(&me, "done with 1", None, Some(30)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(
        !done["response"].as_str().unwrap().contains("not found"),
        "{done}"
    );
    let (_, mine) = app.list_tasks(&me, "?status=completed").await;
    assert_eq!(titles(&mine), ["buy bread"]);
    let (_, theirs) = app
        .list_tasks(&other, "?status=pending&sort=created&order=asc")
        .await;
    assert_eq!(
        titles(&theirs),
        ["their first", "their second"],
        "theirs untouched"
    );
}

#[tokio::test]
async fn a_question_about_which_task_is_answered_in_the_next_message() {
    let app = TestApp::spawn().await;
    let _offline = app.spawn_worker(None, &[]).await;
    let user = app.signup("which@example.com").await;
    let (_, first) = app.chat(&user, "add call mom", None, Some(30)).await;
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    app.chat(&user, "add call plumber", Some(&conversation), Some(30))
        .await;

    let (_, asked) = app
        .chat(&user, "done with call", Some(&conversation), Some(30))
        .await;
    let question = asked["response"].as_str().unwrap();
    assert!(
        question.contains("Which one do you mean?")
            && question.contains("call mom")
            && question.contains("call plumber"),
        "{asked}"
    );
    let (_, open) = app.list_tasks(&user, "?status=pending").await;
    assert_eq!(
        open["tasks"].as_array().unwrap().len(),
        2,
        "nothing done yet"
    );

    let (_, answered) = app
        .chat(&user, "the second one", Some(&conversation), Some(30))
        .await;
    let done = answered["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "complete_task")
        .unwrap_or_else(|| panic!("nothing completed: {answered}"));
    let (_, completed) = app.list_tasks(&user, "?status=completed").await;
    assert_eq!(titles(&completed).len(), 1, "{answered}");
    assert_eq!(done["result"]["title"], completed["tasks"][0]["title"]);
    // "the second one" is the second candidate the question listed.
    let second_line = question
        .lines()
        .filter(|l| l.starts_with("- #"))
        .nth(1)
        .unwrap();
    assert!(
        second_line.ends_with(done["result"]["title"].as_str().unwrap()),
        "{second_line} / {answered}"
    );
}

#[tokio::test]
async fn follow_ups_name_the_task_before_and_deletes_ask_first() {
    let app = TestApp::spawn().await;
    let _offline = app.spawn_worker(None, &[]).await;
    let user = app.signup("followups@example.com").await;
    let (_, first) = app
        .chat(&user, "add gym every monday", None, Some(30))
        .await;
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    let say = |message: &'static str| {
        let (app, user, conversation) = (&app, &user, conversation.clone());
        async move {
            let (_, turn) = app.chat(user, message, Some(&conversation), Some(30)).await;
            turn["response"].as_str().unwrap_or_default().to_string()
        }
    };
    let open = || async { titles(&app.list_tasks(&user, "?status=pending").await.1) };

    // "it" is the task just added; it repeats, so the tool's refusal
    // becomes a question, and the next message answers it.
    let asked = say("delete it").await;
    assert!(
        asked.contains("\"gym\" (task ")
            && asked.contains("repeats")
            && asked.contains("or the whole series?"),
        "{asked}"
    );
    assert_eq!(open().await, ["gym"], "nothing deleted yet");
    say("the whole series").await;
    assert!(open().await.is_empty(), "the series is gone");

    // Everything: asked first; a no keeps the tasks, a yes deletes them.
    say("add call mom").await;
    say("add buy milk").await;
    let asked = say("delete everything").await;
    assert!(asked.starts_with("Delete all 2 open tasks ("), "{asked}");
    assert_eq!(say("no").await, "OK, I left your tasks as they are.");
    assert_eq!(open().await.len(), 2);
    // The no answered the question: a yes now has nothing to agree to.
    say("yes").await;
    assert_eq!(open().await.len(), 2);
    say("delete everything").await;
    say("yes").await;
    assert!(open().await.is_empty(), "both deleted");
}
