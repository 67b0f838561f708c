//! RabbitMQ going away: the API keeps accepting chat (the outbox holds it),
//! both sides reconnect, and every message is answered exactly once.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use testkit::{TcpProxy, TestApp, fresh_database, start_mock, test_config};

/// An API that reaches PostgreSQL through a proxy the test can cut, and a
/// direct pool of the test's own to look at the outcome. Workers get
/// `via_proxy` as their DATABASE_URL.
pub(crate) struct BehindProxy {
    link: TcpProxy,
    db_name: String,
    pub direct: sqlx::PgPool,
    pub via_proxy: String,
    pub app: TestApp,
}

impl BehindProxy {
    pub(crate) async fn start(extra: &[(&str, &str)]) -> Self {
        let link = TcpProxy::start("127.0.0.1:5432").await;
        let (db_name, direct) = fresh_database().await;
        let via_proxy = format!("postgres://postgres@{}/{db_name}", link.addr);
        let mut overrides = vec![
            ("DATABASE_URL", via_proxy.as_str()),
            ("DATABASE_CONNECT_TIMEOUT_SECONDS", "2"),
        ];
        overrides.extend_from_slice(extra);
        let config = test_config(&db_name, &overrides);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(2))
            .connect(&via_proxy)
            .await
            .unwrap();
        let app = TestApp::spawn_on(config, pool).await;
        Self {
            link,
            db_name,
            direct,
            via_proxy,
            app,
        }
    }

    /// A restart: every session is terminated (57P01, as PostgreSQL does
    /// when it shuts down), then connections are refused for `down`.
    pub(crate) async fn restart(&self, down: Duration) {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&self.db_name)
        .execute(&self.direct)
        .await
        .unwrap();
        self.link.set(false);
        tokio::time::sleep(down).await;
        self.link.set(true);
    }
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The app's queue names, and a RabbitMQ connection of the test's own.
async fn own_connection(app: &TestApp) -> (todo_common::queue::Topology, lapin::Connection) {
    let conn = lapin::Connection::connect(
        app.config.broker.url.expose(),
        lapin::ConnectionProperties::default(),
    )
    .await
    .unwrap();
    (
        todo_common::queue::Topology::from_config(&app.config.broker),
        conn,
    )
}

async fn all_answered_none_failed(app: &TestApp) {
    app.wait_until_all_answered(Duration::from_secs(60)).await;
    let failed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE role = 'user' AND status = 'failed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(failed, 0, "no turn failed");
}

#[tokio::test]
async fn chat_is_accepted_while_the_broker_is_down_and_answered_once_after() {
    // API and worker reach RabbitMQ through proxies we can cut.
    let api_link = TcpProxy::start("127.0.0.1:5672").await;
    let worker_link = TcpProxy::start("127.0.0.1:5672").await;
    let (db_name, pool) = fresh_database().await;
    let url = |p: &TcpProxy| format!("amqp://guest:guest@{}/%2f", p.addr);
    let config = test_config(&db_name, &[("RABBITMQ_URL", &url(&api_link))]);
    let app = TestApp::spawn_on(config, pool).await;
    let mock = start_mock().await;
    let worker_url = url(&worker_link);
    let worker = app
        .spawn_worker(Some(&mock), &[("RABBITMQ_URL", worker_url.as_str())])
        .await;
    let user = app.signup("outage@example.com").await;
    let (_, warmup) = app
        .chat(&user, "add before the outage", None, Some(30))
        .await;
    assert_eq!(warmup["status"], "completed");

    // The broker disappears for both.
    api_link.set(false);
    worker_link.set(false);
    wait_until("the API notices", async || {
        let h: Value = app.call_for_json(Method::GET, "/health", None, None).await;
        h["broker_connected"] == false
    })
    .await;
    let res = app.call(Method::GET, "/health", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let h: Value = res.json().await.unwrap();
    assert_eq!(h["status"], "degraded");

    let mut ids = Vec::new();
    for i in 0..10 {
        let (status, body) = app
            .chat(&user, &format!("add during outage {i}"), None, None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "chat still accepted: {body}");
        ids.push(body["message_id"].as_str().unwrap().to_string());
    }
    // Only these: the warm-up's row, published, may still wait for the
    // batched clean-up of published rows.
    let during: Vec<uuid::Uuid> = ids.iter().map(|id| id.parse().unwrap()).collect();
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE message_id = ANY($1)")
        .bind(&during)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held, 10, "the outbox holds what could not be published");
    // Due for the relay at once, not after the grace meant for the post's
    // own publish (which already failed).
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE message_id = ANY($1) AND next_attempt_at > now()",
    )
    .bind(&during)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(waiting, 0, "every deferred turn is due for the relay now");

    // The broker comes back: the API reconnects and relays, the worker
    // reconnects and answers.
    api_link.set(true);
    worker_link.set(true);
    for id in &ids {
        let turn = app.wait_for_turn(&user, id).await;
        assert_eq!(turn["status"], "completed", "{turn}");
    }
    wait_until("the outbox drains", async || {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        n == 0
    })
    .await;
    let per_title: Vec<(String, i64)> =
        sqlx::query_as("SELECT title, count(*) FROM tasks GROUP BY title ORDER BY title")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(per_title.len(), 11);
    assert!(
        per_title.iter().all(|(_, n)| *n == 1),
        "each task exactly once: {per_title:?}"
    );
    let finals: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE is_final")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(finals, 11, "one answer per message");
    worker.stop().await;
}

