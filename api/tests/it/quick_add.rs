//! Quick add over REST: a task typed in words, previewed with its chips and
//! created as previewed, on the user's clock.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, expect_error};

fn preview_path(user: &TestUser) -> String {
    format!("/api/{}/tasks/quick-add/preview", user.id)
}

fn create_path(user: &TestUser) -> String {
    format!("/api/{}/tasks/quick-add", user.id)
}

/// "José" puts a two-byte letter before every chip: offsets are code points.
const TEXT: &str = "call José jan 27, 2030 at 5pm p1 #family every week, 30 minutes before";

#[tokio::test]
async fn the_preview_names_every_part_where_it_stands_and_enter_creates_exactly_that() {
    let app = TestApp::spawn().await;
    let user = app.signup_in("quick@example.com", "Europe/Berlin").await;
    let preview: Value = app
        .call_for_json(
            Method::POST,
            &preview_path(&user),
            Some(&user.token),
            Some(&json!({"text": TEXT})),
        )
        .await;
    assert_eq!(preview["title"], "call José");
    assert_eq!(preview["task"]["title"], "call José");
    assert_eq!(preview["problem"], Value::Null);
    let chars: Vec<char> = TEXT.chars().collect();
    let chips: Vec<(String, String, String)> = preview["chips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let (start, end) = (c["start"].as_u64().unwrap(), c["end"].as_u64().unwrap());
            let words: String = chars[start as usize..end as usize].iter().collect();
            assert_eq!(c["text"], words.as_str(), "offsets in code points");
            (
                c["kind"].as_str().unwrap().to_string(),
                words,
                c["label"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("date_time", "jan 27, 2030 at 5pm", "Sun 27 Jan 2030 17:00"),
        ("priority", "p1", "Urgent"),
        ("tag", "#family", "#family"),
        ("recurrence", "every week", "Every Sunday"),
        (
            "reminder",
            "30 minutes before",
            "Reminder 30 minutes before",
        ),
    ];
    assert_eq!(
        chips,
        expected
            .iter()
            .map(|(k, w, l)| (k.to_string(), w.to_string(), l.to_string()))
            .collect::<Vec<_>>()
    );

    let res = app
        .send_json(
            Method::POST,
            &create_path(&user),
            Some(&user.token),
            &json!({"text": TEXT}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let task: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/{}/tasks/{}", user.id, task["id"]));
    assert_eq!(task["title"], "call José");
    // 17:00 in Berlin in winter.
    assert_eq!(task["due_at"], "2030-01-27T16:00:00Z");
    assert_eq!(task["priority"], "urgent");
    assert_eq!(task["tags"], json!(["family"]));
    assert_eq!(task["recurrence"]["text"], "every Sunday");
    assert_eq!(task["reminders"][0]["before_due_minutes"], 30);
    // What the preview showed is what was stored.
    assert_eq!(
        task["due_at"],
        to_utc_berlin_winter(&preview["task"]["due_at"])
    );
}

/// "2030-01-27T17:00" on Berlin's winter clock (UTC+1), as stored.
fn to_utc_berlin_winter(local: &Value) -> String {
    let local =
        chrono::NaiveDateTime::parse_from_str(local.as_str().unwrap(), "%Y-%m-%dT%H:%M").unwrap();
    (local - chrono::TimeDelta::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[tokio::test]
async fn a_dismissed_chip_stays_in_the_title_and_false_dates_are_no_chips() {
    let app = TestApp::spawn().await;
    let user = app.signup("keep@example.com").await;
    let text = "watch Friday Night Lights tomorrow #tv";
    let preview: Value = app
        .call_for_json(
            Method::POST,
            &preview_path(&user),
            Some(&user.token),
            Some(&json!({"text": text})),
        )
        .await;
    let date = preview["chips"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "date")
        .expect("a date chip")
        .clone();
    assert_eq!(date["text"], "tomorrow");
    assert_eq!(preview["title"], "watch Friday Night Lights");

    let keep = json!({"text": text, "keep": [{"start": date["start"], "end": date["end"]}]});
    let res = app
        .send_json(Method::POST, &create_path(&user), Some(&user.token), &keep)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let task: Value = res.json().await.unwrap();
    assert_eq!(task["title"], "watch Friday Night Lights tomorrow");
    assert_eq!(task["due_date"], Value::Null);
    assert_eq!(task["due_at"], Value::Null);
    assert_eq!(task["tags"], json!(["tv"]));

    // A range from before an edit is cut to the text; an empty or reversed
    // one keeps nothing.
    for (keep, title) in [
        (json!([{"start": 5, "end": 99}]), "milk tomorrow"),
        (
            json!([{"start": 9, "end": 2}, {"start": 6, "end": 6}]),
            "milk",
        ),
        (json!([{"start": 20, "end": 30}]), "milk"),
        // JSON Schema's integers include 5.0; 2^62 is past any end.
        (
            json!([{"start": 5.0, "end": 4_611_686_018_427_387_904_u64}]),
            "milk tomorrow",
        ),
    ] {
        let read: Value = app
            .call_for_json(
                Method::POST,
                &preview_path(&user),
                Some(&user.token),
                Some(&json!({"text": "milk tomorrow", "keep": keep})),
            )
            .await;
        assert_eq!(read["title"], title, "{keep}");
    }

    let read: Value = app
        .call_for_json(
            Method::POST,
            &preview_path(&user),
            Some(&user.token),
            Some(&json!({"text": "read The 5th Wave"})),
        )
        .await;
    assert_eq!(read["chips"], json!([]));
    assert_eq!(read["task"], json!({"title": "read The 5th Wave"}));
}

#[tokio::test]
async fn bad_input_is_a_clear_error_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("quick-bad@example.com").await;
    let other = app.signup("quick-other@example.com").await;
    for (body, field) in [
        (json!({"text": "x".repeat(1001)}), "text"),
        (
            json!({"text": "milk", "keep": vec![json!({"start": 0, "end": 1}); 51]}),
            "keep",
        ),
        // An empty title is the preview's problem, and the creation's 400.
        (json!({"text": "tomorrow at 5pm"}), "title"),
        (json!({"text": "milk", "due": "tomorrow"}), "due"),
        (
            json!({"text": "milk", "keep": [{"start": 1.5, "end": 3}]}),
            "keep[0].start",
        ),
        (
            json!({"text": "milk", "keep": [{"start": -1, "end": 3}]}),
            "keep[0].start",
        ),
        // Past the document's int64.
        (
            json!({"text": "milk", "keep": [{"start": 0, "end": 9_223_372_036_854_775_808_u64}]}),
            "keep[0].end",
        ),
    ] {
        let res = app
            .send_json(Method::POST, &create_path(&user), Some(&user.token), &body)
            .await;
        let error = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert!(
            error["error"]["field"]
                .as_str()
                .unwrap_or("")
                .starts_with(field)
                || error["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(field),
            "{body}: {error}"
        );
    }
    let preview: Value = app
        .call_for_json(
            Method::POST,
            &preview_path(&user),
            Some(&user.token),
            Some(&json!({"text": "tomorrow at 5pm"})),
        )
        .await;
    assert_eq!(preview["problem"]["field"], "title");
    assert_eq!(preview["title"], "");
    assert_eq!(
        preview["task"],
        Value::Null,
        "nothing that could be created"
    );
    assert_eq!(preview["chips"][0]["kind"], "date_time");
    // Someone else's list: refused, for both.
    for path in [preview_path(&other), create_path(&other)] {
        let res = app
            .send_json(
                Method::POST,
                &path,
                Some(&user.token),
                &json!({"text": "milk"}),
            )
            .await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let list: Value = app
        .call_for_json(
            Method::GET,
            &format!("/api/{}/tasks", user.id),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(list["tasks"], json!([]));
}

#[tokio::test]
async fn a_retry_with_the_same_key_creates_one_task() {
    let app = TestApp::spawn().await;
    let user = app.signup("quick-retry@example.com").await;
    let send = || async {
        app.request(Method::POST, &create_path(&user), Some(&user.token))
            .header("Idempotency-Key", "quick-1")
            .json(&json!({"text": "water plants every monday"}))
            .send()
            .await
            .unwrap()
    };
    let first = send().await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = send().await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (a, b): (Value, Value) = (first.json().await.unwrap(), again.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["recurrence"]["text"], "every Monday");
}
