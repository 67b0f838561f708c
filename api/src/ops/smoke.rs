//! `todo-api smoke --url URL [--email E --password P] [--origin O] [--json]`:
//! the deployment checklist's "Post-Deployment Smoke Tests" against a
//! deployed instance (through its load balancer), one line per item. It
//! signs up a throwaway account (or logs in with the given one), chats a
//! task into existence, watches it arrive on the event stream, and deletes
//! what it created before it ends (the throwaway account itself stays, with
//! every token logged out: the API has no account deletion).

use std::time::Duration;
use todo_common::error::ErrorChain;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Check, Report};

#[derive(Debug, Clone)]
pub struct Options {
    /// The deployment's base URL, e.g. `https://api.example.com`.
    pub url: String,
    /// An existing account to use instead of a throwaway sign-up.
    pub credentials: Option<(String, String)>,
    /// A browser origin the deployment allows (ALLOWED_ORIGINS); its CORS
    /// answer is checked. None: that item is a warning.
    pub origin: Option<String>,
    /// Per request; the chat turn gets `Prefer: wait` up to 60 s on top.
    pub timeout: Duration,
}

impl Options {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            credentials: None,
            origin: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What the run created, deleted at the end whatever happened in between.
#[derive(Default)]
struct Created {
    task_ids: Vec<i64>,
    conversation: Option<String>,
}

struct Session {
    user_id: String,
    token: String,
}

struct Smoke<'a> {
    options: &'a Options,
    http: reqwest::Client,
    base: String,
    report: Report,
}

pub async fn smoke(options: &Options) -> Report {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client with static settings");
    let mut s = Smoke {
        options,
        http,
        base: options.url.trim_end_matches('/').to_string(),
        report: Report::default(),
    };
    if !s.health().await {
        return s.report;
    }
    let Some(session) = s.session().await else {
        return s.report;
    };
    let mut created = Created::default();
    s.unauthorized(&session).await;
    s.chat_task(&session, &mut created).await;
    s.bad_request(&session).await;
    s.cors().await;
    s.web().await;
    s.cleanup(&session, &created).await;
    s.report
}