#[tokio::test]
async fn worker_connections_cut_mid_run_lose_and_double_nothing() {
    let worker_link = TcpProxy::start("127.0.0.1:5672").await;
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(serde_json::json!({"latency_ms": 30})).await;
    let worker_url = format!("amqp://guest:guest@{}/%2f", worker_link.addr);
    let worker = app
        .spawn_worker(
            Some(&mock),
            &[
                ("RABBITMQ_URL", worker_url.as_str()),
                ("TURN_LEASE_SECONDS", "5"),
            ],
        )
        .await;
    let user = app.signup("flaky@example.com").await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let (_, body) = app
            .chat(&user, &format!("add flaky {i:02}"), None, None)
            .await;
        ids.push(body["message_id"].as_str().unwrap().to_string());
    }
    // Cut the worker's broker connection three times while it works.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        worker_link.set(false);
        tokio::time::sleep(Duration::from_millis(300)).await;
        worker_link.set(true);
    }
    for id in &ids {
        assert_eq!(app.wait_for_turn(&user, id).await["status"], "completed");
    }
    let dupes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT title FROM tasks GROUP BY title HAVING count(*) > 1) d",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((total, dupes), (30, 0));
    worker.stop().await;
}

#[tokio::test]
async fn turns_waiting_their_turn_survive_the_retry_queues_disappearing() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    mock.configure(serde_json::json!({"latency_ms": 100})).await;
    let worker = app
        .spawn_worker(Some(&mock), &[("WORKER_CONCURRENCY", "4")])
        .await;
    let user = app.signup("parked@example.com").await;
    // Answered with the worker connected (its topology declared).
    let (_, first) = app.chat(&user, "add parked 1", None, Some(30)).await;
    assert_eq!(first["status"], "completed");
    let conversation = first["conversation_id"].as_str().unwrap().to_string();

    // The queues that park waiting turns vanish (an operator, a policy, an
    // expiry): waiting turns must neither be lost nor failed.
    let (topology, conn) = own_connection(&app).await;
    let ch = conn.create_channel().await.unwrap();
    for delay in todo_common::queue::RetryDelay::ALL {
        ch.queue_delete(
            topology.retry_queue(delay).into(),
            lapin::options::QueueDeleteOptions::default(),
        )
        .await
        .unwrap();
    }
    let _ = conn.close(200, "done".into()).await;

    // Sent at once: all but the first wait behind an earlier one.
    for i in 2..=6 {
        app.chat(&user, &format!("add parked {i}"), Some(&conversation), None)
            .await;
    }
    all_answered_none_failed(&app).await;
    let titles: Vec<String> = sqlx::query_scalar("SELECT title FROM tasks ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let expected: Vec<String> = (1..=6).map(|i| format!("parked {i}")).collect();
    assert_eq!(titles, expected, "answered once each, in order");
    worker.stop().await;
}

