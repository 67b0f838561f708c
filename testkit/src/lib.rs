//! Test support: the real API in-process on a port-0 listener, against a
//! fresh PostgreSQL database per test and its own RabbitMQ names, and a
//! small typed client to talk to it. Only the model is replaced, by
//! `mock-openai` over real HTTP.

use std::collections::HashMap;
use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use todo_common::{ApiConfig, WorkerConfig, db};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The shared secret test tokens are signed with (BETTER_AUTH_SECRET).
pub const TEST_SECRET: &str = "test-only-secret-0123456789abcdefghijklmnop";

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Replaces the database name of `base` with `name`.
pub fn url_for(name: &str) -> String {
    let base = admin_url();
    let (head, _) = base.rsplit_once('/').expect("URL has a database part");
    format!("{head}/{name}")
}

/// A fresh, migrated database. Databases of earlier runs (older than an
/// hour) are dropped the first time, so runs do not pile them up.
pub async fn fresh_database() -> (String, PgPool) {
    let name = empty_database().await;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&url_for(&name))
        .await
        .expect("connect to test database");
    db::migrate_up(&pool, None).await.expect("migrations apply");
    (name, pool)
}

/// A fresh database without any migration applied; returns its name.
pub async fn empty_database() -> String {
    static SWEEP: Once = Once::new();
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("PostgreSQL is up");
    let mut sweep = false;
    SWEEP.call_once(|| sweep = true);
    if sweep {
        let old: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'todo_test_%' \
             AND split_part(datname, '_', 3)::bigint < extract(epoch FROM now())::bigint - 3600",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap_or_default();
        for name in old {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .await;
        }
    }
    let name = format!(
        "todo_test_{}_{}",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await
        .expect("create test database");
    name
}

pub fn test_config(db_name: &str, overrides: &[(&str, &str)]) -> ApiConfig {
    let mut vars: HashMap<String, String> = [
        ("ENVIRONMENT", "test"),
        ("BETTER_AUTH_SECRET", TEST_SECRET),
        ("SECRET_KEY", "test-only-secret-key-for-throttle-hmacs-0001"),
        ("LOG_LEVEL", "warn"),
        ("ALLOWED_ORIGINS", "https://app.example.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert("DATABASE_URL".into(), url_for(db_name));
    // Each test gets its own exchanges and queues; RabbitMQ drops them after
    // ten idle minutes so runs do not accumulate them.
    vars.insert(
        "RABBITMQ_PREFIX".into(),
        format!(
            "t{}_{}",
            chrono::Utc::now().timestamp(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
    );
    vars.insert("RABBITMQ_QUEUE_EXPIRES_SECONDS".into(), "600".into());
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    ApiConfig::from_vars(vars).expect("test configuration is valid")
}

pub struct TestApp {
    /// False for peers: the first instance removes the shared queues.
    owns_topology: bool,
    pub base: String,
    /// The MCP server's `http://host:port` (when MCP_ENABLED); MCP is at `/mcp`.
    pub mcp_base: Option<String>,
    /// The configuration the app runs with (workers reuse its database and queue names).
    pub config: ApiConfig,
    pub pool: PgPool,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let (db_name, pool) = fresh_database().await;
        let config = test_config(&db_name, overrides);
        Self::spawn_on(config, pool).await
    }

    /// Runs the app with an explicit config and pool (e.g. a pool through a proxy).
    pub async fn spawn_on(config: ApiConfig, pool: PgPool) -> Self {
        todo_common::install_tls_provider();
        // No SENTRY_DSN in tests: the guard holds nothing.
        let _ = todo_common::telemetry::init(&config.general, &config.observability);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // The MCP server too (MCP_ENABLED), on its own port 0.
        let mcp = match config.mcp.enabled {
            true => Some(TcpListener::bind("127.0.0.1:0").await.unwrap()),
            false => None,
        };
        let mcp_base = mcp
            .as_ref()
            .map(|l| format!("http://{}", l.local_addr().unwrap()));
        let shutdown = CancellationToken::new();
        let listeners = todo_api::startup::Listeners { api: listener, mcp };
        let server = tokio::spawn(todo_api::startup::run_with(
            config.clone(),
            pool.clone(),
            listeners,
            shutdown.clone(),
        ));
        let app = Self {
            owns_topology: true,
            config,
            base,
            mcp_base,
            pool,
            http: reqwest::Client::new(),
            shutdown,
            server,
        };
        app.wait_for_broker().await;
        app
    }

    /// A second API instance on its own port, sharing this one's database
    /// and RabbitMQ names (as replicas behind a load balancer do).
    pub async fn spawn_peer(&self) -> TestApp {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(self.config.database.url.expose())
            .await
            .expect("peer pool");
        let mut peer = TestApp::spawn_on(self.config.clone(), pool).await;
        peer.owns_topology = false;
        peer
    }

    /// A RabbitMQ client on this app's queue names, not connected yet (a
    /// worker's heartbeat connects it as it needs).
    pub fn broker(&self) -> std::sync::Arc<todo_common::queue::Broker> {
        todo_common::queue::Broker::new(
            self.config.broker.url.clone(),
            todo_common::queue::Topology::from_config(&self.config.broker),
        )
    }

    /// As [`Self::broker`], connected and kept so until `life` is cancelled
    /// (to publish as a worker would).
    pub async fn connected_broker(
        &self,
        life: &CancellationToken,
    ) -> std::sync::Arc<todo_common::queue::Broker> {
        let broker = self.broker();
        broker.spawn_maintainer(life.clone());
        assert!(
            broker.wait_connected(Duration::from_secs(10)).await,
            "could not connect to RabbitMQ"
        );
        broker
    }

    /// Polls /health until the API reports its RabbitMQ connection up.
    pub async fn wait_for_broker(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let health: Value = self.call_for_json(Method::GET, "/health", None, None).await;
            if health["broker_connected"] == true {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the API never connected to RabbitMQ: {health}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A worker configuration for this app's database and queues, talking to
    /// `mock` (or the offline assistant when None).
    pub fn worker_config(&self, mock: Option<&Mock>, overrides: &[(&str, &str)]) -> WorkerConfig {
        let mut vars: HashMap<String, String> = HashMap::new();
        for (k, v) in [
            ("ENVIRONMENT", "test"),
            ("LOG_LEVEL", "warn"),
            ("DATABASE_URL", self.config.database.url.expose()),
            ("RABBITMQ_PREFIX", self.config.broker.prefix.as_str()),
            ("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600"),
            ("OPENAI_API_KEY", "sk-test-not-a-real-key"),
        ] {
            vars.insert(k.into(), v.into());
        }
        if let Some(mock) = mock {
            vars.insert("OPENAI_BASE_URL".into(), mock.url.clone());
            // Tests with a mock test the model's path; hybrid is tested on purpose.
            vars.insert("ASSISTANT_MODE".into(), "model".into());
        } else {
            vars.remove("OPENAI_API_KEY");
        }
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        WorkerConfig::from_vars(vars).expect("worker test configuration is valid")
    }

    /// Runs a worker in this process until the returned handle is stopped.
    pub async fn spawn_worker(&self, mock: Option<&Mock>, overrides: &[(&str, &str)]) -> Worker {
        let config = self.worker_config(mock, overrides);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(config.database.url.expose())
            .await
            .expect("worker pool");
        let token = CancellationToken::new();
        let handle = tokio::spawn(todo_worker::run(config, pool, token.clone()));
        Worker { token, handle }
    }

    /// POST /chat, optionally with `Prefer: wait=N`.
    pub async fn chat(
        &self,
        user: &TestUser,
        message: &str,
        conversation_id: Option<&str>,
        wait: Option<u64>,
    ) -> (StatusCode, Value) {
        let mut body = json!({ "message": message });
        if let Some(c) = conversation_id {
            body["conversation_id"] = json!(c);
        }
        let mut req = self
            .request(
                Method::POST,
                &format!("/api/{}/chat", user.id),
                Some(&user.token),
            )
            .json(&body);
        if let Some(secs) = wait {
            req = req.header("prefer", format!("wait={secs}"));
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Polls until no user message is queued or processing any more.
    pub async fn wait_until_all_answered(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM messages WHERE role = 'user' AND status IN ('queued', 'processing')",
            )
            .fetch_one(&self.pool)
            .await
            .unwrap();
            if open == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "{open} turns still open");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls a turn until it is completed or failed (deadline 60 s).
    pub async fn wait_for_turn(&self, user: &TestUser, message_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let view = self
                .call_for_json(
                    Method::GET,
                    &format!("/api/{}/chat/{message_id}", user.id),
                    Some(&user.token),
                    None,
                )
                .await;
            if view["status"] == "completed" || view["status"] == "failed" {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "turn {message_id} never finished: {view}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req
    }

    /// A request without a body.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>) -> Response {
        self.request(method, path, token).send().await.unwrap()
    }

    /// A request (with an optional JSON body) whose JSON answer is returned.
    pub async fn call_for_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Value {
        let mut req = self.request(method, path, token);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap().json().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn signup(&self, email: &str) -> TestUser {
        let res = self
            .send_json(
                Method::POST,
                "/api/auth/signup",
                None,
                &json!({ "email": email, "password": "correct horse battery", "name": "Test" }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "signup of {email}");
        let body: Value = res.json().await.unwrap();
        TestUser {
            id: body["user"]["id"].as_str().unwrap().to_string(),
            token: body["token"].as_str().unwrap().to_string(),
        }
    }

    /// Signs up a user living in `zone`.
    pub async fn signup_in(&self, email: &str, zone: &str) -> TestUser {
        let user = self.signup(email).await;
        self.set_time_zone(&user, zone).await;
        user
    }

    /// Sets the user's time zone through the API.
    pub async fn set_time_zone(&self, user: &TestUser, zone: &str) {
        let res = self
            .send_json(
                Method::PATCH,
                "/api/auth/me",
                Some(&user.token),
                &json!({ "time_zone": zone }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "time zone {zone}");
    }

    /// Creates a task through the API and returns its JSON.
    pub async fn create_task(&self, user: &TestUser, body: Value) -> Value {
        let res = self
            .send_json(
                Method::POST,
                &format!("/api/{}/tasks", user.id),
                Some(&user.token),
                &body,
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "create task {body}");
        res.json().await.unwrap()
    }

    /// Sends a task the API must refuse as invalid; returns the error body.
    pub async fn create_task_refused(&self, user: &TestUser, body: &Value) -> Value {
        let res = self
            .send_json(
                Method::POST,
                &format!("/api/{}/tasks", user.id),
                Some(&user.token),
                body,
            )
            .await;
        expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await
    }

    pub async fn list_tasks(&self, user: &TestUser, query: &str) -> (StatusCode, Value) {
        let res = self
            .request(
                Method::GET,
                &format!("/api/{}/tasks{query}", user.id),
                Some(&user.token),
            )
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// Asserts the error envelope and returns it.
pub async fn expect_error(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let body: Value = res.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    body
}

/// A JWT signed with the shared secret, with the claims given.
pub fn hs_token(alg: jsonwebtoken::Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A time zone whose date is not UTC's right now, and its date: a day
/// behind before 10:00 UTC (Pago Pago, UTC-11), a day ahead from then on
/// (Kiritimati, UTC+14). Neither zone's midnight falls near those hours, so
/// the date cannot change between a test and what it checks.
pub fn zone_off_utc_date() -> (&'static str, chrono::NaiveDate) {
    use chrono::Timelike;
    let now = chrono::Utc::now();
    let zone = if now.hour() < 10 {
        "Pacific/Pago_Pago"
    } else {
        "Pacific/Kiritimati"
    };
    let local = todo_common::domain::TimeZone::parse(zone)
        .expect("a tz database name")
        .local(now)
        .date_naive();
    assert_ne!(local, now.date_naive());
    (zone, local)
}

/// A port on 127.0.0.1 free right now that nobody else is about to be
/// given: it lies below the kernel's ephemeral range (32768 and up on
/// Linux), which `bind(0)` and every outgoing connection draw from. A port
/// freed from `bind(0)` can be taken by a parallel test's database
/// connection before the process it was meant for binds it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let port = 20_000 + (h.finish() % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// mock-openai, in this process, over real HTTP on a random port.
pub struct Mock {
    /// Base URL for OPENAI_BASE_URL (ends in /v1).
    pub url: String,
    pub state: mock_openai::MockState,
}

impl Mock {
    fn admin(&self, path: &str) -> String {
        format!("{}/_mock/{path}", self.url.trim_end_matches("/v1"))
    }

    /// POST /_mock/config, e.g. `{"latency_ms": 50, "behaviour": "loop_tools"}`.
    pub async fn configure(&self, config: Value) {
        let res = reqwest::Client::new()
            .post(self.admin("config"))
            .json(&config)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success(),
            "mock config refused: {}",
            res.status()
        );
    }

    /// POST /_mock/fail, e.g. `{"status": 429, "count": 2, "retry_after_ms": 10}`.
    pub async fn fail(&self, failure: Value) {
        let res = reqwest::Client::new()
            .post(self.admin("fail"))
            .json(&failure)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success(),
            "mock failure refused: {}",
            res.status()
        );
    }

    /// GET /_mock/stats.
    pub async fn stats(&self) -> Value {
        reqwest::Client::new()
            .get(self.admin("stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub async fn start_mock() -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let state = mock_openai::MockState::new();
    tokio::spawn(mock_openai::serve(listener, state.clone()));
    Mock { url, state }
}

/// A worker running in this process.
pub struct Worker {
    pub token: CancellationToken,
    pub handle: tokio::task::JoinHandle<Result<(), todo_worker::StartError>>,
}

impl Worker {
    /// SIGTERM-like stop: stop consuming, drain, return.
    pub async fn stop(self) {
        self.token.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(40), self.handle).await;
    }
}

/// A child process (one of our binaries) whose output lines are collected,
/// so a test can wait for what it logs. Killed when dropped.
pub struct LoggedProcess {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl LoggedProcess {
    /// Starts `cmd` with stdout and stderr captured.
    pub fn spawn(mut cmd: std::process::Command) -> Self {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the binary");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let out: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for pipe in [out, err] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Self { child, lines }
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits until a line contains `needle`; panics with the output if it
    /// does not appear within `within`.
    pub async fn wait_for_line(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self
            .lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
        {
            assert!(
                Instant::now() < deadline,
                "never printed `{needle}`; output:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the process to exit by itself; its exit code.
    pub async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "still running; output:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for LoggedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy that can cut every connection and refuse new ones, like a
/// server (PostgreSQL, RabbitMQ) going away, or freeze them (a network
/// partition: connections stay open and nothing crosses), and come back.
pub struct TcpProxy {
    pub addr: std::net::SocketAddr,
    mode: tokio::sync::watch::Sender<ProxyMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyMode {
    Up,
    Down,
    Frozen,
}

impl TcpProxy {
    pub async fn start(target: &str) -> Self {
        let target = target.to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = tokio::sync::watch::channel(ProxyMode::Up);
        let state = mode.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut rx = state.subscribe();
                let target = target.clone();
                tokio::spawn(async move {
                    // Held open until the freeze ends, then closed.
                    let now = *rx.borrow();
                    match now {
                        ProxyMode::Down => return, // dropped at once: refused, in effect
                        ProxyMode::Frozen => {
                            let _ = rx.wait_for(|m| *m != ProxyMode::Frozen).await.is_ok();
                            return;
                        }
                        ProxyMode::Up => {}
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let changed = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => None,
                        m = rx.wait_for(|m| *m != ProxyMode::Up) => m.ok().map(|m| *m),
                    };
                    if changed == Some(ProxyMode::Frozen) {
                        let _ = rx.wait_for(|m| *m != ProxyMode::Frozen).await.is_ok();
                    }
                });
            }
        });
        Self { addr, mode }
    }

    /// Up: forward. Down: cut every connection and refuse new ones.
    pub fn set(&self, up: bool) {
        self.mode.send_replace(match up {
            true => ProxyMode::Up,
            false => ProxyMode::Down,
        });
    }

    /// Connections stay open and nothing crosses them, until [`Self::set`]
    /// closes them (either way).
    pub fn freeze(&self) {
        self.mode.send_replace(ProxyMode::Frozen);
    }
}

/// One server-sent event as a client sees it.
#[derive(Debug, Clone)]
pub struct SseMessage {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

/// A minimal SSE client over a streaming reqwest response.
pub struct EventStream {
    response: Response,
    buffer: String,
}

impl EventStream {
    /// Opens GET /api/{user}/events with the given query (e.g. "?conversation_id=...")
    /// and optional Last-Event-ID header.
    pub async fn open(
        app: &TestApp,
        user: &TestUser,
        query: &str,
        last_event_id: Option<i64>,
    ) -> Self {
        let mut req = app.request(
            Method::GET,
            &format!("/api/{}/events{query}", user.id),
            Some(&user.token),
        );
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "event stream refused");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments and keep-alives skipped), or None when the
    /// stream ended or nothing came within `timeout`.
    pub async fn next_within(&mut self, timeout: Duration) -> Option<SseMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(message) = parse_block(&block) {
                    return Some(message);
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// The next event, which must come within 20 s.
    pub async fn next(&mut self) -> SseMessage {
        self.next_within(Duration::from_secs(20))
            .await
            .expect("an event within 20 s")
    }

    /// The next durable (id-carrying) event, skipping transient ones.
    pub async fn next_durable(&mut self) -> SseMessage {
        loop {
            let m = self.next().await;
            if m.id.is_some() {
                return m;
            }
        }
    }

    /// True when the server closed the stream within `timeout`.
    pub async fn ends_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }
}

fn parse_block(block: &str) -> Option<SseMessage> {
    let (mut id, mut event, mut data) = (None, String::from("message"), String::new());
    let mut any = false;
    for line in block.lines() {
        if line.starts_with(':') || line.is_empty() {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = value.parse().ok(),
            "event" => event = value.to_string(),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
                any = true;
            }
            _ => {}
        }
    }
    any.then(|| SseMessage {
        id,
        event,
        data: serde_json::from_str(&data).unwrap_or(Value::String(data)),
    })
}

/// Each test removes its RabbitMQ queues and exchanges when it ends, so
/// test runs do not pile them up on the broker (x-expires is the backstop
/// for tests that panic before this runs).
impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if !self.owns_topology {
            return;
        }
        // The broker itself, not the app's URL: that may lead through a
        // TcpProxy whose task runs on this test's runtime, which is blocked
        // while Drop waits below.
        let url = todo_common::config::DEFAULT_RABBITMQ_URL.to_string();
        let topology = todo_common::queue::Topology::from_config(&self.config.broker);
        // Drop cannot await; a short-lived thread with its own runtime can.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let _ =
                    tokio::time::timeout(Duration::from_secs(10), topology.delete_at(&url)).await;
            });
        });
        let _ = cleanup.join();
    }
}
