//! Due dates (issue 21): a task is due on a day (all day), at a time, or
//! not at all; days are the user's, in their time zone, for input, for
//! "overdue / today / this week" and for sorting.

use chrono::{Days, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};
use testkit::{TestUser, zone_off_utc_date};
use todo_common::domain::TimeZone;

async fn patch(app: &TestApp, user: &TestUser, id: &Value, body: Value) -> reqwest::Response {
    app.send_json(
        Method::PUT,
        &format!("/api/{}/tasks/{id}", user.id),
        Some(&user.token),
        &body,
    )
    .await
}

fn due(task: &Value) -> (Value, Value) {
    (task["due_date"].clone(), task["due_at"].clone())
}

fn titles(list: &Value) -> Vec<&str> {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_task_is_due_on_a_day_at_a_time_or_not_at_all() {
    let app = TestApp::spawn().await;
    let user = app
        .signup_in("due-berlin@example.com", "Europe/Berlin")
        .await;

    // A day alone: all day, with no instant to drift in another zone.
    let day = app
        .create_task(
            &user,
            json!({"title": "buy milk", "due_date": "2026-12-08"}),
        )
        .await;
    assert_eq!(due(&day), (json!("2026-12-08"), Value::Null));

    // A wall time without an offset is that time in Berlin (UTC+1 in winter,
    // UTC+2 in summer).
    let call = app
        .create_task(
            &user,
            json!({"title": "call mom", "due_at": "2026-12-08T18:00"}),
        )
        .await;
    assert_eq!(
        due(&call),
        (json!("2026-12-08"), json!("2026-12-08T17:00:00Z"))
    );
    let summer = app
        .create_task(&user, json!({"title": "bbq", "due_at": "2027-07-01T18:00"}))
        .await;
    assert_eq!(summer["due_at"], "2027-07-01T16:00:00Z");

    // An instant is due on its day in Berlin: 23:30 UTC is 00:30 the next day.
    let late = app
        .create_task(
            &user,
            json!({"title": "late", "due_at": "2026-12-08T23:30:00Z"}),
        )
        .await;
    assert_eq!(
        due(&late),
        (json!("2026-12-09"), json!("2026-12-08T23:30:00Z"))
    );
    let both = app
        .create_task(
            &user,
            json!({"title": "both", "due_date": "2026-12-09", "due_at": "2026-12-08T23:30:00Z"}),
        )
        .await;
    assert_eq!(due(&both), due(&late));

    // A day that is not the time's day is refused, by field; nothing is stored.
    let res = app
        .send_json(
            Method::POST,
            &format!("/api/{}/tasks", user.id),
            Some(&user.token),
            &json!({"title": "mismatch", "due_date": "2026-12-08", "due_at": "2026-12-08T23:30:00Z"}),
        )
        .await;
    let body = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(body["error"]["field"], "due_date", "{body}");
    for (bad, field) in [
        (json!({"title": "x", "due_date": "08/12/2026"}), "due_date"),
        (json!({"title": "x", "due_date": "2026-02-30"}), "due_date"),
        (
            json!({"title": "x", "due_at": "2026-12-08 18:00"}),
            "due_at",
        ),
        (json!({"title": "x", "due_at": "tomorrow"}), "due_at"),
    ] {
        let body = app.create_task_refused(&user, &bad).await;
        assert_eq!(body["error"]["field"], field, "{bad}: {body}");
    }
    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(list["tasks"].as_array().unwrap().len(), 5);

    // A day alone turns a timed task into an all-day one; a time makes an
    // all-day task timed; null clears either.
    let res = patch(&app, &user, &call["id"], json!({"due_date": "2026-12-10"})).await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!(due(&changed), (json!("2026-12-10"), Value::Null));
    let res = patch(
        &app,
        &user,
        &day["id"],
        json!({"due_at": "2026-12-08T07:30"}),
    )
    .await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!(
        due(&changed),
        (json!("2026-12-08"), json!("2026-12-08T06:30:00Z"))
    );
    let res = patch(&app, &user, &day["id"], json!({"due_at": null})).await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!(due(&changed), (Value::Null, Value::Null));
    let res = patch(&app, &user, &late["id"], json!({"due_date": null})).await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!(due(&changed), (Value::Null, Value::Null));
    // Other fields leave the due date alone.
    let res = patch(&app, &user, &summer["id"], json!({"title": "barbecue"})).await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!(due(&changed), due(&summer));
}

#[tokio::test]
async fn overdue_today_and_this_week_follow_the_users_zone() {
    let app = TestApp::spawn().await;
    // A zone whose date is not UTC's now: a server-side "today" would be a day off.
    let (zone, today) = zone_off_utc_date();
    let user = app.signup_in("due-filters@example.com", zone).await;
    let day = |n: i64| -> String {
        if n < 0 {
            today - Days::new(n.unsigned_abs())
        } else {
            today + Days::new(n as u64)
        }
        .to_string()
    };
    for (title, due) in [
        ("yesterday", json!({"due_date": day(-1)})),
        ("today", json!({"due_date": day(0)})),
        ("tomorrow", json!({"due_date": day(1)})),
        ("in six days", json!({"due_date": day(6)})),
        ("in a week", json!({"due_date": day(7)})),
        ("no date", json!({})),
        // Timed, two hours ago: overdue already.
        (
            "two hours ago",
            json!({"due_at": (Utc::now() - Duration::hours(2)).to_rfc3339()}),
        ),
    ] {
        let mut body = due;
        body["title"] = json!(title);
        app.create_task(&user, body).await;
    }
    // Done tasks are not overdue.
    let done = app
        .create_task(
            &user,
            json!({"title": "done yesterday", "due_date": day(-1)}),
        )
        .await;
    let res = patch(&app, &user, &done["id"], json!({"completed": true})).await;
    assert_eq!(res.status(), StatusCode::OK);

    let list = |query: &'static str| {
        let app = &app;
        let user = &user;
        async move {
            let (status, list) = app
                .list_tasks(user, &format!("?sort=due&limit=200&{query}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{list}");
            titles(&list)
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        }
    };
    let mut overdue = list("due=overdue").await;
    overdue.sort();
    assert_eq!(overdue, ["two hours ago", "yesterday"]);
    let mut today_list = list("due=today").await;
    let two_hours_ago_is_today = (Utc::now() - Duration::hours(2))
        .with_timezone(&TimeZone::parse(zone).unwrap().tz())
        .date_naive()
        == today;
    today_list.retain(|t| t != "two hours ago");
    assert_eq!(today_list, ["today"]);
    assert_eq!(list("due=tomorrow").await, ["tomorrow"]);
    let week = list("due=week").await;
    let expected: &[&str] = if two_hours_ago_is_today {
        &["today", "two hours ago", "tomorrow", "in six days"]
    } else {
        &["today", "tomorrow", "in six days"]
    };
    let mut week_sorted = week.clone();
    week_sorted.sort();
    let mut expected_sorted = expected.to_vec();
    expected_sorted.sort();
    assert_eq!(week_sorted, expected_sorted, "{week:?}");
    assert_eq!(list("due=none").await, ["no date"]);
    assert_eq!(list("due=any").await.len(), 7);
    let (status, body) = app.list_tasks(&user, "?due=someday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "due", "{body}");
}

#[tokio::test]
async fn sorting_by_due_puts_days_in_order_all_day_first_and_pages_agree() {
    let app = TestApp::spawn().await;
    let user = app
        .signup_in("due-sort@example.com", "America/New_York")
        .await;
    // 20:00 on the 8th in New York is 01:00 UTC on the 9th: sorted by the
    // instant's UTC day it would land among the 9th's tasks.
    for (title, body) in [
        ("8th 20:00", json!({"due_at": "2026-12-08T20:00"})),
        ("9th all day", json!({"due_date": "2026-12-09"})),
        ("no date", json!({})),
        ("8th all day", json!({"due_date": "2026-12-08"})),
        ("8th 09:00", json!({"due_at": "2026-12-08T14:00:00Z"})),
        ("9th 00:30", json!({"due_at": "2026-12-09T00:30"})),
    ] {
        let mut body = body;
        body["title"] = json!(title);
        app.create_task(&user, body).await;
    }
    let ascending = [
        "8th all day",
        "8th 09:00",
        "8th 20:00",
        "9th all day",
        "9th 00:30",
        "no date",
    ];
    let (_, list) = app.list_tasks(&user, "?sort=due").await;
    assert_eq!(titles(&list), ascending);
    let (_, list) = app.list_tasks(&user, "?sort=due&order=desc").await;
    let mut descending: Vec<&str> = ascending[..5].iter().rev().copied().collect();
    descending.push("no date");
    assert_eq!(titles(&list), descending, "no date last either way");

    // Two at a time, following the cursor: the same order, nothing twice.
    let mut seen: Vec<String> = Vec::new();
    let mut query = "?sort=due&limit=2".to_string();
    loop {
        let (status, page) = app.list_tasks(&user, &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(titles(&page).into_iter().map(String::from));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?sort=due&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ascending);

    // due_before: an all-day task is due from the start of its day. 05:00
    // UTC is midnight in New York: the 9th begins then, not before.
    let (_, list) = app
        .list_tasks(&user, "?sort=due&due_before=2026-12-09T05:00:00Z")
        .await;
    assert_eq!(titles(&list), ["8th all day", "8th 09:00", "8th 20:00"]);
    let (_, list) = app
        .list_tasks(&user, "?sort=due&due_before=2026-12-09T05:00:01Z")
        .await;
    assert_eq!(
        titles(&list),
        ["8th all day", "8th 09:00", "8th 20:00", "9th all day"]
    );
}

#[tokio::test]
async fn a_new_zone_moves_a_timed_tasks_day_and_keeps_its_instant() {
    let app = TestApp::spawn().await;
    let user = app.signup_in("due-move@example.com", "Europe/Berlin").await;
    let timed = app
        .create_task(
            &user,
            json!({"title": "late call", "due_at": "2026-12-08T23:30:00Z"}),
        )
        .await;
    let all_day = app
        .create_task(&user, json!({"title": "all day", "due_date": "2026-12-09"}))
        .await;
    assert_eq!(timed["due_date"], "2026-12-09");

    let res = app
        .send_json(
            Method::PATCH,
            "/api/auth/me",
            Some(&user.token),
            &json!({"time_zone": "America/New_York"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let task = async |id: &Value| {
        app.call_for_json(
            Method::GET,
            &format!("/api/{}/tasks/{id}", user.id),
            Some(&user.token),
            None,
        )
        .await
    };
    let moved = task(&timed["id"]).await;
    assert_eq!(
        due(&moved),
        (json!("2026-12-08"), json!("2026-12-08T23:30:00Z")),
        "18:30 on the 8th in New York"
    );
    // A day is a day: it does not move with the zone.
    assert_eq!(due(&task(&all_day["id"]).await), due(&all_day));

    // The change was recorded for the user's live clients.
    let updated: Vec<Value> = sqlx::query_scalar(
        "SELECT data FROM events WHERE user_id = $1 AND type = 'task.updated' ORDER BY seq",
    )
    .bind(&user.id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert_eq!(updated[0]["title"], "late call");
    assert_eq!(updated[0]["due_date"], "2026-12-08");
}

#[tokio::test]
async fn urgent_is_the_highest_priority() {
    let app = TestApp::spawn().await;
    let user = app.signup("urgent@example.com").await;
    for priority in ["low", "urgent", "medium", "high"] {
        app.create_task(&user, json!({"title": priority, "priority": priority}))
            .await;
    }
    let (_, list) = app.list_tasks(&user, "?sort=priority").await;
    assert_eq!(titles(&list), ["urgent", "high", "medium", "low"]);
    let (_, list) = app.list_tasks(&user, "?priority=urgent").await;
    assert_eq!(titles(&list), ["urgent"]);
}
