//! The reminder scheduler (issue 21): a reminder fires once, at its time and
//! never before, with its message in the user's latest conversation and a
//! `reminder.due` event; missed ones fire once on recovery, marked late and
//! collapsed per task; and SIGKILLed workers neither lose nor repeat one.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use testkit::{TestApp, TestUser, start_mock};

use crate::outages::BehindProxy;
use crate::procs::worker_process;

async fn reminder_events(app: &TestApp) -> Vec<(Value, DateTime<Utc>)> {
    sqlx::query_as("SELECT data, created_at FROM events WHERE type = 'reminder.due' ORDER BY seq")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

async fn wait_for_events(
    app: &TestApp,
    count: usize,
    within: Duration,
) -> Vec<(Value, DateTime<Utc>)> {
    let deadline = Instant::now() + within;
    loop {
        let events = reminder_events(app).await;
        if events.len() >= count || Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn task(app: &TestApp, user: &TestUser, id: &Value) -> Value {
    app.call_for_json(
        reqwest::Method::GET,
        &format!("/api/{}/tasks/{id}", user.id),
        Some(&user.token),
        None,
    )
    .await
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_reminder_fires_once_at_its_time_and_never_before() {
    let app = TestApp::spawn().await;
    let user = app.signup_in("remind@example.com", "Europe/Berlin").await;
    let worker = app.spawn_worker(None, &[]).await;
    let (_, turn) = app.chat(&user, "add buy milk", None, Some(30)).await;
    let conversation = turn["conversation_id"].clone();

    let at = Utc::now() + chrono::Duration::seconds(3);
    let due = Utc::now() + chrono::Duration::hours(2);
    let created = app
        .create_task(
            &user,
            json!({"title": "call mom", "due_at": due.to_rfc3339(),
                   "reminders": [{"at": at.to_rfc3339()}, {"before_due_minutes": 30}]}),
        )
        .await;
    assert_eq!(instant(&created["reminders"][0]["at"]), at);
    assert_eq!(
        instant(&created["reminders"][1]["at"]),
        due - chrono::Duration::minutes(30)
    );

    // A second before its time: nothing yet.
    let before = at - chrono::Duration::seconds(1) - Utc::now();
    tokio::time::sleep(before.to_std().unwrap_or_default()).await;
    assert!(reminder_events(&app).await.is_empty(), "fired early");
    assert_eq!(
        task(&app, &user, &created["id"]).await["reminders"][0]["fired_at"],
        Value::Null
    );

    let events = wait_for_events(&app, 1, Duration::from_secs(10)).await;
    assert_eq!(events.len(), 1, "the reminder fired");
    let (event, recorded) = &events[0];
    assert!(
        *recorded >= at,
        "recorded at {recorded}, before its time {at}"
    );
    assert!(instant(&event["fired_at"]) >= at);
    assert_eq!(instant(&event["at"]), at);
    assert_eq!(event["late"], false);
    assert_eq!(event["reminders"], 1);
    assert_eq!(event["task_id"], created["id"]);
    // The message is in the latest conversation, on the user's clock.
    let local = todo_common::domain::TimeZone::parse("Europe/Berlin")
        .unwrap()
        .local(due);
    let expected = format!("Reminder: call mom at {}", local.format("%H:%M"));
    assert!(
        event["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with(&expected),
        "{event}"
    );
    assert_eq!(event["message"]["conversation_id"], conversation);
    assert_eq!(event["message"]["role"], "assistant");

    // Once: nothing more, and the task says which fired.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reminder_events(&app).await.len(), 1);
    let now = task(&app, &user, &created["id"]).await;
    assert!(!now["reminders"][0]["fired_at"].is_null());
    assert_eq!(now["reminders"][1]["fired_at"], Value::Null);
    worker.stop().await;
}

#[tokio::test]
async fn reminders_missed_while_down_fire_once_on_recovery_marked_late_and_collapsed() {
    let app = TestApp::spawn().await;
    let user = app.signup("missed@example.com").await;
    let ago = |minutes: i64| (Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339();
    // Nothing runs the scheduler while these come due.
    let three = app
        .create_task(
            &user,
            json!({"title": "stand up", "reminders": [{"at": ago(10)}, {"at": ago(5)}, {"at": ago(2)}]}),
        )
        .await;
    let one = app
        .create_task(
            &user,
            json!({"title": "stretch", "reminders": [{"at": ago(180)}]}),
        )
        .await;

    let worker = app.spawn_worker(None, &[]).await;
    let events = wait_for_events(&app, 2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let events_after = reminder_events(&app).await;
    assert_eq!(
        events_after.len(),
        2,
        "one per task, once: {events_after:?}"
    );
    let of = |id: &Value| {
        events
            .iter()
            .map(|(e, _)| e)
            .find(|e| e["task_id"] == *id)
            .cloned()
            .unwrap()
    };
    let collapsed = of(&three["id"]);
    assert_eq!(collapsed["reminders"], 3);
    assert_eq!(collapsed["late"], true);
    assert_eq!(
        collapsed["at"], three["reminders"][2]["at"],
        "the latest of the three"
    );
    assert!(
        collapsed["message"]["content"]
            .as_str()
            .unwrap()
            .contains("(late: this was for")
    );
    assert_eq!(of(&one["id"])["reminders"], 1);
    // A user without a conversation gets one for their reminders.
    let titles: Vec<String> = sqlx::query_scalar("SELECT title FROM conversations")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(titles, ["Reminders"]);
    for t in [&three, &one] {
        let now = task(&app, &user, &t["id"]).await;
        let reminders = now["reminders"].as_array().unwrap();
        assert!(reminders.iter().all(|r| !r["fired_at"].is_null()), "{now}");
    }
    worker.stop().await;
}

/// A pseudo-random delay without a RNG dependency.
fn random_ms(low: u64, high: u64) -> u64 {
    low + (uuid::Uuid::new_v4().as_u128() % u128::from(high - low)) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_fire_exactly_once_while_workers_are_killed() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    let users = [
        app.signup("kill-a@example.com").await,
        app.signup("kill-b@example.com").await,
        app.signup("kill-c@example.com").await,
    ];
    const TASKS: usize = 150;
    // Due one after another over about six seconds, from two seconds on.
    let start = Utc::now() + chrono::Duration::seconds(4);
    for i in 0..TASKS {
        let at = start + chrono::Duration::milliseconds(40 * i as i64);
        app.create_task(
            &users[i % users.len()],
            json!({"title": format!("reminded {i:03}"), "reminders": [{"at": at.to_rfc3339()}]}),
        )
        .await;
    }

    // Two workers, one of them SIGKILLed and restarted again and again.
    let _steady = worker_process(&app, &mock, &[]);
    let mut victim = worker_process(&app, &mock, &[]);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let fired: i64 =
            sqlx::query_scalar("SELECT count(*) FROM tasks WHERE next_reminder_at IS NULL")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if fired as usize == TASKS && Utc::now() > start + chrono::Duration::seconds(7) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{fired} of {TASKS} fired after {kills} kills"
        );
        tokio::time::sleep(Duration::from_millis(random_ms(100, 500))).await;
        if kills < 20 {
            victim.kill().expect("SIGKILL the worker");
            let _ = victim.wait();
            kills += 1;
            victim = worker_process(&app, &mock, &[]);
        }
    }
    // Let any straggling worker finish a round it might have had.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(kills >= 5, "the test killed the worker only {kills} times");

    let events = reminder_events(&app).await;
    assert_eq!(events.len(), TASKS, "one reminder.due per reminder");
    let mut tasks: Vec<(String, i64)> = events
        .iter()
        .map(|(e, _)| {
            (
                e["title"].as_str().unwrap().to_string(),
                e["task_id"].as_i64().unwrap(),
            )
        })
        .collect();
    tasks.sort();
    tasks.dedup();
    assert_eq!(tasks.len(), TASKS, "no reminder fired twice");
    for (event, recorded) in &events {
        let at = instant(&event["at"]);
        assert!(
            instant(&event["fired_at"]) >= at && *recorded >= at,
            "early: {event}"
        );
    }
    let messages: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE role = 'assistant' AND content LIKE 'Reminder: reminded %'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(messages as usize, TASKS, "one message per reminder");
    eprintln!("{kills} kills, {TASKS} reminders fired once each");
}

#[tokio::test]
async fn reminders_due_while_postgres_restarts_fire_once_when_it_is_back() {
    const TASKS: usize = 40;
    let postgres = BehindProxy::start(&[]).await;
    let (app, via_proxy, direct) = (
        &postgres.app,
        postgres.via_proxy.clone(),
        postgres.direct.clone(),
    );
    let worker = app
        .spawn_worker(None, &[("DATABASE_URL", via_proxy.as_str())])
        .await;
    let user = app.signup("pg-restart@example.com").await;
    // Due one after another over two seconds, from three seconds on: some
    // before the outage, most during it.
    let start = Utc::now() + chrono::Duration::seconds(3);
    for i in 0..TASKS {
        let at = start + chrono::Duration::milliseconds(50 * i as i64);
        app.create_task(
            &user,
            json!({"title": format!("through {i:02}"), "reminders": [{"at": at.to_rfc3339()}]}),
        )
        .await;
    }
    let wait = start + chrono::Duration::milliseconds(300) - Utc::now();
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    postgres.restart(Duration::from_secs(4)).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM tasks WHERE next_reminder_at IS NOT NULL")
                .fetch_one(&direct)
                .await
                .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} reminders not fired after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events: Vec<Value> =
        sqlx::query_scalar("SELECT data FROM events WHERE type = 'reminder.due' ORDER BY seq")
            .fetch_all(&direct)
            .await
            .unwrap();
    assert_eq!(events.len(), TASKS, "each reminder once");
    let mut ids: Vec<i64> = events
        .iter()
        .map(|e| e["task_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), TASKS);
    for e in &events {
        assert!(instant(&e["fired_at"]) >= instant(&e["at"]), "early: {e}");
    }
    worker.stop().await;
}
