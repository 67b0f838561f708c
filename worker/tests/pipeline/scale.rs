//! Tools at scale (issue 22): with 1,000 open tasks a listing is a bounded
//! page that still says the true totals, for the offline assistant and for
//! a model (mock-openai over HTTP) alike.

use chrono::{Days, Utc};
use futures_util::StreamExt;
use serde_json::{Value, json};
use testkit::{TestApp, TestUser, start_mock};

/// A list_tasks result a model reads must stay small however many tasks.
const MAX_RESULT_BYTES: usize = 4096;

/// 1,000 open tasks: 3 overdue, 2 due today, 200 due later, the rest undated.
async fn thousand_tasks(app: &TestApp, user: &TestUser) {
    let today = Utc::now().date_naive();
    let bodies: Vec<Value> = (0..1000)
        .map(|i| {
            let title = format!("errand number {i}");
            match i {
                0..3 => json!({"title": title, "due_date": (today - Days::new(2)).to_string()}),
                3..5 => json!({"title": title, "due_date": today.to_string()}),
                5..205 => json!({"title": title,
                                 "due_date": (today + Days::new(10 + i % 30)).to_string()}),
                _ => json!({"title": title}),
            }
        })
        .collect();
    futures_util::stream::iter(bodies)
        .for_each_concurrent(16, |body| async move {
            app.create_task(user, body).await;
        })
        .await;
}

fn listing(turn: &Value) -> &Value {
    let call = &turn["tool_calls"][0];
    assert_eq!(call["name"], "list_tasks", "{turn}");
    &call["result"]
}

#[tokio::test]
async fn a_thousand_open_tasks_list_as_a_small_page_with_the_true_totals() {
    let app = TestApp::spawn().await;
    // The user's zone is UTC: "today" above is theirs.
    let user = app.signup("busy@example.com").await;
    thousand_tasks(&app, &user).await;

    // Offline.
    let offline = app.spawn_worker(None, &[]).await;
    let (_, turn) = app.chat(&user, "what's still open?", None, Some(60)).await;
    let result = listing(&turn);
    let size = result.to_string().len();
    assert!(size < MAX_RESULT_BYTES, "{size} bytes: {result}");
    assert_eq!(result["matching"], 1000);
    assert_eq!(result["open"], 1000);
    assert_eq!(result["overdue"], 3);
    assert_eq!(result["due_today"], 2);
    assert_eq!(result["tasks"].as_array().unwrap().len(), 25);
    assert!(result["next_cursor"].is_string(), "{result}");
    // Soonest due first: the overdue ones lead.
    assert_eq!(
        result["tasks"][0]["due"],
        (Utc::now().date_naive() - Days::new(2)).to_string()
    );
    let answer = turn["response"].as_str().unwrap();
    assert!(
        answer.contains("1,000 open tasks (3 overdue, 2 due today); the 25 due soonest:"),
        "{answer}"
    );
    assert!(answer.contains("...and 975 more."), "{answer}");
    // Named by its words, far beyond the first page of a lookup.
    let (_, turn) = app
        .chat(&user, "done with errand number 999", None, Some(60))
        .await;
    let done = turn["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "complete_task")
        .unwrap_or_else(|| panic!("completed nothing: {turn}"));
    assert_eq!(done["result"]["title"], "errand number 999", "{turn}");
    offline.stop().await;

    // A model, through mock-openai: what it was sent is as small.
    let mock = start_mock().await;
    let model = app.spawn_worker(Some(&mock), &[]).await;
    let (_, turn) = app.chat(&user, "what's still open?", None, Some(60)).await;
    // One fewer: the offline assistant completed one above.
    assert_eq!(listing(&turn)["matching"], 999, "{turn}");
    let sent = mock.stats().await["last_request"]["messages"].clone();
    let tool_message = sent
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .expect("the listing went back to the model")["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        tool_message.len() < MAX_RESULT_BYTES,
        "{} bytes: {tool_message}",
        tool_message.len()
    );
    let answer = turn["response"].as_str().unwrap();
    assert!(answer.contains("999 open tasks"), "{answer}");
    model.stop().await;
}
