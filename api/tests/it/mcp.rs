//! The MCP server (issue 12) as a client sees it: a small Streamable HTTP
//! client written here against the real app, PostgreSQL and RabbitMQ.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_common::tools::Tool;

use crate::helpers::{TEST_SECRET, TestApp, TestUser, expect_error, hs_token, now};

/// One MCP session, speaking JSON-RPC over POST /mcp (answers come as SSE).
struct Mcp {
    url: String,
    http: reqwest::Client,
    token: String,
    session: Option<String>,
    next_id: u64,
}

/// Protocol version with `initialize` and sessions, as today's clients use.
const VERSION: &str = "2025-11-25";

impl Mcp {
    fn new(app: &TestApp, token: &str) -> Self {
        Self {
            url: format!("{}/mcp", app.mcp_base.as_ref().expect("MCP is enabled")),
            http: reqwest::Client::new(),
            token: token.to_string(),
            session: None,
            next_id: 1,
        }
    }

    /// A connected session for `user`.
    async fn connect(app: &TestApp, user: &TestUser) -> Self {
        let mut mcp = Self::new(app, &user.token);
        let init = mcp
            .request("initialize", initialize(0)["params"].clone())
            .await;
        assert_eq!(init["result"]["serverInfo"]["name"], "todo-chat", "{init}");
        let res = mcp
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        mcp
    }

    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "accept",
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert(
            "authorization",
            format!("Bearer {}", self.token).parse().unwrap(),
        );
        h.insert("mcp-protocol-version", HeaderValue::from_static(VERSION));
        if let Some(s) = &self.session {
            h.insert("mcp-session-id", s.parse().unwrap());
        }
        h
    }

    async fn post(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(&self.url)
            .headers(self.headers())
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Sends a request and returns its JSON-RPC answer (`result` or `error`).
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let res = self
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{method}");
        if let Some(s) = res.headers().get("mcp-session-id") {
            self.session = Some(s.to_str().unwrap().to_string());
        }
        let text = res.text().await.unwrap();
        sse_messages(&text)
            .into_iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("no answer to {method} in {text}"))
    }

    async fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        let answer = self
            .request("tools/call", json!({"name": name, "arguments": arguments}))
            .await;
        answer["result"].clone()
    }
}

/// An `initialize` request, as today's clients send it.
fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize",
           "params": {"protocolVersion": VERSION, "capabilities": {},
                      "clientInfo": {"name": "it", "version": "1"}}})
}