#[tokio::test]
async fn queues_with_an_expiry_live_as_long_as_our_processes_run() {
    let expires = [("RABBITMQ_QUEUE_EXPIRES_SECONDS", "2")];
    let app = TestApp::spawn_with(&expires).await;
    let mock = start_mock().await;
    let worker = app.spawn_worker(Some(&mock), &expires).await;
    let user = app.signup("expiry@example.com").await;
    let (_, first) = app.chat(&user, "add before", None, Some(30)).await;
    assert_eq!(first["status"], "completed");

    // Several expiry periods pass; the retry queues have no consumer, yet
    // they are still there to park waiting turns.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (topology, conn) = own_connection(&app).await;
    let mut queues = vec![topology.turns_queue(), topology.dead_queue()];
    queues.extend(todo_common::queue::RetryDelay::ALL.map(|d| topology.retry_queue(d)));
    for queue in queues {
        // A passive declare fails (and closes the channel) if the queue is gone.
        let ch = conn.create_channel().await.unwrap();
        let found = ch
            .queue_declare(
                queue.clone().into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await;
        assert!(
            found.is_ok(),
            "{queue} expired while the services ran: {found:?}"
        );
    }
    let _ = conn.close(200, "done".into()).await;

    let conversation = first["conversation_id"].as_str().unwrap();
    for i in 1..=4 {
        app.chat(&user, &format!("add after {i}"), Some(conversation), None)
            .await;
    }
    all_answered_none_failed(&app).await;
    worker.stop().await;
}

#[tokio::test]
async fn postgres_restarting_under_chat_traffic_costs_503s_never_500s_and_loses_nothing() {
    const SENT: i64 = 60;
    let postgres = BehindProxy::start(&[("CHAT_RATE_LIMIT_PER_MINUTE", "1000")]).await;
    let (app, via_proxy, direct) = (
        &postgres.app,
        postgres.via_proxy.clone(),
        postgres.direct.clone(),
    );
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(Some(&mock), &[("DATABASE_URL", via_proxy.as_str())])
        .await;
    let user = app.signup("restart@example.com").await;

    // A steady stream of chat messages while the database restarts, each
    // retried with its Idempotency-Key until it is accepted, as a client
    // that reads Retry-After would.
    let sender = {
        let (http, base, user) = (app.http.clone(), app.base.clone(), user.clone());
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for n in 0..SENT {
                for _ in 0..100 {
                    let res = http
                        .post(format!("{base}/api/{}/chat", user.id))
                        .bearer_auth(&user.token)
                        .header("idempotency-key", format!("restart-{n}"))
                        .json(&serde_json::json!({ "message": format!("add chore {n}") }))
                        .send()
                        .await
                        .unwrap();
                    let status = res.status();
                    let retry_after = res.headers().contains_key("retry-after");
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    outcomes.push((status, retry_after, body));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if status == StatusCode::ACCEPTED {
                        break;
                    }
                }
            }
            outcomes
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    postgres.restart(Duration::from_secs(3)).await;

    let outcomes = sender.await.unwrap();
    let mut accepted = 0;
    let mut refused = 0;
    for (status, retry_after, body) in &outcomes {
        match *status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
                assert!(retry_after, "a 503 says when to retry");
            }
            other => panic!("{other} during the restart: {body}"),
        }
    }
    assert!(refused > 0, "the outage was felt ({accepted} accepted)");
    assert_eq!(accepted, SENT, "every message got through in the end");

    // Every message is answered, once, without restarting anything.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages WHERE role = 'user' AND status IN ('queued', 'processing')",
        )
        .fetch_one(&direct)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} turns still open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (stored, completed, answers, tasks): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages WHERE role = 'user'), \
                (SELECT count(*) FROM messages WHERE role = 'user' AND status = 'completed'), \
                (SELECT count(*) FROM messages WHERE role = 'assistant' AND is_final), \
                (SELECT count(*) FROM tasks)",
    )
    .fetch_one(&direct)
    .await
    .unwrap();
    // A post whose commit outlived its connection answered 503 and was
    // stored: its retry found it instead of storing it again.
    assert_eq!(stored, accepted, "every message stored once");
    assert_eq!(completed, accepted, "every one answered, none failed");
    assert_eq!(answers, accepted, "one answer each");
    assert_eq!(tasks, accepted, "one task each");
    let (_, after) = app
        .chat(&user, "add after the restart", None, Some(30))
        .await;
    assert_eq!(after["status"], "completed", "{after}");
    worker.stop().await;
}

