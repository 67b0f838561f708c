//! Reminders on tasks (issue 21): at an instant or before the due date,
//! each reported with its resolved time; relative ones follow the task.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn reminders_resolve_follow_the_task_and_refuse_what_cannot_be() {
    let app = TestApp::spawn().await;
    let user = app
        .signup_in("reminders@example.com", "Europe/Berlin")
        .await;
    let task = app
        .create_task(
            &user,
            json!({"title": "call mom", "due_at": "2027-01-08T18:00",
                   "reminders": [{"before_due_minutes": 30}, {"at": "2027-01-01T09:00:00Z"}]}),
        )
        .await;
    assert_eq!(
        task["reminders"],
        json!([
            {"at": "2027-01-08T16:30:00Z", "before_due_minutes": 30, "fired_at": null},
            {"at": "2027-01-01T09:00:00Z", "before_due_minutes": null, "fired_at": null},
        ])
    );
    let path = format!("/api/{}/tasks/{}", user.id, task["id"]);
    let put = |body: Value| {
        let app = &app;
        let path = path.clone();
        let token = user.token.clone();
        async move { app.send_json(Method::PUT, &path, Some(&token), &body).await }
    };

    // Moved a day: the relative one follows, the fixed one stays.
    let res = put(json!({"due_at": "2027-01-09T18:00"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["reminders"][0]["at"], "2027-01-09T16:30:00Z");
    assert_eq!(moved["reminders"][1]["at"], "2027-01-01T09:00:00Z");
    // All day: 30 minutes before 09:00 on the day, in Berlin.
    let res = put(json!({"due_date": "2027-01-10"})).await;
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["reminders"][0]["at"], "2027-01-10T07:30:00Z");
    // A new zone moves an all-day task's relative reminder to 08:30 there.
    app.set_time_zone(&user, "America/New_York").await;
    let now = app
        .call_for_json(Method::GET, &path, Some(&user.token), None)
        .await;
    assert_eq!(now["reminders"][0]["at"], "2027-01-10T13:30:00Z");
    // No longer due: relative reminders go, fixed ones stay.
    let res = put(json!({"due_date": null})).await;
    let undated: Value = res.json().await.unwrap();
    assert_eq!(undated["reminders"].as_array().unwrap().len(), 1);
    // null removes them all.
    let res = put(json!({"reminders": null})).await;
    let none: Value = res.json().await.unwrap();
    assert_eq!(none["reminders"], json!([]));

    for (body, field) in [
        (
            json!({"title": "x", "reminders": [{"before_due_minutes": 10}]}),
            "reminders.before_due_minutes",
        ),
        (
            json!({"title": "x", "reminders": [{"at": "soon"}]}),
            "reminders.at",
        ),
        (
            json!({"title": "x", "due_date": "2027-01-01", "reminders": [{"before_due_minutes": -1}]}),
            "reminders.before_due_minutes",
        ),
        (json!({"title": "x", "reminders": [{}]}), "reminders"),
        (
            json!({"title": "x", "reminders": vec![json!({"at": "2027-01-01T09:00:00Z"}); 11]}),
            "reminders",
        ),
    ] {
        let err = app.create_task_refused(&user, &body).await;
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(list["tasks"].as_array().unwrap().len(), 1, "nothing stored");
}