/// The OAuth protected-resource metadata (RFC 9728) the server publishes.
async fn resource_metadata(base: &str) -> Value {
    reqwest::get(format!("{base}/.well-known/oauth-protected-resource"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The JSON messages in an SSE body.
fn sse_messages(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

/// A tool result's text content, parsed as JSON.
fn content(result: &Value) -> Value {
    let text = result["content"][0]["text"].as_str().expect("text content");
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[tokio::test]
async fn the_tools_are_the_chat_assistants_with_truthful_annotations() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mut mcp = Mcp::connect(&app, &alice).await;
    let list = mcp.request("tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().unwrap().clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, Tool::MCP.map(Tool::name));
    // The chat door's undo needs a conversation: MCP's list stays these five.
    assert_eq!(
        names,
        [
            "add_task",
            "list_tasks",
            "complete_task",
            "update_task",
            "delete_task"
        ]
    );
    for (listed, tool) in tools.iter().zip(Tool::MCP) {
        assert_eq!(listed["description"], tool.description());
        assert_eq!(listed["inputSchema"], tool.client_parameters());
        let hints = &listed["annotations"];
        let a = tool.annotations();
        assert_eq!(hints["readOnlyHint"], a.read_only, "{listed}");
        assert_eq!(hints["destructiveHint"], a.destructive, "{listed}");
        assert_eq!(hints["idempotentHint"], a.idempotent, "{listed}");
        assert_eq!(hints["openWorldHint"], false);
    }
}

#[tokio::test]
async fn every_tool_works_and_its_changes_are_seen_through_rest_and_events() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mut mcp = Mcp::connect(&app, &alice).await;

    let added = mcp
        .call_tool(
            "add_task",
            json!({"title": "call mom", "priority": "high", "due_at": "2026-11-26", "tags": ["family"]}),
        )
        .await;
    assert_eq!(added["isError"], false, "{added}");
    let added = content(&added);
    assert_eq!(added["status"], "created");
    let id = added["task_id"].as_i64().unwrap();
    let (_, rest) = app.list_tasks(&alice, "").await;
    assert_eq!(rest["tasks"][0]["title"], "call mom");
    assert_eq!(rest["tasks"][0]["priority"], "high");

    let listed = content(
        &mcp.call_tool("list_tasks", json!({"status": "pending"}))
            .await,
    );
    assert_eq!(listed["tasks"][0]["id"], id, "{listed}");
    assert_eq!(listed["tasks"][0]["tags"], json!(["family"]));
    assert_eq!(
        (listed["matching"].as_i64(), listed["open"].as_i64()),
        (Some(1), Some(1))
    );

    let done = content(&mcp.call_tool("complete_task", json!({"task_id": id})).await);
    assert_eq!(
        (done["status"].as_str(), done["completed"].as_bool()),
        (Some("completed"), Some(true))
    );
    let pending = content(
        &mcp.call_tool("list_tasks", json!({"status": "pending"}))
            .await,
    );
    assert_eq!(pending["tasks"], json!([]), "{pending}");
    assert_eq!(pending["matching"], 0);

    let renamed = content(
        &mcp.call_tool("update_task", json!({"task_id": id, "title": "call dad"}))
            .await,
    );
    assert_eq!(renamed["title"], "call dad");
    let (_, rest) = app.list_tasks(&alice, "").await;
    assert_eq!(rest["tasks"][0]["title"], "call dad");

    let deleted = content(&mcp.call_tool("delete_task", json!({"task_id": id})).await);
    assert_eq!(deleted["status"], "deleted");
    let (_, rest) = app.list_tasks(&alice, "").await;
    assert_eq!(rest["tasks"], json!([]));

    // Each change recorded its event, as REST and chat changes do.
    let user = todo_common::domain::UserId::parse(&alice.id).unwrap();
    let kinds: Vec<String> = todo_common::events::after(&app.pool, &user, 0, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "task.created",
            "task.updated",
            "task.updated",
            "task.deleted"
        ]
    );
}

#[tokio::test]
async fn tool_errors_are_results_and_unknown_tools_are_protocol_errors() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mut mcp = Mcp::connect(&app, &alice).await;
    for (tool, arguments, says) in [
        ("add_task", json!({}), "title"),
        ("add_task", json!({"title": "x".repeat(201)}), "200"),
        (
            "add_task",
            json!({"title": "x", "priority": "critical"}),
            "priority",
        ),
        ("complete_task", json!({"task_id": 999}), "not found"),
        ("complete_task", json!({"task_id": "abc"}), "task_id"),
        (
            "update_task",
            json!({"task_id": 999, "title": "y"}),
            "not found",
        ),
        ("delete_task", json!({"task_id": 999}), "not found"),
        ("delete_task", json!({}), "task_id"),
    ] {
        let result = mcp.call_tool(tool, arguments.clone()).await;
        assert_eq!(result["isError"], true, "{tool} {arguments}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(says), "{tool} {arguments}: {text}");
    }
    // undo_last_change is a chat tool, unknown here like any other name.
    for name in ["drop_tables", "undo_last_change"] {
        let answer = mcp
            .request("tools/call", json!({"name": name, "arguments": {}}))
            .await;
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
    }
    let (_, rest) = app.list_tasks(&alice, "").await;
    assert_eq!(rest["tasks"], json!([]));
}

/// The text of a tool result that is an error.
fn refusal(result: &Value) -> &str {
    assert_eq!(result["isError"], true, "{result}");
    result["content"][0]["text"].as_str().unwrap()
}

/// MCP calls carry no headers of their own, so add_task takes the key as
/// an argument; it is the same key as REST's Idempotency-Key.
#[tokio::test]
async fn add_task_with_an_idempotency_key_adds_the_task_once() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let mut mcp = Mcp::connect(&app, &alice).await;
    let call = json!({"title": "call mom", "idempotency_key": "mcp-1"});

    let first = mcp.call_tool("add_task", call.clone()).await;
    assert_eq!(first["isError"], false, "{first}");
    let first = content(&first);
    let id = first["task_id"].clone();
    // Retried in the same session, or after reconnecting: the first task.
    let again = mcp.call_tool("add_task", call.clone()).await;
    assert_eq!(content(&again), first, "answered as the first call");
    let mut reconnected = Mcp::connect(&app, &alice).await;
    let again = reconnected.call_tool("add_task", call.clone()).await;
    assert_eq!(content(&again)["task_id"], id);

    // Another task under the key is refused, naming the argument.
    let other = json!({"title": "call dad", "idempotency_key": "mcp-1"});
    let text = refusal(&mcp.call_tool("add_task", other).await).to_string();
    assert!(text.contains("idempotency_key"), "{text}");
    for bad in [
        json!(""),
        json!("has space"),
        json!("k".repeat(256)),
        json!(7),
    ] {
        let result = mcp
            .call_tool("add_task", json!({"title": "x", "idempotency_key": bad}))
            .await;
        let text = refusal(&result);
        assert!(text.contains("idempotency_key"), "{bad}: {text}");
    }

    // One key, one task, whichever door: REST replays the MCP call.
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/api/{}/tasks", alice.id),
            Some(&alice.token),
        )
        .header("idempotency-key", "mcp-1")
        .json(&json!({"title": "call mom"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.json::<Value>().await.unwrap()["id"], id);

    // Keys are per user: Bob's call with Alice's key is his own task.
    let mut bobs = Mcp::connect(&app, &bob).await;
    let his = content(&bobs.call_tool("add_task", call).await);
    // Not a replay of Alice's: his own first task, numbered in his list.
    assert_eq!(his["task_id"], 1, "{his}");
    for user in [&alice, &bob] {
        let (_, rest) = app.list_tasks(user, "").await;
        assert_eq!(rest["tasks"].as_array().unwrap().len(), 1, "{rest}");
    }
}

#[tokio::test]
async fn parallel_add_task_retries_create_one_task() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mut sessions = Vec::new();
    for _ in 0..6 {
        sessions.push(Mcp::connect(&app, &alice).await);
    }
    let call = json!({"title": "one thing", "idempotency_key": "same"});
    let results = futures_util::future::join_all(
        sessions
            .iter_mut()
            .map(|mcp| mcp.call_tool("add_task", call.clone())),
    )
    .await;
    let ids: Vec<Value> = results
        .iter()
        .map(|r| content(r)["task_id"].clone())
        .collect();
    assert!(ids[0].is_i64(), "{results:?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let (_, rest) = app.list_tasks(&alice, "").await;
    assert_eq!(rest["tasks"].as_array().unwrap().len(), 1, "{rest}");
}

#[tokio::test]
async fn no_token_or_a_bad_one_is_a_401_that_points_at_the_resource_metadata() {
    let app = TestApp::spawn().await;
    let base = app.mcp_base.clone().unwrap();
    let init = initialize(1);
    for token in [None, Some("not-a-jwt")] {
        let mut req = reqwest::Client::new()
            .post(format!("{base}/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        let challenge = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(
            challenge.contains(&format!(
                "resource_metadata=\"{base}/.well-known/oauth-protected-resource\""
            )),
            "{challenge}"
        );
    }
    let metadata = resource_metadata(&base).await;
    assert_eq!(metadata["resource"], format!("{base}/mcp"));
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test]
async fn the_metadata_names_better_auth_when_its_keys_are_trusted() {
    let app = TestApp::spawn_with(&[
        ("AUTH_JWKS_URL", "http://127.0.0.1:9/api/auth/jwks"),
        ("AUTH_JWT_ISSUER", "https://auth.example.com"),
        ("MCP_PUBLIC_URL", "https://mcp.example.com/mcp"),
    ])
    .await;
    let base = app.mcp_base.clone().unwrap();
    let metadata = resource_metadata(&base).await;
    assert_eq!(metadata["resource"], "https://mcp.example.com/mcp");
    assert_eq!(
        metadata["authorization_servers"],
        json!(["https://auth.example.com"])
    );
}

#[tokio::test]
async fn one_users_token_never_touches_another_users_tasks_or_session() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mallory = app.signup("mallory@example.com").await;
    let task = app
        .create_task(&alice, json!({"title": "alice's plan"}))
        .await;
    let id = task["id"].as_i64().unwrap();

    let mut mcp = Mcp::connect(&app, &mallory).await;
    let listed = content(
        &mcp.call_tool("list_tasks", json!({"user_id": alice.id}))
            .await,
    );
    assert_eq!(listed["tasks"], json!([]), "{listed}");
    assert_eq!(
        (listed["matching"].as_i64(), listed["open"].as_i64()),
        (Some(0), Some(0))
    );
    for (tool, arguments) in [
        ("complete_task", json!({"task_id": id, "user_id": alice.id})),
        (
            "update_task",
            json!({"task_id": id, "user_id": alice.id, "title": "pwned"}),
        ),
        ("delete_task", json!({"task_id": id, "user_id": alice.id})),
    ] {
        let result = mcp.call_tool(tool, arguments).await;
        assert_eq!(result["isError"], true, "{tool}: {result}");
    }
    let read = mcp
        .request("resources/read", json!({"uri": "tasks://all"}))
        .await;
    let text = read["result"]["contents"][0]["text"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap()["tasks"],
        json!([])
    );

    // Alice's session id with Mallory's token is refused.
    let alices = Mcp::connect(&app, &alice).await;
    let mut stolen = Mcp::new(&app, &mallory.token);
    stolen.session = alices.session.clone();
    let res = stolen
        .post(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                      "params": {"name": "list_tasks", "arguments": {}}}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let (_, list) = app.list_tasks(&alice, "").await;
    assert_eq!(list["tasks"][0]["title"], "alice's plan");
    assert_eq!(list["tasks"][0]["completed"], false);
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused() {
    let app = TestApp::spawn_with(&[("MCP_ALLOWED_ORIGINS", "https://ide.example.com")]).await;
    let alice = app.signup("alice@example.com").await;
    let mcp = Mcp::new(&app, &alice.token);
    let init = initialize(1);
    let send = |extra: (&'static str, &'static str)| {
        mcp.http
            .post(&mcp.url)
            .headers(mcp.headers())
            .header(extra.0, extra.1)
            .json(&init)
            .send()
    };
    // A page on another site (or one that rebound its name to us).
    let res = send(("origin", "https://evil.example")).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = send(("host", "evil.example")).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The listed origin, and clients that send none, are served.
    let res = send(("origin", "https://ide.example.com")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = mcp.post(&init).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn resources_list_and_read_the_users_tasks() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    app.create_task(&alice, json!({"title": "open one"})).await;
    let done = app.create_task(&alice, json!({"title": "done one"})).await;
    let path = format!("/api/{}/tasks/{}/complete", alice.id, done["id"]);
    let res = app
        .call(reqwest::Method::PATCH, &path, Some(&alice.token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let mut mcp = Mcp::connect(&app, &alice).await;
    let list = mcp.request("resources/list", json!({})).await;
    let uris: Vec<&str> = list["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            "tasks://all",
            "tasks://pending",
            "tasks://completed",
            "tasks://reminders"
        ]
    );
    for (uri, titles) in [
        ("tasks://all", vec!["done one", "open one"]),
        ("tasks://pending", vec!["open one"]),
        ("tasks://completed", vec!["done one"]),
    ] {
        let read = mcp.request("resources/read", json!({"uri": uri})).await;
        let contents = &read["result"]["contents"][0];
        assert_eq!(contents["mimeType"], "application/json");
        let page: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
        let got: Vec<&str> = page["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap())
            .collect();
        assert_eq!(got, titles, "{uri}");
    }
    let missing = mcp
        .request("resources/read", json!({"uri": "tasks://nope"}))
        .await;
    assert!(missing["error"].is_object(), "{missing}");
}

/// Reads the session's GET stream until `wanted` arrives, or fails at the deadline.
async fn wait_for_message(
    stream: &mut reqwest::Response,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let messages = wait_for_messages(stream, |all| all.iter().any(&wanted)).await;
    messages.into_iter().find(wanted).unwrap()
}

/// Reads the session's GET stream until its messages so far are `enough`,
/// or fails at the deadline; returns them all.
async fn wait_for_messages(
    stream: &mut reqwest::Response,
    enough: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut buffer = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("not all wanted arrived; got {buffer}"))
            .unwrap()
            .expect("the stream stayed open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        let messages = sse_messages(&buffer);
        if enough(&messages) {
            return messages;
        }
    }
}

#[tokio::test]
async fn a_subscriber_hears_when_its_tasks_change_through_rest() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mut mcp = Mcp::connect(&app, &alice).await;
    let answer = mcp
        .request("resources/subscribe", json!({"uri": "tasks://pending"}))
        .await;
    assert!(answer["result"].is_object(), "{answer}");
    // The session's stream for server-to-client messages.
    let mut stream = mcp
        .http
        .get(&mcp.url)
        .headers(mcp.headers())
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    // A change through another door, on another API instance.
    let peer = app.spawn_peer().await;
    peer.create_task(&alice, json!({"title": "from the web app"}))
        .await;
    let note = wait_for_message(&mut stream, |m| {
        m["method"] == "notifications/resources/updated"
    })
    .await;
    assert_eq!(note["params"]["uri"], "tasks://pending");
}

#[tokio::test]
async fn a_fired_reminder_reaches_the_session_as_a_log_message_and_a_resource_update() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let mut mcp = Mcp::connect(&app, &alice).await;
    // Setting a level is what asks for log messages; `info` lets `notice` through.
    let answer = mcp
        .request("logging/setLevel", json!({"level": "info"}))
        .await;
    assert!(answer["result"].is_object(), "{answer}");
    let answer = mcp
        .request("resources/subscribe", json!({"uri": "tasks://reminders"}))
        .await;
    assert!(answer["result"].is_object(), "{answer}");
    let mut stream = open_stream(&mcp).await;

    // A reminder a second from now, fired by a real worker's scheduler.
    let at = (chrono::Utc::now() + chrono::TimeDelta::seconds(1)).to_rfc3339();
    let task = app
        .create_task(
            &alice,
            json!({"title": "call mom", "reminders": [{"at": at}]}),
        )
        .await;
    let _worker = app.spawn_worker(None, &[]).await;
    let is_log = |m: &Value| m["method"] == "notifications/message";
    let is_update = |m: &Value| {
        m["method"] == "notifications/resources/updated"
            && m["params"]["uri"] == "tasks://reminders"
    };
    let heard = wait_for_messages(&mut stream, |all| {
        all.iter().any(is_log) && all.iter().any(is_update)
    })
    .await;
    let logs: Vec<&Value> = heard.iter().filter(|m| is_log(m)).collect();
    assert_eq!(logs.len(), 1, "one reminder, one message: {heard:?}");
    let params = &logs[0]["params"];
    assert_eq!(params["logger"], "reminder.due");
    assert_eq!(params["level"], "notice");
    assert_eq!(params["data"]["task_id"], task["id"]);
    assert_eq!(params["data"]["title"], "call mom");
    assert_eq!(params["data"]["reminders"], 1);
    assert!(
        params["data"]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("call mom"),
        "{params}"
    );

    // The resource holds it; another user's holds nothing of it.
    let read = mcp
        .request("resources/read", json!({"uri": "tasks://reminders"}))
        .await;
    let fired: Value =
        serde_json::from_str(read["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(fired["reminders"].as_array().unwrap().len(), 1, "{fired}");
    assert_eq!(fired["reminders"][0]["task_id"], task["id"]);
    let mut other = Mcp::connect(&app, &bob).await;
    let read = other
        .request("resources/read", json!({"uri": "tasks://reminders"}))
        .await;
    let fired: Value =
        serde_json::from_str(read["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(fired, json!({"reminders": []}));
}

/// The session's GET stream, where server-to-client messages travel.
async fn open_stream(mcp: &Mcp) -> reqwest::Response {
    let stream = mcp
        .http
        .get(&mcp.url)
        .headers(mcp.headers())
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    stream
}

/// What a session's stream did within a bounded wait.
#[derive(Debug, PartialEq)]
enum Heard {
    /// A `notifications/resources/updated` arrived.
    Update,
    /// The server closed the stream.
    Ended,
    /// Neither, before the deadline.
    Nothing,
}

async fn listen_for_updates(stream: &mut reqwest::Response, within: Duration) -> Heard {
    let deadline = Instant::now() + within;
    let mut buffer = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Err(_) => return Heard::Nothing,
            Ok(Ok(Some(chunk))) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None) | Err(_)) => return Heard::Ended,
        }
        if sse_messages(&buffer)
            .iter()
            .any(|m| m["method"] == "notifications/resources/updated")
        {
            return Heard::Update;
        }
    }
}

/// A session of `user` subscribed to `tasks://all`, and its open stream.
async fn subscribed(app: &TestApp, user: &TestUser) -> (Mcp, reqwest::Response) {
    let mut mcp = Mcp::connect(app, user).await;
    let answer = mcp
        .request("resources/subscribe", json!({"uri": "tasks://all"}))
        .await;
    assert!(answer["result"].is_object(), "{answer}");
    let stream = open_stream(&mcp).await;
    (mcp, stream)
}

/// A token of `user` signed with the test secret, valid for `seconds`.
fn token_for(user: &TestUser, seconds: i64) -> String {
    hs_token(
        jsonwebtoken::Algorithm::HS256,
        TEST_SECRET,
        &json!({ "sub": user.id, "iat": now(), "exp": now() + seconds }),
    )
}

/// A `tools/call` on `mcp`'s session; its HTTP status.
async fn next_request_status(mcp: &Mcp) -> StatusCode {
    mcp.post(&json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call",
                     "params": {"name": "list_tasks", "arguments": {}}}))
        .await
        .status()
}

#[tokio::test]
async fn logging_out_ends_the_tokens_subscription_and_session() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let (mut mcp, mut stream) = subscribed(&app, &alice).await;

    let res = app
        .call(Method::POST, "/api/auth/logout", Some(&alice.token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Her other device (another token) changes a task: the logged-out
    // session must not hear of it.
    let phone = TestUser {
        id: alice.id.clone(),
        token: token_for(&alice, 3600),
    };
    app.create_task(&phone, json!({"title": "after logout"}))
        .await;
    let heard = listen_for_updates(&mut stream, Duration::from_secs(5)).await;
    assert_ne!(heard, Heard::Update, "a logged-out session heard a change");
    assert_eq!(next_request_status(&mcp).await, StatusCode::UNAUTHORIZED);

    // The session itself is closed: not even a fresh token of hers revives it.
    mcp.token = phone.token.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while next_request_status(&mcp).await == StatusCode::OK {
        assert!(Instant::now() < deadline, "the session stayed open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_subscribed_session_ends_when_its_token_expires() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let short = TestUser {
        id: alice.id.clone(),
        token: token_for(&alice, 3),
    };
    let (mcp, mut stream) = subscribed(&app, &short).await;

    let heard = listen_for_updates(&mut stream, Duration::from_secs(15)).await;
    assert_eq!(heard, Heard::Ended, "the stream outlived its token");
    // The session is closed with it. (Requests with the token itself are
    // accepted for the verifier's 30 s clock-skew leeway after `exp`; a new
    // session opened then ends as soon as it is swept.)
    assert_eq!(next_request_status(&mcp).await, StatusCode::NOT_FOUND);
}

/// An `initialize` that may be refused: its raw response.
async fn try_initialize(app: &TestApp, user: &TestUser) -> reqwest::Response {
    Mcp::new(app, &user.token).post(&initialize(0)).await
}

#[tokio::test]
async fn sessions_are_capped_per_user_with_a_clear_429_and_freed_when_closed() {
    let app = TestApp::spawn_with(&[("MCP_MAX_SESSIONS_PER_USER", "2")]).await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut mcp = Mcp::connect(&app, &ada).await;
        let answer = mcp
            .request("resources/subscribe", json!({"uri": "tasks://all"}))
            .await;
        assert!(answer["result"].is_object(), "{answer}");
        held.push(mcp);
    }

    let refused = try_initialize(&app, &ada).await;
    assert!(refused.headers().contains_key("retry-after"));
    let body = expect_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_sessions").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 open MCP sessions"),
        "{body}"
    );
    Mcp::connect(&app, &bob).await; // another user is not affected

    // Closing a session frees its place at once.
    let last = held.pop().unwrap();
    let closed = last
        .http
        .delete(&last.url)
        .headers(last.headers())
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::NO_CONTENT);
    Mcp::connect(&app, &ada).await;
}

