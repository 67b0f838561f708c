//! Crash recovery in seconds (issue 10): a worker that dies loses its turns
//! to another worker within 10 s with the default configuration; a worker
//! that is alive but slow keeps them; a worker cut off from PostgreSQL stops
//! a turn before its lease runs out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::BasicProperties;
use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use testkit::{TcpProxy, TestApp, start_mock};
use todo_common::chat::turns::{self, Claim, LeaseState};
use todo_common::queue::TurnJob;
use todo_common::queue::{Broker, Topology};
use todo_worker::lease::{Leases, Lost};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::procs::worker_process;

/// The goal: every turn of a dead worker is taken up within this.
const TAKEOVER_GOAL: Duration = Duration::from_secs(10);

/// Polls `check` every 50 ms until it holds (a generous deadline: only for
/// a test that would otherwise hang).
async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Consumers on the app's turn queue (one per running worker).
async fn turn_consumers(app: &TestApp) -> u32 {
    let conn = lapin::Connection::connect(
        app.config.broker.url.expose(),
        lapin::ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let ch = conn.create_channel().await.unwrap();
    let queue = ch
        .queue_declare(
            Topology::from_config(&app.config.broker)
                .turns_queue()
                .into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let _ = conn.close(200, "done".into()).await;
    queue.consumer_count()
}

/// (id, attempts, status) of every user message.
async fn turns_now(app: &TestApp) -> Vec<(Uuid, i32, String)> {
    sqlx::query_as("SELECT id, attempts, status FROM messages WHERE role = 'user' ORDER BY seq")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// Each user message has exactly one answer, and each "add" made one task.
async fn answered_exactly_once(app: &TestApp, turns: usize) {
    let finals: Vec<(i64,)> = sqlx::query_as(
        "SELECT count(f.id) FROM messages u LEFT JOIN messages f ON f.reply_to = u.id AND f.is_final \
         WHERE u.role = 'user' AND u.status = 'completed' GROUP BY u.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(finals.len(), turns, "every message completed");
    assert!(finals.iter().all(|(n,)| *n == 1), "one answer per message");
    let per_title: Vec<(String, i64)> =
        sqlx::query_as("SELECT title, count(*) FROM tasks GROUP BY title")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(per_title.len(), turns, "one task per add message");
    assert!(
        per_title.iter().all(|(_, n)| *n == 1),
        "no task created twice: {per_title:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_turns_are_taken_over_within_ten_seconds() {
    // Default configuration throughout: the goal is about the defaults.
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    const TURNS: usize = 3;
    // The victim's model calls hang: it is killed mid-call, holding all three.
    mock.fail(json!({ "hang_ms": 600_000, "count": TURNS }))
        .await;
    let mut victim = worker_process(&app, &mock, &[]);
    for i in 0..TURNS {
        // One user each, so the per-user share does not hold any back.
        let user = app.signup(&format!("victim{i}@example.com")).await;
        app.chat(&user, &format!("add recovered task {i}"), None, None)
            .await;
    }
    wait_until("the victim holds every turn, mid model call", async || {
        let claimed = turns_now(&app)
            .await
            .iter()
            .filter(|(_, attempts, status)| *attempts == 1 && status == "processing")
            .count();
        claimed == TURNS && mock.stats().await["requests"] == TURNS as u64
    })
    .await;
    let survivor = app.spawn_worker(Some(&mock), &[]).await;
    wait_until("the survivor consumes", async || {
        turn_consumers(&app).await == 2
    })
    .await;

    let killed = Instant::now();
    victim.kill().expect("SIGKILL the victim");
    let _ = victim.wait();
    // When each turn was first seen claimed again (by the survivor).
    let mut resumed: HashMap<Uuid, Duration> = HashMap::new();
    while resumed.len() < TURNS && killed.elapsed() < TAKEOVER_GOAL {
        for (id, attempts, _) in turns_now(&app).await {
            if attempts >= 2 {
                resumed.entry(id).or_insert_with(|| killed.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        resumed.len(),
        TURNS,
        "only {} of {TURNS} turns were taken over within {TAKEOVER_GOAL:?} of the kill ({resumed:?})",
        resumed.len()
    );
    eprintln!("taken over after {resumed:?}");

    app.wait_until_all_answered(Duration::from_secs(60)).await;
    answered_exactly_once(&app, TURNS).await;
    for (_, attempts, _) in turns_now(&app).await {
        assert_eq!(
            attempts, 2,
            "claimed by the victim, then once by the survivor"
        );
    }
    survivor.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_call_several_leases_long_never_loses_its_turn() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    // The first model call takes over three leases of 5 s.
    mock.fail(json!({ "hang_ms": 18_000 })).await;
    let lease = [("TURN_LEASE_SECONDS", "5")];
    let first = app.spawn_worker(Some(&mock), &lease).await;
    let second = app.spawn_worker(Some(&mock), &lease).await;
    let user = app.signup("slow@example.com").await;
    let (_, sent) = app.chat(&user, "add a slow task", None, None).await;
    let message_id: Uuid = sent["message_id"].as_str().unwrap().parse().unwrap();
    wait_until("the turn is mid model call", async || {
        mock.stats().await["requests"] == 1
    })
    .await;

    // Duplicate deliveries (as a relay re-publish makes) reach both workers
    // while the call hangs: each must find the turn still held.
    let job: TurnJob = {
        let (conversation_id, user_id): (Uuid, String) =
            sqlx::query_as("SELECT conversation_id, user_id FROM messages WHERE id = $1")
                .bind(message_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        serde_json::from_value(json!({
            "v": TurnJob::VERSION, "message_id": message_id,
            "conversation_id": conversation_id, "user_id": user_id,
        }))
        .unwrap()
    };
    let conn = lapin::Connection::connect(
        app.config.broker.url.expose(),
        lapin::ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let ch = conn.create_channel().await.unwrap();
    let body = serde_json::to_vec(&job).unwrap();
    for _ in 0..4 {
        ch.basic_publish(
            Topology::from_config(&app.config.broker).exchange().into(),
            "turns".into(),
            BasicPublishOptions::default(),
            &body,
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let _ = conn.close(200, "done".into()).await;

    let view = app.wait_for_turn(&user, &message_id.to_string()).await;
    assert_eq!(view["status"], "completed");
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 1, "the slow worker kept its turn: claimed once");
    answered_exactly_once(&app, 1).await;
    assert_eq!(
        mock.stats().await["requests"],
        2,
        "the model was asked once per round, never again by another worker"
    );
    first.stop().await;
    second.stop().await;
}

/// Posts `text` without waiting; the new turn's message id.
async fn queued(app: &TestApp, user: &testkit::TestUser, text: &str) -> Uuid {
    let (_, sent) = app.chat(user, text, None, None).await;
    sent["message_id"].as_str().unwrap().parse().unwrap()
}

/// A turn claimed for `leases`' process through `pool`, as the handler does.
async fn claim_for(
    leases: &Leases,
    pool: &sqlx::PgPool,
    live: &Arc<Broker>,
    message_id: Uuid,
) -> turns::Turn {
    match turns::claim(
        pool,
        live,
        message_id,
        leases.worker(),
        Duration::from_secs(5),
        2,
        20,
    )
    .await
    .unwrap()
    {
        Claim::Claimed(turn) => *turn,
        other => panic!("could not claim the turn: {other:?}"),
    }
}

async fn lease_until_is_future(app: &TestApp, message_id: Uuid) -> bool {
    sqlx::query_scalar("SELECT lease_until > clock_timestamp() FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_cut_off_from_postgres_stops_its_turn_before_the_lease_runs_out() {
    let app = TestApp::spawn().await;
    let user = app.signup("cut@example.com").await;
    let message_id = queued(&app, &user, "add a cut-off task").await;

    // The "worker": its leases, heartbeat and pool, the pool through a proxy.
    let link = TcpProxy::start("127.0.0.1:5432").await;
    let url =
        app.config
            .database
            .url
            .expose()
            .replacen("127.0.0.1:5432", &link.addr.to_string(), 1);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect(&url)
        .await
        .unwrap();
    let leases = Leases::new(pool.clone(), Duration::from_secs(5));
    let stop = CancellationToken::new();
    let heartbeat = leases.spawn(app.broker(), stop.clone());
    let claiming = Instant::now();
    let turn = claim_for(&leases, &pool, &app.broker(), message_id).await;
    let guard = leases.hold(&turn, claiming);

    // The heartbeat renews while PostgreSQL answers, past the first lease.
    let first: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT lease_until FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    wait_until("the heartbeat renews the lease", async || {
        let now: chrono::DateTime<chrono::Utc> =
            sqlx::query_scalar("SELECT lease_until FROM messages WHERE id = $1")
                .bind(message_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        now > first
    })
    .await;

    // Cut off: the turn must stop while PostgreSQL still counts it as ours.
    link.set(false);
    let lost = tokio::time::timeout(Duration::from_secs(60), guard.lost())
        .await
        .expect("the turn stops");
    assert_eq!(lost, Lost::Expired);
    assert!(
        lease_until_is_future(&app, message_id).await,
        "stopped before the lease ran out in PostgreSQL"
    );
    drop(guard);

    // Once it has run out, another worker may claim the turn.
    let other = Leases::new(app.pool.clone(), Duration::from_secs(5));
    wait_until("the lease runs out", async || {
        !lease_until_is_future(&app, message_id).await
    })
    .await;
    let taken = claim_for(&other, &app.pool, &app.broker(), message_id).await;
    assert_eq!(taken.attempts, 2);
    stop.cancel();
    let _ = heartbeat.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_tells_a_turn_it_was_taken_over() {
    let app = TestApp::spawn().await;
    let user = app.signup("taken@example.com").await;
    let message_id = queued(&app, &user, "add a taken task").await;
    let leases = Leases::new(app.pool.clone(), Duration::from_secs(5));
    let stop = CancellationToken::new();
    let heartbeat = leases.spawn(app.broker(), stop.clone());
    let claiming = Instant::now();
    let turn = claim_for(&leases, &app.pool, &app.broker(), message_id).await;
    let guard = leases.hold(&turn, claiming);
    // Someone else owns it now (as after a re-drive and a claim elsewhere).
    sqlx::query("UPDATE messages SET lease_owner = 'another.worker' WHERE id = $1")
        .bind(message_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let lost = tokio::time::timeout(Duration::from_secs(60), guard.lost())
        .await
        .expect("the turn stops");
    assert_eq!(lost, Lost::TakenOver);
    stop.cancel();
    let _ = heartbeat.await;
}

/// Issue 24: the heartbeat that ran between a turn's final answer and the
/// end of its run logged "taken over by another worker" with one worker, and
/// cut the answer's COMMIT short ("there is no transaction in progress").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_answered_under_its_lease_is_never_taken_for_lost() {
    let app = TestApp::spawn().await;
    let user = app.signup("answered@example.com").await;
    let message_id = queued(&app, &user, "add an answered task").await;
    let leases = Leases::new(app.pool.clone(), Duration::from_secs(5));
    let turn = claim_for(&leases, &app.pool, &app.broker(), message_id).await;
    let lease = Duration::from_secs(5);
    let held = [(message_id, turn.lease_owner.clone())];
    let state = async || turns::renew_all(&app.pool, &held, lease).await.unwrap()[0].1;

    assert_eq!(state().await, LeaseState::Renewed, "running: renewed");
    assert!(
        turns::finish(&app.pool, &app.broker(), &turn, "Done.", json!({}))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        state().await,
        LeaseState::Finished,
        "answered under this claim"
    );
    // The answer's COMMIT lands while the renewal waits on the row's lock:
    // still finished, never lost.
    let message_id = queued(&app, &user, "add a task answered mid-beat").await;
    let turn = claim_for(&leases, &app.pool, &app.broker(), message_id).await;
    let held = [(message_id, turn.lease_owner.clone())];
    let mut answering = app.pool.begin().await.unwrap();
    sqlx::query("UPDATE messages SET status = 'completed', lease_until = NULL WHERE id = $1")
        .bind(message_id)
        .execute(&mut *answering)
        .await
        .unwrap();
    let renewing = tokio::spawn({
        let (pool, held) = (app.pool.clone(), held.clone());
        async move { turns::renew_all(&pool, &held, lease).await.unwrap()[0].1 }
    });
    wait_until("the renewal waits for the answer", async || {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '%SET lease_until = now() + $3%'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
            == 1
    })
    .await;
    answering.commit().await.unwrap();
    assert_eq!(renewing.await.unwrap(), LeaseState::Finished);

    let stranger = [(message_id, "another.claim".to_string())];
    assert_eq!(
        turns::renew_all(&app.pool, &stranger, lease).await.unwrap()[0].1,
        LeaseState::Lost,
        "a claim that did not answer it has lost it"
    );

    // And through the heartbeat: a guard held past the answer is not told
    // it was taken over, over several beats (one a second).
    let user2 = app.signup("answered2@example.com").await;
    let message_id = queued(&app, &user2, "add another task").await;
    let stop = CancellationToken::new();
    let heartbeat = leases.spawn(app.broker(), stop.clone());
    let claiming = Instant::now();
    let turn = claim_for(&leases, &app.pool, &app.broker(), message_id).await;
    let guard = leases.hold(&turn, claiming);
    assert!(
        turns::finish(&app.pool, &app.broker(), &turn, "Done.", json!({}))
            .await
            .unwrap()
            .is_some()
    );
    let beats = leases.interval() * 5; // past the first lease, too
    assert!(
        tokio::time::timeout(beats, guard.lost()).await.is_err(),
        "a finished turn's guard was stopped"
    );
    stop.cancel();
    let _ = heartbeat.await;
}
