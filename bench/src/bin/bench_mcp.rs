//! Tool-call latency and throughput through the MCP server (issue 12),
//! against a running todo-api with MCP on.
//!
//! Usage: bench-mcp [--base-url URL] [--mcp-url URL] [--calls N] [--concurrency C]
//! Each of C clients opens its own MCP session (initialize, as clients do),
//! then makes N/C `tools/call`s in turn: add_task, then list_tasks (pending,
//! which grows), complete_task on the task it added. Prints a Markdown table.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use todo_bench::pct;

/// Tool calls through the MCP server: C sessions, each adding, listing
/// and completing tasks in turn; prints a Markdown table.
#[derive(Parser)]
#[command(name = "bench-mcp", version)]
struct Args {
    /// The API's base URL (to sign up the benchmark's user).
    #[arg(long = "base-url", default_value = "http://127.0.0.1:8000")]
    base: String,
    /// The MCP endpoint.
    #[arg(long = "mcp-url", default_value = "http://127.0.0.1:5555/mcp")]
    mcp: String,
    /// Tool calls in total.
    #[arg(long, default_value_t = 3000)]
    calls: usize,
    /// Concurrent MCP sessions.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

struct Session {
    http: reqwest::Client,
    url: String,
    token: String,
    id: Option<String>,
    next: u64,
}

impl Session {
    async fn post(&mut self, body: Value) -> Result<Value> {
        let mut req = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .json(&body);
        if let Some(id) = &self.id {
            req = req.header("mcp-session-id", id);
        }
        let res = req.send().await?;
        if !res.status().is_success() {
            bail!("{} answered {}", body["method"], res.status());
        }
        if let Some(id) = res.headers().get("mcp-session-id") {
            self.id = Some(id.to_str()?.to_string());
        }
        let text = res.text().await?;
        Ok(text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|m| m.get("id").is_some())
            .unwrap_or(Value::Null))
    }

    async fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        self.post(body).await
    }

    async fn open(http: &reqwest::Client, url: &str, token: &str) -> Result<Session> {
        let mut s = Session {
            http: http.clone(),
            url: url.to_string(),
            token: token.to_string(),
            id: None,
            next: 0,
        };
        let params = json!({"protocolVersion": "2025-11-25", "capabilities": {},
                            "clientInfo": {"name": "bench-mcp", "version": "1"}});
        s.request("initialize", params).await?;
        s.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await?;
        Ok(s)
    }

    /// One tool call; its latency, and its JSON text result.
    async fn call(&mut self, tool: &str, arguments: Value) -> Result<(Duration, Value)> {
        let start = Instant::now();
        let answer = self
            .request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await?;
        let elapsed = start.elapsed();
        let result = &answer["result"];
        if result["isError"] != false {
            bail!("{tool} failed: {answer}");
        }
        let text = result["content"][0]["text"].as_str().unwrap_or("null");
        Ok((elapsed, serde_json::from_str(text)?))
    }
}

/// One client's calls: (tool, latency) for each.
async fn client(mut s: Session, calls: usize) -> Result<Vec<(&'static str, Duration)>> {
    let mut samples = Vec::with_capacity(calls);
    let mut last_task = None;
    for i in 0..calls {
        let (tool, args) = match (i % 3, last_task) {
            (1, _) => ("list_tasks", json!({"status": "pending"})),
            (2, Some(id)) => ("complete_task", json!({"task_id": id})),
            _ => ("add_task", json!({"title": format!("bench task {i}")})),
        };
        let (elapsed, value) = s.call(tool, args).await?;
        if tool == "add_task" {
            last_task = value["task_id"].as_i64();
        }
        samples.push((tool, elapsed));
    }
    Ok(samples)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let per_client = args.calls / args.concurrency.max(1);
    let mut sessions = Vec::new();
    for c in 0..args.concurrency {
        let email = format!("bench-mcp-{}-{c}@example.com", std::process::id());
        let signup: Value = http
            .post(format!("{}/api/auth/signup", args.base))
            .json(&json!({"email": email, "password": "correct horse battery"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = signup["token"].as_str().context("no token")?;
        sessions.push(Session::open(&http, &args.mcp, token).await?);
    }
    let start = Instant::now();
    let clients: Vec<_> = sessions
        .into_iter()
        .map(|s| tokio::spawn(client(s, per_client)))
        .collect();
    let mut samples = Vec::new();
    for c in clients {
        samples.extend(c.await??);
    }
    let wall = start.elapsed();
    println!(
        "{} tool calls by {} MCP sessions in {:.1} s: {:.0} calls/s\n",
        samples.len(),
        args.concurrency,
        wall.as_secs_f64(),
        samples.len() as f64 / wall.as_secs_f64()
    );
    println!("| tool | calls | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|");
    for tool in ["add_task", "list_tasks", "complete_task", "all"] {
        let mut ms: Vec<f64> = samples
            .iter()
            .filter(|(t, _)| tool == "all" || *t == tool)
            .map(|(_, d)| d.as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        if ms.is_empty() {
            continue;
        }
        println!(
            "| {tool} | {} | {:.2} | {:.2} | {:.2} |",
            ms.len(),
            pct(&ms, 0.5),
            pct(&ms, 0.99),
            pct(&ms, 1.0)
        );
    }
    Ok(())
}