#[tokio::test]
async fn an_instance_holds_at_most_its_cap_of_sessions() {
    let app = TestApp::spawn_with(&[("MCP_MAX_SESSIONS", "2")]).await;
    for n in 0..2 {
        let user = app.signup(&format!("u{n}@example.com")).await;
        Mcp::connect(&app, &user).await;
    }
    let late = app.signup("late@example.com").await;
    let body = expect_error(
        try_initialize(&app, &late).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_sessions",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maximum of 2"),
        "{body}"
    );
}

#[tokio::test]
async fn a_sessionless_listen_stream_holds_a_session_place_while_open() {
    let app = TestApp::spawn_with(&[("MCP_MAX_SESSIONS_PER_USER", "1")]).await;
    let ada = app.signup("ada@example.com").await;
    // 2026-07-28: no session; a subscription is one long request.
    let mcp = Mcp::new(&app, &ada.token);
    let mut headers = mcp.headers();
    headers.insert(
        "mcp-protocol-version",
        HeaderValue::from_static("2026-07-28"),
    );
    headers.insert(
        "mcp-method",
        HeaderValue::from_static("subscriptions/listen"),
    );
    let listen = mcp
        .http
        .post(&mcp.url)
        .headers(headers)
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen",
            "params": {
                "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                          "io.modelcontextprotocol/clientCapabilities": {}},
                "notifications": {"resourceSubscriptions": ["tasks://all"]}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        listen.status(),
        StatusCode::OK,
        "{}",
        listen.text().await.unwrap()
    );
    assert!(listen.headers().get("mcp-session-id").is_none());

    let refused = try_initialize(&app, &ada).await;
    expect_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_sessions").await;
    drop(listen);
}

#[tokio::test]
async fn logging_out_on_another_instance_ends_the_session_within_the_sync() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let (mcp, mut stream) = subscribed(&app, &alice).await;

    let peer = app.spawn_peer().await;
    let res = peer
        .call(Method::POST, "/api/auth/logout", Some(&alice.token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // This instance learns of it through the revocation sync (~2 s).
    let heard = listen_for_updates(&mut stream, Duration::from_secs(15)).await;
    assert_eq!(heard, Heard::Ended, "the session outlived its logout");
    assert_eq!(next_request_status(&mcp).await, StatusCode::UNAUTHORIZED);
}
