//! Resuming an event stream from an id it never sent is a client error,
//! whatever the size of the number.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{EventStream, TestApp, TestUser, expect_error};

async fn resume(
    app: &TestApp,
    user: &TestUser,
    header: Option<&str>,
    query: &str,
) -> reqwest::Response {
    let mut req = app.request(
        Method::GET,
        &format!("/api/{}/events{query}", user.id),
        Some(&user.token),
    );
    if let Some(id) = header {
        req = req.header("last-event-id", id);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn ids_beyond_the_newest_are_refused_cleanly() {
    let app = TestApp::spawn().await;
    let user = app.signup("resume@example.com").await;
    app.create_task(&user, json!({"title": "one event"})).await;
    let newest: i64 = sqlx::query_scalar("SELECT last_event_seq FROM users WHERE id = $1")
        .bind(&user.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(newest >= 1);

    let max = i64::MAX.to_string();
    let next = (newest + 1).to_string();
    for (name, header, query) in [
        ("i64::MAX", Some(max.as_str()), String::new()),
        (
            "i64::MAX in the query",
            None,
            format!("?last_event_id={max}"),
        ),
        ("beyond i64", Some("9223372036854775808"), String::new()),
        (
            "far beyond i64",
            Some("99999999999999999999999999"),
            String::new(),
        ),
        ("one past the newest", Some(next.as_str()), String::new()),
        ("negative", Some("-1"), String::new()),
    ] {
        let res = resume(&app, &user, header, &query).await;
        let body = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(body["error"]["field"], "last_event_id", "{name}: {body}");
    }

    // The newest id itself, and older ones, resume as before.
    let mut stream = EventStream::open(&app, &user, "", Some(newest)).await;
    let mut older = EventStream::open(&app, &user, "", Some(newest - 1)).await;
    assert_eq!(older.next_durable().await.id, Some(newest));
    app.create_task(&user, json!({"title": "two"})).await;
    assert_eq!(stream.next_durable().await.id, Some(newest + 1));
}