/// The shared limiter lives in PostgreSQL. A session lost while the turn
/// reserves its slot there is the database's trouble, not the model's: the
/// turn waits for the database and is answered, never failed with "the
/// model is not answering" (what a restart did to a few turns before).
#[tokio::test]
async fn a_session_lost_in_the_rate_limiter_delays_the_turn_and_never_fails_it() {
    let app = TestApp::spawn().await;
    let mock = start_mock().await;
    // A configured limit makes every reservation update the limiter's rows.
    let worker = app
        .spawn_worker(Some(&mock), &[("OPENAI_RPM", "6000")])
        .await;
    let user = app.signup("limiter-session@example.com").await;

    // Hold the limiter's rows, so the worker's reservation waits on them...
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("SELECT key FROM rate_limits FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let (status, queued) = app.chat(&user, "add water the plants", None, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let mut waiting = None;
    wait_until("the reservation waits on the limiter's rows", async || {
        waiting = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '%UPDATE rate_limits%'",
        )
        .fetch_optional(&app.pool)
        .await
        .unwrap();
        waiting.is_some()
    })
    .await;
    // ...and end its session there, as a restart would, while every other
    // query of the worker still reaches the database.
    let pid: i32 = waiting.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&app.pool)
        .await
        .unwrap();
    holder.rollback().await.unwrap();

    let message_id = queued["message_id"].as_str().unwrap();
    let turn = app.wait_for_turn(&user, message_id).await;
    assert_eq!(turn["status"], "completed", "{turn}");
    let tasks: Vec<String> = sqlx::query_scalar("SELECT title FROM tasks")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(tasks, ["water the plants"], "added once");
    worker.stop().await;
}

/// Issue 19, the broker as a cluster: given every node's address, the API and
/// the worker connect to the first that answers and, when that node goes
/// away, move to another; turns go on being answered, each once. (Both
/// "nodes" here are proxies to this machine's one RabbitMQ: what is tested is
/// the clients' failover, not RabbitMQ's replication.)
#[tokio::test]
async fn with_several_broker_addresses_losing_the_node_in_use_moves_everyone_to_another() {
    let node_a = TcpProxy::start("127.0.0.1:5672").await;
    let node_b = TcpProxy::start("127.0.0.1:5672").await;
    // The first address refuses connections (a node that is down at start).
    let urls = format!(
        "amqp://guest:guest@127.0.0.1:1/%2f, amqp://guest:guest@{}/%2f, amqp://guest:guest@{}/%2f",
        node_a.addr, node_b.addr
    );
    let app = TestApp::spawn_with(&[("RABBITMQ_URL", urls.as_str())]).await;
    let mock = start_mock().await;
    let worker = app
        .spawn_worker(Some(&mock), &[("RABBITMQ_URL", urls.as_str())])
        .await;
    let user = app.signup("cluster@example.com").await;
    let (status, first) = app.chat(&user, "add first thing", None, Some(30)).await;
    assert_eq!(status, StatusCode::OK, "{first}");

    // The node both are connected through goes away for good.
    node_a.set(false);
    let conversation = first["conversation_id"].as_str().unwrap();
    let (status, second) = app
        .chat(&user, "add second thing", Some(conversation), Some(60))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "answered through the other node: {second}"
    );
    assert_eq!(second["status"], "completed");
    let (_, list) = app.list_tasks(&user, "?sort=title").await;
    let titles: Vec<&str> = list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["first thing", "second thing"], "each once");
    let health: Value = app.call_for_json(Method::GET, "/health", None, None).await;
    assert_eq!(health["broker_connected"], true, "{health}");
    worker.stop().await;
}
