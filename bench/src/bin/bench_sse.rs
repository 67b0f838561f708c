//! SSE capacity and delivery delay of one API instance.
//!
//! Opens C event streams (one per user, tokens minted with the bench's
//! shared secret, as Better Auth would), records the API's RSS, then sends
//! T chat messages to random connected users and measures, per answer,
//! the delay from the worker's commit of the final message to the
//! message.completed event arriving at the client.
//!
//! Usage: bench-sse [--connections C] [--turns T] [--bin-dir DIR]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use todo_bench::{SECRET, Stack, pct, raise_open_file_limit, rss_mib};
use tokio::sync::mpsc;

fn token(user: &str) -> Result<String> {
    let now = chrono::Utc::now().timestamp();
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "sub": user, "iat": now, "exp": now + 3600 }),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )?)
}

/// Reads one SSE stream; sends the delay of every message.completed.
async fn listen(mut res: reqwest::Response, delays: mpsc::UnboundedSender<f64>) {
    let mut buf = String::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if !block.contains("event: message.completed") {
                continue;
            }
            let received = chrono::Utc::now();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if let Some(at) = v["message"]["created_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            {
                let ms = (received - at.with_timezone(&chrono::Utc))
                    .num_microseconds()
                    .unwrap_or(0) as f64
                    / 1000.0;
                let _ = delays.send(ms);
            }
        }
    }
}

/// Live-event delivery: C event streams open at once, then T answers to
/// random users, timing commit-to-delivery of each.
#[derive(Parser)]
#[command(name = "bench-sse", version, after_help = todo_bench::STACK_ENV_HELP)]
struct Args {
    /// Event streams held open.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Chat turns sent to random connected users.
    #[arg(long, default_value_t = 200)]
    turns: usize,
    /// Where todo-api, todo-worker and mock-openai are.
    #[arg(long, default_value = "target/release")]
    bin_dir: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let Args {
        connections,
        turns,
        bin_dir,
    } = Args::parse();
    // A socket per stream here and in the API (which inherits the limit),
    // and a few hundred files besides.
    let want = connections as u64 + 1024;
    let limit = raise_open_file_limit(want)?;
    if limit < want {
        bail!("{connections} streams need {want} open files; the limit is {limit}");
    }
    let stack = Stack::start(&bin_dir, 1, 0).await?;
    let api_pid = stack.pid("todo-api").context("api pid")?;
    let idle_rss = rss_mib(api_pid, false).unwrap_or(f64::NAN);
    // One client per connection: HTTP/1.1 streams each hold their own socket.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let (tx, mut delays) = mpsc::unbounded_channel();
    let open = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut users = Vec::with_capacity(connections);
    for i in 0..connections {
        let user = format!("sse-bench-{i}");
        let tok = token(&user)?;
        let res = http
            .get(format!("{}/api/{user}/events", stack.base))
            .bearer_auth(&tok)
            .send()
            .await?
            .error_for_status()?;
        open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(listen(res, tx.clone()));
        users.push((user, tok));
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held_rss = rss_mib(api_pid, false).unwrap_or(f64::NAN);

    // Answers to random connected users, a few in flight at a time.
    let sent = Instant::now();
    let base = Arc::new(stack.base.clone());
    let mut posts = Vec::new();
    for k in 0..turns {
        let (user, tok) = users[(k * 7919) % users.len()].clone();
        let (http, base) = (http.clone(), base.clone());
        posts.push(tokio::spawn(async move {
            http.post(format!("{base}/api/{user}/chat"))
                .bearer_auth(&tok)
                .json(&json!({ "message": format!("add sse bench {k}") }))
                .send()
                .await?
                .error_for_status()?;
            anyhow::Ok(())
        }));
        if posts.len() >= 4 {
            for p in posts.drain(..) {
                p.await??;
            }
        }
    }
    for p in posts {
        p.await??;
    }
    let mut samples = Vec::with_capacity(turns);
    while samples.len() < turns {
        match tokio::time::timeout(Duration::from_secs(60), delays.recv()).await {
            Ok(Some(ms)) => samples.push(ms),
            _ => bail!("only {} of {turns} answers arrived", samples.len()),
        }
    }
    samples.sort_by(f64::total_cmp);
    println!("connections={connections} turns={turns}");
    println!("| measure | value |\n|---|---|");
    println!(
        "| connections open / opened in | {} / {:.1} s |",
        open.load(Ordering::Relaxed),
        opened_in.as_secs_f64()
    );
    println!("| API RSS idle -> holding them (MiB) | {idle_rss:.1} -> {held_rss:.1} |");
    println!(
        "| per connection (KiB) | {:.1} |",
        (held_rss - idle_rss) * 1024.0 / connections as f64
    );
    println!(
        "| commit -> client delay p50 / p99 / max (ms) | {:.2} / {:.2} / {:.2} |",
        pct(&samples, 0.5),
        pct(&samples, 0.99),
        pct(&samples, 1.0)
    );
    println!(
        "| turns answered in | {:.1} s |",
        sent.elapsed().as_secs_f64()
    );
    println!(
        "| API peak RSS (MiB) | {:.1} |",
        rss_mib(api_pid, true).unwrap_or(f64::NAN)
    );
    stack.stop().await
}
