//! The task REST API: create, read, change, complete, delete, list.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, expect_error};

fn task_path(user: &TestUser, id: &Value) -> String {
    format!("/api/{}/tasks/{}", user.id, id)
}

#[tokio::test]
async fn task_lifecycle() {
    let app = TestApp::spawn().await;
    let user = app.signup("life@example.com").await;

    let res = app
        .send_json(
            Method::POST,
            &format!("/api/{}/tasks", user.id),
            Some(&user.token),
            &json!({
                "title": "  Call mom  ",
                "description": "about\nthe weekend",
                "priority": "HIGH",
                "tags": ["Family", "phone", "family"],
                "due_at": "2026-11-26T18:00:00+01:00"
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let task: Value = res.json().await.unwrap();
    assert_eq!(location, task_path(&user, &task["id"]));
    assert_eq!(task["title"], "Call mom");
    assert_eq!(task["description"], "about\nthe weekend");
    assert_eq!(task["priority"], "high");
    assert_eq!(task["tags"], json!(["family", "phone"]));
    assert_eq!(task["due_at"], "2026-11-26T17:00:00Z");
    assert_eq!(task["completed"], false);
    assert_eq!(task["completed_at"], Value::Null);

    let got: Value = app
        .call_for_json(Method::GET, &location, Some(&user.token), None)
        .await;
    assert_eq!(got, task);

    // Partial update: only the fields sent change; null clears due_at.
    let res = app
        .send_json(
            Method::PUT,
            &location,
            Some(&user.token),
            &json!({"title": "Call mom back", "due_at": null}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["title"], "Call mom back");
    assert_eq!(updated["due_at"], Value::Null);
    assert_eq!(
        updated["priority"], "high",
        "untouched fields keep their value"
    );
    assert_eq!(updated["tags"], json!(["family", "phone"]));
    assert!(updated["updated_at"].as_str() > task["updated_at"].as_str());

    // Complete with no body, then again: completed_at does not move.
    let complete = format!("{location}/complete");
    let done: Value = app
        .call_for_json(Method::PATCH, &complete, Some(&user.token), None)
        .await;
    assert_eq!(done["completed"], true);
    let completed_at = done["completed_at"].as_str().unwrap().to_string();
    let again: Value = app
        .call_for_json(
            Method::PATCH,
            &complete,
            Some(&user.token),
            Some(&json!({"completed": true})),
        )
        .await;
    assert_eq!(again["completed_at"], completed_at.as_str());

    // Reopen.
    let reopened: Value = app
        .call_for_json(
            Method::PATCH,
            &complete,
            Some(&user.token),
            Some(&json!({"completed": false})),
        )
        .await;
    assert_eq!(reopened["completed"], false);
    assert_eq!(reopened["completed_at"], Value::Null);

    let res = app.call(Method::DELETE, &location, Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.call(Method::GET, &location, Some(&user.token)).await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.call(Method::DELETE, &location, Some(&user.token)).await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn invalid_task_fields_name_the_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("invalid@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": "nul \u{0} byte"}), "title"),
        (
            json!({"title": "ok", "description": "d".repeat(2001)}),
            "description",
        ),
        (json!({"title": "ok", "priority": "critical"}), "priority"),
        (json!({"title": "ok", "tags": ["has space"]}), "tags"),
        (json!({"title": "ok", "tags": ["a".repeat(33)]}), "tags"),
        (
            json!({"title": "ok", "tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
        (json!({"title": "ok", "due_at": "next friday"}), "due_at"),
        (json!({"title": 42}), "title"),
        (json!({"title": "ok", "tags": "home"}), "tags"),
        (json!({"title": "ok", "titel": "typo"}), "body"),
    ];
    for (body, field) in cases {
        let res = app
            .send_json(Method::POST, &path, Some(&user.token), &body)
            .await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        if field != "body" {
            assert_eq!(err["error"]["field"], field, "for {body}: {err}");
        } else {
            assert!(
                err["error"]["message"].as_str().unwrap().contains("titel"),
                "{err}"
            );
        }
    }
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&user.token),
            &json!({"description": "no title"}),
        )
        .await;
    let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(err["error"]["message"].as_str().unwrap().contains("title"));

    let task = app.create_task(&user, json!({"title": "keep me"})).await;
    let res = app
        .send_json(
            Method::PUT,
            &task_path(&user, &task["id"]),
            Some(&user.token),
            &json!({}),
        )
        .await;
    expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    let res = app
        .send_json(
            Method::PUT,
            &task_path(&user, &task["id"]),
            Some(&user.token),
            &json!({"title": "", "priority": "low"}),
        )
        .await;
    expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    let res = app
        .call(
            Method::GET,
            &format!("/api/{}/tasks/not-a-number", user.id),
            Some(&user.token),
        )
        .await;
    let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(err["error"]["field"], "id");

    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(
        list["tasks"].as_array().unwrap().len(),
        1,
        "only the valid task exists"
    );
    assert_eq!(list["tasks"][0]["title"], "keep me");
    assert_eq!(
        list["tasks"][0]["priority"], "medium",
        "a rejected update changes nothing"
    );
}

#[tokio::test]
async fn unicode_and_sql_metacharacters_are_stored_literally() {
    let app = TestApp::spawn().await;
    let user = app.signup("literal@example.com").await;
    let titles = [
        "買い物リスト 🥛 牛乳",
        "Robert'); DROP TABLE tasks;--",
        "100% done_ish \\ really",
        "emoji 👩‍👩‍👧‍👦 family",
        "ümlaut Ünïcödé",
    ];
    for title in titles {
        let task = app
            .create_task(&user, json!({"title": title, "description": "' OR 1=1 --"}))
            .await;
        assert_eq!(task["title"], title);
        assert_eq!(task["description"], "' OR 1=1 --");
    }
    // 200 characters of a four-byte script is within the limit.
    let long = "🥛".repeat(200);
    app.create_task(&user, json!({"title": long})).await;

    let (_, all) = app.list_tasks(&user, "?limit=200").await;
    assert_eq!(all["tasks"].as_array().unwrap().len(), titles.len() + 1);

    // Searching treats % and _ as text, not wildcards.
    let (_, found) = app.list_tasks(&user, "?q=%25").await;
    let found: Vec<&str> = found["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec!["100% done_ish \\ really"]);
    let (_, found) = app.list_tasks(&user, "?q=%E7%89%9B%E4%B9%B3").await; // 牛乳
    assert_eq!(found["tasks"][0]["title"], titles[0]);
    let (_, found) = app.list_tasks(&user, "?q=%27%29%3B%20DROP").await; // '); DROP
    assert_eq!(found["tasks"][0]["title"], titles[1]);
    let (_, found) = app.list_tasks(&user, "?q=%C3%BCmlaut").await; // ümlaut
    assert_eq!(found["tasks"][0]["title"], titles[4]);

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, (titles.len() + 1) as i64, "the table is still there");
}

#[tokio::test]
async fn filters_select_what_they_say() {
    let app = TestApp::spawn().await;
    let user = app.signup("filters@example.com").await;
    let milk = app
        .create_task(&user, json!({"title": "buy milk", "tags": ["shop"], "priority": "high", "due_at": "2026-11-26T09:00:00Z"}))
        .await;
    app.create_task(&user, json!({"title": "file taxes", "tags": ["admin"], "priority": "low", "due_at": "2026-12-31T09:00:00Z"}))
        .await;
    let walk = app
        .create_task(
            &user,
            json!({"title": "walk the dog", "tags": ["home", "shop"]}),
        )
        .await;
    app.call(
        Method::PATCH,
        &format!("{}/complete", task_path(&user, &walk["id"])),
        Some(&user.token),
    )
    .await;

    let titles = |v: &Value| -> Vec<String> {
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, v) = app.list_tasks(&user, "?status=pending&sort=title").await;
    assert_eq!(titles(&v), ["buy milk", "file taxes"]);
    let (_, v) = app.list_tasks(&user, "?status=completed").await;
    assert_eq!(titles(&v), ["walk the dog"]);
    let (_, v) = app.list_tasks(&user, "?tag=SHOP&sort=title").await;
    assert_eq!(titles(&v), ["buy milk", "walk the dog"]);
    let (_, v) = app.list_tasks(&user, "?priority=low").await;
    assert_eq!(titles(&v), ["file taxes"]);
    let (_, v) = app
        .list_tasks(&user, "?due_before=2026-12-01T00:00:00Z")
        .await;
    assert_eq!(titles(&v), ["buy milk"]);
    let (_, v) = app.list_tasks(&user, "?q=MILK").await;
    assert_eq!(v["tasks"][0]["id"], milk["id"]);
    let (_, v) = app.list_tasks(&user, "?sort=priority").await;
    assert_eq!(
        titles(&v),
        ["buy milk", "walk the dog", "file taxes"],
        "high, medium, low"
    );
    let (_, v) = app.list_tasks(&user, "?sort=due").await;
    assert_eq!(
        titles(&v),
        ["buy milk", "file taxes", "walk the dog"],
        "no due date last"
    );
    let (_, v) = app.list_tasks(&user, "?sort=due&order=desc").await;
    assert_eq!(
        titles(&v),
        ["file taxes", "buy milk", "walk the dog"],
        "no due date last either way"
    );

    for (query, field) in [
        ("?status=done", "status"),
        ("?sort=size", "sort"),
        ("?order=up", "order"),
        ("?priority=critical", "priority"),
        ("?due_before=soon", "due_before"),
        ("?tag=two%20words", "tag"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=-1", "limit"),
        ("?cursor=garbage", "cursor"),
        ("?q=a%00b", "q"),
    ] {
        let (status, body) = app.list_tasks(&user, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
}

/// Walks every page of a listing and returns the ids in order.
async fn walk_pages(app: &TestApp, user: &TestUser, query: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let q = match &cursor {
            Some(c) => format!("{query}&cursor={c}"),
            None => query.to_string(),
        };
        let (status, page) = app.list_tasks(user, &q).await;
        assert_eq!(status, StatusCode::OK, "{q}: {page}");
        ids.extend(
            page["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
    panic!("pagination did not end");
}

#[tokio::test]
async fn keyset_pagination_visits_every_task_once_in_every_sort() {
    let app = TestApp::spawn().await;
    let user = app.signup("pages@example.com").await;
    // Duplicate sort keys on purpose (same titles, priorities, due dates):
    // the id tie-breaker must still give a total order.
    let mut expected = Vec::new();
    for i in 0..23 {
        let title = format!("Task {}", ["b", "A", "c"][i % 3]);
        let priority = ["low", "medium", "high"][i % 3];
        let due = (i % 3 != 0).then(|| format!("2026-12-{:02}T10:00:00Z", 1 + i % 4));
        let task = app
            .create_task(
                &user,
                json!({
                    "title": title,
                    "priority": priority,
                    "due_at": due,
                }),
            )
            .await;
        expected.push(task["id"].as_i64().unwrap());
    }
    expected.sort();
    for sort in ["created", "due", "priority", "title"] {
        for order in ["asc", "desc"] {
            for limit in [1, 5, 23, 200] {
                let ids = walk_pages(
                    &app,
                    &user,
                    &format!("?sort={sort}&order={order}&limit={limit}"),
                )
                .await;
                let unique: HashSet<i64> = ids.iter().copied().collect();
                assert_eq!(ids.len(), 23, "{sort} {order} {limit}: every task once");
                assert_eq!(unique.len(), 23, "{sort} {order} {limit}: no repeats");
                let single = walk_pages(
                    &app,
                    &user,
                    &format!("?sort={sort}&order={order}&limit=200"),
                )
                .await;
                assert_eq!(
                    ids, single,
                    "{sort} {order}: pages concatenate to the full listing"
                );
            }
        }
    }
    // Exactly one page when the limit equals the count: no empty trailing page.
    let (_, page) = app.list_tasks(&user, "?limit=23").await;
    assert_eq!(page["next_cursor"], Value::Null);
    let (_, page) = app.list_tasks(&user, "?limit=22").await;
    assert!(page["next_cursor"].is_string());
    // Default: 50 per page, newest first.
    let (_, page) = app.list_tasks(&user, "").await;
    let ids: Vec<i64> = page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let mut newest_first = expected.clone();
    newest_first.reverse();
    assert_eq!(ids, newest_first);

    // A cursor is tied to its sort.
    let (_, page) = app.list_tasks(&user, "?sort=title&limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, body) = app
        .list_tasks(&user, &format!("?sort=due&cursor={cursor}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "cursor");
}

#[tokio::test]
async fn tasks_added_while_paging_do_not_shift_pages() {
    let app = TestApp::spawn().await;
    let user = app.signup("shift@example.com").await;
    for i in 0..6 {
        app.create_task(&user, json!({"title": format!("old {i}")}))
            .await;
    }
    let (_, first) = app.list_tasks(&user, "?limit=3").await;
    app.create_task(&user, json!({"title": "new one"})).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = app
        .list_tasks(&user, &format!("?limit=3&cursor={cursor}"))
        .await;
    let titles: Vec<&str> = first["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["tasks"].as_array().unwrap())
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["old 5", "old 4", "old 3", "old 2", "old 1", "old 0"]
    );
}

/// Issue 21: a user's tasks are numbered 1, 2, 3... in their own list,
/// whoever else has tasks, and a number is never reused after a delete.
#[tokio::test]
async fn task_numbers_are_per_user_and_never_reused() {
    let app = TestApp::spawn().await;
    let ada = app.signup("numbers-ada@example.com").await;
    let bob = app.signup("numbers-bob@example.com").await;
    for title in ["ada one", "ada two"] {
        app.create_task(&ada, json!({ "title": title })).await;
    }
    // Bob's first tasks are his 1 and 2, not rows 3 and 4 of a shared table.
    let first = app.create_task(&bob, json!({ "title": "bob one" })).await;
    let second = app.create_task(&bob, json!({ "title": "bob two" })).await;
    assert_eq!(
        (first["id"].as_i64(), second["id"].as_i64()),
        (Some(1), Some(2))
    );
    let res = app
        .request(
            Method::GET,
            &format!("/api/{}/tasks/1", bob.id),
            Some(&bob.token),
        )
        .send()
        .await
        .unwrap();
    let one: Value = res.json().await.unwrap();
    assert_eq!(one["title"], "bob one", "his 1 is his");

    // Deleting his newest does not hand its number out again.
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/{}/tasks/2", bob.id),
            Some(&bob.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let third = app.create_task(&bob, json!({ "title": "bob three" })).await;
    assert_eq!(third["id"], 3);
    let ada_next = app.create_task(&ada, json!({ "title": "ada three" })).await;
    assert_eq!(ada_next["id"], 3, "Ada's count is her own");

    // A retried create (same Idempotency-Key) leaves no gap behind it.
    for _ in 0..2 {
        let res = app
            .request(
                Method::POST,
                &format!("/api/{}/tasks", bob.id),
                Some(&bob.token),
            )
            .header("idempotency-key", "numbers-retry")
            .json(&json!({ "title": "bob four" }))
            .send()
            .await
            .unwrap();
        let task: Value = res.json().await.unwrap();
        assert_eq!(task["id"], 4);
    }
    let fifth = app.create_task(&bob, json!({ "title": "bob five" })).await;
    assert_eq!(fifth["id"], 5);
}

#[tokio::test]
async fn listing_filters_by_least_priority_due_days_and_recurrence() {
    let app = TestApp::spawn().await;
    let user = app.signup("filters@example.com").await;
    for body in [
        json!({"title": "urgent thing", "priority": "urgent", "due_date": "2027-03-01"}),
        json!({"title": "high thing", "priority": "high", "due_date": "2027-03-05"}),
        json!({"title": "medium thing", "due_date": "2027-03-09"}),
        json!({"title": "low thing", "priority": "low"}),
        json!({"title": "weekly thing", "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=MO"}}),
    ] {
        app.create_task(&user, body).await;
    }
    let titles = |list: &Value| -> Vec<String> {
        let mut t: Vec<String> = list["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    for (query, want) in [
        (
            "?priority_at_least=high",
            vec!["high thing", "urgent thing"],
        ),
        ("?priority_at_least=urgent", vec!["urgent thing"]),
        ("?due_from=2027-03-05", vec!["high thing", "medium thing"]),
        // The weekly one is due next Monday (from its rule), this year.
        (
            "?due_to=2027-03-05",
            vec!["high thing", "urgent thing", "weekly thing"],
        ),
        ("?due_from=2027-03-02&due_to=2027-03-08", vec!["high thing"]),
        ("?recurring=true", vec!["weekly thing"]),
        (
            "?recurring=false&priority_at_least=medium",
            vec!["high thing", "medium thing", "urgent thing"],
        ),
    ] {
        let (status, list) = app.list_tasks(&user, query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(titles(&list), want, "{query}");
    }
    for (query, field) in [
        ("?due_from=2027-03-09&due_to=2027-03-01", "due_to"),
        ("?due_from=March", "due_from"),
        ("?priority_at_least=huge", "priority_at_least"),
        ("?recurring=maybe", "recurring"),
    ] {
        let (status, body) = app.list_tasks(&user, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
}
