//! The real API in-process on a port-0 listener, against a fresh PostgreSQL
//! database per test, and a small typed client to talk to it.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Once;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use todo_common::{Config, db};
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
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&url_for(&name))
        .await
        .expect("connect to test database");
    db::migrate_up(&pool).await.expect("migrations apply");
    (name, pool)
}

pub fn test_config(db_name: &str, overrides: &[(&str, &str)]) -> Config {
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
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_vars(vars).expect("test configuration is valid")
}

pub struct TestApp {
    pub base: String,
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
    pub async fn spawn_on(config: Config, pool: PgPool) -> Self {
        todo_common::install_tls_provider();
        // No SENTRY_DSN in tests: the guard holds nothing.
        let _ = todo_common::telemetry::init(&config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(todo_api::run(
            config,
            pool.clone(),
            listener,
            shutdown.clone(),
        ));
        Self {
            base,
            pool,
            http: reqwest::Client::new(),
            shutdown,
            server,
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

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Runs the real `todo-api` binary with only the given variables, in an
/// empty directory so no developer `.env` leaks in.
pub fn todo_api(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_todo-api"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.current_dir(std::env::temp_dir());
    cmd.output().expect("run todo-api")
}