impl Smoke<'_> {
    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(self.options.timeout);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    /// Status and JSON body (Null when not JSON), or the transport error.
    async fn call(&self, r: reqwest::RequestBuilder) -> Result<(StatusCode, Value), String> {
        let response = r.send().await.map_err(|e| e.without_url().chain())?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn health(&mut self) -> bool {
        let url = format!("{}/health", self.base);
        let check = match super::healthcheck::healthcheck(&url, self.options.timeout).await {
            Ok(h) => {
                let json: Value = serde_json::from_str(&h.body).unwrap_or(Value::Null);
                if json["database_connected"] == true {
                    Check::pass(
                        "health",
                        format!(
                            "/health is healthy, database connected ({} ms), version {}",
                            json["database_latency_ms"],
                            json["version"].as_str().unwrap_or("?")
                        ),
                    )
                } else {
                    Check::fail(
                        "health",
                        format!("/health does not say the database is connected: {}", h.body),
                        "is --url the API (or its load balancer)?",
                    )
                }
            }
            Err(e) => Check::fail(
                "health",
                e.to_string(),
                "check the instance is up and reachable at --url; `docker compose ps` / the API's logs",
            ),
        };
        let ok = check.status == super::Status::Pass;
        self.report.push(check);
        ok
    }

    /// A throwaway sign-up (or the given account), then a login with it.
    async fn session(&mut self) -> Option<Session> {
        let (email, password, throwaway) = match &self.options.credentials {
            Some((e, p)) => (e.clone(), p.clone(), false),
            None => (
                format!("smoke-{}@example.com", uuid::Uuid::new_v4().simple()),
                format!("smoke {}", uuid::Uuid::new_v4()),
                true,
            ),
        };
        if throwaway {
            let signup = self
                .call(
                    self.request(Method::POST, "/api/auth/signup", None)
                        .json(&json!({"email": email, "password": password, "name": "Smoke test"})),
                )
                .await;
            match signup {
                Ok((StatusCode::CREATED, _)) => self.report.push(Check::pass(
                    "signup",
                    format!("signed up the throwaway account {email}"),
                )),
                Ok((status, body)) => {
                    self.report.push(Check::fail(
                        "signup",
                        format!("sign-up answered {status}: {body}"),
                        "a 429 means SIGNUP_MAX_PER_IP was reached from this address; pass --email/--password of an existing account",
                    ));
                    return None;
                }
                Err(e) => {
                    self.report.push(Check::fail("signup", e, "check --url"));
                    return None;
                }
            }
        }
        let login = self
            .call(
                self.request(Method::POST, "/api/auth/login", None)
                    .json(&json!({"email": email, "password": password})),
            )
            .await;
        match login {
            Ok((StatusCode::OK, body)) => {
                let (Some(user_id), Some(token)) =
                    (body["user"]["id"].as_str(), body["token"].as_str())
                else {
                    self.report.push(Check::fail(
                        "login",
                        format!("login answered 200 without user.id and token: {body}"),
                        "is --url a Todo Chat API?",
                    ));
                    return None;
                };
                self.report
                    .push(Check::pass("login", "logged in, got a token"));
                Some(Session {
                    user_id: user_id.to_string(),
                    token: token.to_string(),
                })
            }
            Ok((status, body)) => {
                self.report.push(Check::fail(
                    "login",
                    format!("login answered {status}: {body}"),
                    "check --email/--password; a 503 means PostgreSQL or the revocation list is not ready",
                ));
                None
            }
            Err(e) => {
                self.report.push(Check::fail("login", e, "check --url"));
                None
            }
        }
    }

    async fn unauthorized(&mut self, session: &Session) {
        let path = format!("/api/{}/tasks", session.user_id);
        let check = match self.call(self.request(Method::GET, &path, None)).await {
            Ok((StatusCode::UNAUTHORIZED, body)) if body["error"]["code"] == "unauthorized" => {
                Check::pass("auth.required", "401 unauthorized without a token")
            }
            Ok((status, body)) => Check::fail(
                "auth.required",
                format!("GET {path} without a token answered {status}: {body}"),
                "something in front of the API answers for it, or the API is misrouted",
            ),
            Err(e) => Check::fail("auth.required", e, "check --url"),
        };
        self.report.push(check);
    }

    /// Opens the event stream, chats a task into existence (Prefer: wait),
    /// finds it in the pending list and on the stream, and reads the
    /// conversation back.
    async fn chat_task(&mut self, session: &Session, created: &mut Created) {
        let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        let title = format!("smoke test {tag}");
        // Matched by the tag alone: a model may reword the title around it.
        let events = self.open_events(session, &tag).await;

        let chat = self
            .call(
                self.request(
                    Method::POST,
                    &format!("/api/{}/chat", session.user_id),
                    Some(&session.token),
                )
                .header("prefer", "wait=30")
                .timeout(self.options.timeout + Duration::from_secs(35))
                .json(&json!({ "message": format!("add {title}") })),
            )
            .await;
        let conversation = match chat {
            Ok((StatusCode::OK, body)) if body["status"] == "completed" => {
                created.conversation = body["conversation_id"].as_str().map(String::from);
                let tools: Vec<&str> = body["tool_calls"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
                    .unwrap_or_default();
                self.report.push(if tools.contains(&"add_task") {
                    Check::pass(
                        "chat",
                        format!("the chat turn completed and called add_task for \"{title}\""),
                    )
                } else {
                    Check::fail(
                        "chat",
                        format!(
                            "the turn completed without add_task (tools: {tools:?}): {}",
                            body["response"]
                        ),
                        "check the worker's model (OPENAI_MODEL) handles tool calls",
                    )
                });
                created.conversation.clone()
            }
            Ok((status, body)) => {
                created.conversation = body["conversation_id"].as_str().map(String::from);
                self.report.push(Check::fail(
                    "chat",
                    format!("POST /chat answered {status}: {body}"),
                    "\"queued\" after 30 s: no worker took the turn (workers running? RabbitMQ?); \"failed\": read its error and docs/troubleshooting.md",
                ));
                created.conversation.clone()
            }
            Err(e) => {
                self.report
                    .push(Check::fail("chat", e, "check the API's logs"));
                None
            }
        };

        // The pending list has it.
        let list = self
            .call(self.request(
                Method::GET,
                &format!("/api/{}/tasks?status=pending&q={tag}", session.user_id),
                Some(&session.token),
            ))
            .await;
        let found: Vec<i64> = match &list {
            Ok((StatusCode::OK, body)) => body["tasks"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t["id"].as_i64()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        created.task_ids.extend(&found);
        self.report.push(match (&list, found.is_empty()) {
            (Ok((StatusCode::OK, _)), false) => Check::pass(
                "tasks.pending",
                format!("\"{title}\" is in the pending list"),
            ),
            (Ok((status, body)), _) => Check::fail(
                "tasks.pending",
                format!("the pending list ({status}) lacks \"{title}\": {body}"),
                "the turn did not store the task: see the chat item above",
            ),
            (Err(e), _) => Check::fail("tasks.pending", e.clone(), "check --url"),
        });

        // The event stream delivered it.
        self.report.push(match events {
            Err(why) => Check::fail(
                "events",
                why,
                "behind a proxy: turn buffering off for /api/*/events (docs/troubleshooting.md#sse-behind-a-proxy)",
            ),
            Ok(mut reader) => match tokio::time::timeout(self.options.timeout, &mut reader).await {
                Ok(Ok(Ok(()))) => Check::pass("events", "the event stream delivered task.created"),
                Ok(Ok(Err(why))) => Check::fail(
                    "events",
                    why,
                    "a stream that opens but stays silent is usually a buffering proxy (docs/troubleshooting.md#sse-behind-a-proxy)",
                ),
                _ => {
                    reader.abort();
                    Check::fail(
                    "events",
                    format!("no task.created for \"{title}\" within {:?}", self.options.timeout),
                    "a stream that opens but stays silent is usually a buffering proxy (docs/troubleshooting.md#sse-behind-a-proxy); check RabbitMQ too (events reach other replicas through it)",
                )
                }
            },
        });

        // The conversation persists, with the message and the answer.
        let Some(conversation) = conversation else {
            return;
        };
        let messages = self
            .call(self.request(
                Method::GET,
                &format!(
                    "/api/{}/conversations/{conversation}/messages",
                    session.user_id
                ),
                Some(&session.token),
            ))
            .await;
        self.report.push(match messages {
            Ok((StatusCode::OK, body)) => {
                let list = body["messages"].as_array().cloned().unwrap_or_default();
                let sent = format!("add {title}");
                let asked = list
                    .iter()
                    .any(|m| m["content"].as_str() == Some(sent.as_str()));
                let answered = list.iter().any(|m| m["is_final"] == true);
                if asked && answered {
                    Check::pass(
                        "conversation",
                        format!(
                            "the conversation holds the message and the answer ({} messages)",
                            list.len()
                        ),
                    )
                } else {
                    Check::fail(
                        "conversation",
                        format!("the conversation lacks the message or its answer: {body}"),
                        "check the API's and worker's logs for database errors",
                    )
                }
            }
            Ok((status, body)) => Check::fail(
                "conversation",
                format!("reading the conversation answered {status}: {body}"),
                "check the API's logs",
            ),
            Err(e) => Check::fail("conversation", e, "check --url"),
        });
    }

    /// Opens GET /events and returns a task that ends when `task.created`
    /// with `tag` in its title arrives (Err: the stream could not be opened).
    async fn open_events(
        &self,
        session: &Session,
        tag: &str,
    ) -> Result<tokio::task::JoinHandle<Result<(), String>>, String> {
        let response = self
            .http
            .get(format!("{}/api/{}/events", self.base, session.user_id))
            .bearer_auth(&session.token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| format!("the event stream did not open: {}", e.without_url().chain()))?;
        if response.status() != StatusCode::OK {
            return Err(format!("the event stream answered {}", response.status()));
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if !content_type.starts_with("text/event-stream") {
            return Err(format!(
                "the event stream answered content-type `{content_type}`"
            ));
        }
        let tag = tag.to_string();
        Ok(tokio::spawn(async move {
            let mut response = response;
            let mut buffer = String::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| format!("the event stream broke: {}", e.without_url().chain()))?
            {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let frame: String = buffer.drain(..end + 2).collect();
                    let event = frame
                        .lines()
                        .find_map(|l| l.strip_prefix("event:"))
                        .map(str::trim);
                    let data = frame
                        .lines()
                        .find_map(|l| l.strip_prefix("data:"))
                        .map(str::trim);
                    if event == Some("task.created")
                        && let Some(data) = data
                        && serde_json::from_str::<Value>(data)
                            .is_ok_and(|d| d["title"].as_str().is_some_and(|t| t.contains(&tag)))
                    {
                        return Ok(());
                    }
                }
            }
            Err("the event stream ended before task.created arrived".to_string())
        }))
    }

    async fn bad_request(&mut self, session: &Session) {
        let path = format!("/api/{}/tasks", session.user_id);
        let check = match self
            .call(
                self.request(Method::POST, &path, Some(&session.token))
                    .json(&json!({"title": ""})),
            )
            .await
        {
            Ok((StatusCode::BAD_REQUEST, body))
                if body["error"]["code"].is_string() && body["error"]["message"].is_string() =>
            {
                Check::pass(
                    "errors",
                    format!(
                        "an empty title is a 400 {} with the JSON error shape",
                        body["error"]["code"]
                    ),
                )
            }
            Ok((status, body)) => Check::fail(
                "errors",
                format!("an empty title answered {status}: {body}"),
                "something in front of the API rewrites error answers",
            ),
            Err(e) => Check::fail("errors", e, "check --url"),
        };
        self.report.push(check);
    }

    async fn cors(&mut self) {
        let Some(origin) = self.options.origin.clone() else {
            self.report.push(Check::warn(
                "cors",
                "not checked: no --origin given",
                "pass --origin https://app.example.com (one of ALLOWED_ORIGINS)",
            ));
            return;
        };
        let response = self
            .request(Method::OPTIONS, "/api/auth/login", None)
            .header("origin", &origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
            .await;
        let check = match response {
            Ok(r) => {
                let allowed = r
                    .headers()
                    .get("access-control-allow-origin")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                if allowed.as_deref() == Some(origin.as_str()) || allowed.as_deref() == Some("*") {
                    Check::pass("cors", format!("preflight from {origin} is allowed"))
                } else {
                    Check::fail(
                        "cors",
                        format!(
                            "preflight from {origin} answered {} without allowing it (allow-origin: {allowed:?})",
                            r.status()
                        ),
                        "add the origin to ALLOWED_ORIGINS (exactly scheme://host[:port])",
                    )
                }
            }
            Err(e) => Check::fail("cors", e.without_url().chain(), "check --url"),
        };
        self.report.push(check);
    }

    /// The web app at / and the API docs at /docs, when the deployment has them.
    async fn web(&mut self) {
        for (id, path) in [("web", "/"), ("docs", "/docs")] {
            let mut response = self.request(Method::GET, path, None).send().await;
            // One redirect on our own host (Swagger UI sends /docs to /docs/).
            if let Ok(r) = &response
                && r.status().is_redirection()
                && let Some(to) = r.headers().get("location").and_then(|v| v.to_str().ok())
                && to.starts_with('/')
            {
                let to = to.to_string();
                response = self.request(Method::GET, &to, None).send().await;
            }
            let check = match response {
                Ok(r) if r.status() == StatusCode::OK => {
                    let html = r
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|t| t.starts_with("text/html"));
                    if html {
                        Check::pass(id, format!("{path} loads"))
                    } else {
                        Check::fail(
                            id,
                            format!("{path} answered 200 but not HTML"),
                            "check the proxy's routing",
                        )
                    }
                }
                Ok(r) if r.status() == StatusCode::NOT_FOUND => Check::pass(
                    id,
                    format!("{path} is not enabled on this deployment (404)"),
                ),
                Ok(r) => Check::fail(
                    id,
                    format!("{path} answered {}", r.status()),
                    "503 web_not_built: build the image with the web app (scripts/web.sh build before cargo build)",
                ),
                Err(e) => Check::fail(id, e.without_url().chain(), "check --url"),
            };
            self.report.push(check);
        }
    }

    async fn cleanup(&mut self, session: &Session, created: &Created) {
        let mut problems = Vec::new();
        for id in &created.task_ids {
            let path = format!("/api/{}/tasks/{id}", session.user_id);
            match self
                .call(self.request(Method::DELETE, &path, Some(&session.token)))
                .await
            {
                Ok((StatusCode::NO_CONTENT | StatusCode::NOT_FOUND, _)) => {}
                Ok((status, _)) => problems.push(format!("DELETE {path}: {status}")),
                Err(e) => problems.push(format!("DELETE {path}: {e}")),
            }
        }
        if let Some(c) = &created.conversation {
            let path = format!("/api/{}/conversations/{c}", session.user_id);
            match self
                .call(self.request(Method::DELETE, &path, Some(&session.token)))
                .await
            {
                Ok((StatusCode::NO_CONTENT | StatusCode::NOT_FOUND, _)) => {}
                Ok((status, _)) => problems.push(format!("DELETE {path}: {status}")),
                Err(e) => problems.push(format!("DELETE {path}: {e}")),
            }
        }
        // A throwaway account's tokens all go; a given account's only this one.
        let logout = if self.options.credentials.is_none() {
            "/api/auth/logout?all=true"
        } else {
            "/api/auth/logout"
        };
        match self
            .call(self.request(Method::POST, logout, Some(&session.token)))
            .await
        {
            Ok((StatusCode::NO_CONTENT, _)) => {}
            Ok((status, _)) => problems.push(format!("logout: {status}")),
            Err(e) => problems.push(format!("logout: {e}")),
        }
        self.report.push(if problems.is_empty() {
            Check::pass(
                "cleanup",
                format!(
                    "deleted {} task(s) and the conversation, logged out",
                    created.task_ids.len()
                ),
            )
        } else {
            Check::warn("cleanup", problems.join("; "), "delete them by hand")
        });
    }
}
