//! Recurring tasks (issue 21) through REST: a rule in the user's zone,
//! completing moves the task to its next occurrence once and keeps the done
//! one, skipping moves it without, deleting asks for a scope.

use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};
use testkit::TestUser;
use todo_common::domain::TimeZone;

fn today_in(zone: &str) -> NaiveDate {
    TimeZone::parse(zone)
        .unwrap()
        .local(Utc::now())
        .date_naive()
}

async fn complete(app: &TestApp, user: &TestUser, id: &Value) -> Value {
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/{}/tasks/{id}/complete", user.id),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn events(app: &TestApp, user: &TestUser, kind: &str) -> Vec<Value> {
    sqlx::query_scalar("SELECT data FROM events WHERE user_id = $1 AND type = $2 ORDER BY seq")
        .bind(&user.id)
        .bind(kind)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

async fn completions(app: &TestApp, task: &Value) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.due_date::text FROM task_completions c JOIN tasks t ON t.id = c.task_id
         WHERE t.number = $1 ORDER BY c.completed_at",
    )
    .bind(task["id"].as_i64().unwrap())
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_weekly_task_without_a_date_is_due_on_its_next_day_and_moves_when_done() {
    let app = TestApp::spawn().await;
    let zone = "Pacific/Auckland";
    let user = app.signup_in("weekly@example.com", zone).await;
    let task = app
        .create_task(
            &user,
            json!({"title": "put the bins out", "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=MO"}}),
        )
        .await;
    // The next Monday in Auckland, today included.
    let today = today_in(zone);
    let ahead = (7 + Weekday::Mon.num_days_from_monday() as u64
        - today.weekday().num_days_from_monday() as u64)
        % 7;
    let monday = today + Days::new(ahead);
    assert_eq!(task["due_date"], monday.to_string());
    assert_eq!(task["due_at"], Value::Null);
    assert_eq!(
        task["recurrence"],
        json!({"rrule": "FREQ=WEEKLY;BYDAY=MO", "anchor": "due", "text": "every Monday",
               "start": format!("{monday}T00:00:00")})
    );

    // Done: the same task, pending, a week later; the done one is kept.
    let moved = complete(&app, &user, &task["id"]).await;
    assert_eq!(moved["id"], task["id"]);
    assert_eq!(moved["completed"], false);
    assert_eq!(moved["due_date"], (monday + Days::new(7)).to_string());
    assert_eq!(completions(&app, &task).await, [monday.to_string()]);
    let done = events(&app, &user, "task.completed").await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["due_date"], monday.to_string());
    assert_eq!(done[0]["task"]["due_date"], moved["due_date"]);

    // Skipped: moved again, and nothing recorded done.
    let res = app
        .call(
            Method::POST,
            &format!("/api/{}/tasks/{}/skip", user.id, task["id"]),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let skipped: Value = res.json().await.unwrap();
    assert_eq!(skipped["due_date"], (monday + Days::new(14)).to_string());
    assert_eq!(completions(&app, &task).await.len(), 1);
    assert_eq!(events(&app, &user, "task.completed").await.len(), 1);
}

#[tokio::test]
async fn missed_occurrences_do_not_pile_up_and_every_counts_from_completion() {
    let app = TestApp::spawn().await;
    let zone = "Asia/Kolkata";
    let user = app.signup_in("missed@example.com", zone).await;
    let today = today_in(zone);
    let daily = app
        .create_task(
            &user,
            json!({"title": "stretch", "due_date": (today - Days::new(5)).to_string(),
                   "recurrence": {"rrule": "FREQ=DAILY"}}),
        )
        .await;
    let moved = complete(&app, &user, &daily["id"]).await;
    assert_eq!(
        moved["due_date"],
        (today + Days::new(1)).to_string(),
        "five missed days do not come back one by one"
    );

    let every = app
        .create_task(
            &user,
            json!({"title": "water the ficus", "due_date": (today - Days::new(10)).to_string(),
                   "recurrence": {"rrule": "FREQ=DAILY;INTERVAL=3", "anchor": "completion"}}),
        )
        .await;
    assert_eq!(
        every["recurrence"]["text"],
        "every 3 days, counted from completion"
    );
    let moved = complete(&app, &user, &every["id"]).await;
    assert_eq!(moved["due_date"], (today + Days::new(3)).to_string());
}

#[tokio::test]
async fn a_timed_series_keeps_its_wall_time_across_dst_and_ends_with_its_count() {
    let app = TestApp::spawn().await;
    let user = app.signup_in("dst@example.com", "Europe/Berlin").await;
    // Saturdays at 09:00 Berlin, three times; Berlin springs forward on 28 March 2027.
    let task = app
        .create_task(
            &user,
            json!({"title": "market", "due_at": "2027-03-20T09:00",
                   "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=SA;COUNT=3"}}),
        )
        .await;
    assert_eq!(task["due_at"], "2027-03-20T08:00:00Z");
    let second = complete(&app, &user, &task["id"]).await;
    assert_eq!(second["due_at"], "2027-03-27T08:00:00Z", "09:00 CET");
    let third = complete(&app, &user, &task["id"]).await;
    assert_eq!(third["due_at"], "2027-04-03T07:00:00Z", "09:00 CEST");
    assert_eq!(third["completed"], false);
    let last = complete(&app, &user, &task["id"]).await;
    assert_eq!(last["completed"], true, "the series is over: done for good");
    assert_eq!(last["due_at"], "2027-04-03T07:00:00Z");
    assert_eq!(completions(&app, &task).await.len(), 2);
}

#[tokio::test]
async fn deleting_a_recurring_task_asks_which_and_bad_rules_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.signup_in("scope@example.com", "UTC").await;
    let task = app
        .create_task(
            &user,
            json!({"title": "pay rent", "due_date": "2027-01-01",
                   "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=-1"}}),
        )
        .await;
    assert_eq!(
        task["due_date"], "2027-01-31",
        "the rule's first day on or after the date"
    );
    assert_eq!(task["recurrence"]["text"], "every month on the last day");
    let path = format!("/api/{}/tasks/{}", user.id, task["id"]);

    let res = app.call(Method::DELETE, &path, Some(&user.token)).await;
    let body = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(body["error"]["field"], "scope", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("skip just this occurrence"),
        "{body}"
    );
    // One occurrence is skipped, not deleted: a DELETE that succeeds deletes.
    let res = app
        .call(
            Method::DELETE,
            &format!("{path}?scope=occurrence"),
            Some(&user.token),
        )
        .await;
    let body = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("/skip"),
        "{body}"
    );
    let res = app
        .call(Method::POST, &format!("{path}/skip"), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["due_date"], "2027-02-28", "February's last day");
    let res = app
        .call(
            Method::DELETE,
            &format!("{path}?scope=series"),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.call(Method::GET, &path, Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    for (body, field) in [
        (
            json!({"title": "x", "recurrence": {"rrule": "FREQ=HOURLY"}}),
            "recurrence.rrule",
        ),
        (
            json!({"title": "x", "recurrence": {"rrule": "FREQ=DAILY;BYDAY=XX"}}),
            "recurrence.rrule",
        ),
        (
            json!({"title": "x", "recurrence": {"rrule": "FREQ=DAILY", "anchor": "later"}}),
            "body",
        ),
    ] {
        let err = app.create_task_refused(&user, &body).await;
        if field != "body" {
            assert_eq!(err["error"]["field"], field, "{body}: {err}");
        }
    }
    // A recurring task stays due; stopping the rule first frees the date.
    let task = app
        .create_task(
            &user,
            json!({"title": "gym", "recurrence": {"rrule": "FREQ=DAILY"}}),
        )
        .await;
    let path = format!("/api/{}/tasks/{}", user.id, task["id"]);
    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&user.token),
            &json!({"due_date": null}),
        )
        .await;
    let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(err["error"]["field"], "due_date");
    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&user.token),
            &json!({"recurrence": null, "due_date": null}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let plain: Value = res.json().await.unwrap();
    assert_eq!(
        (plain["recurrence"].clone(), plain["due_date"].clone()),
        (Value::Null, Value::Null)
    );
    // Skipping a task that does not repeat says so.
    let res = app
        .call(Method::POST, &format!("{path}/skip"), Some(&user.token))
        .await;
    let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(err["error"]["field"], "task_id");
}

#[tokio::test]
async fn completing_from_two_doors_at_once_moves_the_task_once_per_completion() {
    let app = TestApp::spawn().await;
    let user = app.signup_in("race@example.com", "UTC").await;
    let task = app
        .create_task(
            &user,
            json!({"title": "daily", "due_date": "2027-06-01", "recurrence": {"rrule": "FREQ=DAILY"}}),
        )
        .await;
    // Eight completions at once: each moves the task one day, none is lost
    // or applied twice (the row is locked while the next date is worked out).
    let runs = (0..8).map(|_| complete(&app, &user, &task["id"]));
    futures_util::future::join_all(runs).await;
    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(list["tasks"][0]["due_date"], "2027-06-09");
    assert_eq!(completions(&app, &task).await.len(), 8);
}
