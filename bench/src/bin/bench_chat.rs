//! Chat throughput and latency through the whole pipeline:
//! API -> outbox/RabbitMQ -> worker(s) -> mock-openai -> reply.
//!
//! Starts mock-openai, one API and N workers from target/release as child
//! processes on a fresh database and queue prefix, then runs C clients;
//! each is a user with one conversation who sends a message and waits for
//! the answer (`Prefer: wait`) before sending the next.
//!
//! Usage: bench-chat [--workers N] [--clients C] [--turns T] [--latency-ms L] [--bin-dir DIR]

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use todo_bench::{Stack, pct, rss_mib};

/// End-to-end chat turns: C clients each send a message and wait for its
/// answer (`Prefer: wait`) before the next, through one API and N workers.
#[derive(Parser)]
#[command(name = "bench-chat", version, after_help = todo_bench::STACK_ENV_HELP)]
struct Args {
    /// Worker processes.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Concurrent clients, one user and conversation each.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Turns in total, split between the clients.
    #[arg(long, default_value_t = 2000)]
    turns: usize,
    /// mock-openai's latency per model call.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Where todo-api, todo-worker and mock-openai are.
    #[arg(long, default_value = "target/release")]
    bin_dir: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let stack = Stack::start(&args.bin_dir, args.workers, args.latency_ms).await?;
    let http = reqwest::Client::new();
    let base = stack.base.clone();

    // Clients: sign up, then send and wait, one message at a time.
    let mut sessions = Vec::new();
    for c in 0..args.clients {
        let s: Value = http
            .post(format!("{base}/api/auth/signup"))
            .json(&json!({"email": format!("client{c}@bench.example"), "password": "benchmark password"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        sessions.push((
            s["user"]["id"].as_str().context("id")?.to_string(),
            s["token"].as_str().context("token")?.to_string(),
        ));
    }
    let per_client = args.turns / args.clients;
    let base = Arc::new(base);
    let started = Instant::now();
    let mut handles = Vec::new();
    for (user, token) in sessions {
        let (http, base) = (http.clone(), base.clone());
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            let mut conversation: Option<String> = None;
            for i in 0..per_client {
                let mut body = json!({"message": format!("add bench task {i}")});
                if let Some(c) = &conversation {
                    body["conversation_id"] = json!(c);
                }
                let t0 = Instant::now();
                let r: Value = http
                    .post(format!("{base}/api/{user}/chat"))
                    .bearer_auth(&token)
                    .header("prefer", "wait=60")
                    .json(&body)
                    .send()
                    .await?
                    .json()
                    .await?;
                if r["status"] != "completed" {
                    bail!("turn not completed: {r}");
                }
                latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                conversation = r["conversation_id"].as_str().map(str::to_owned);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut client_ms = Vec::new();
    for h in handles {
        client_ms.extend(h.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    client_ms.sort_by(f64::total_cmp);

    // Server-side: commit of the user message to commit of the final answer.
    let mut db = PgConnection::connect(&stack.db_url).await?;
    let mut server_ms: Vec<f64> = sqlx::query_scalar(
        "SELECT (extract(epoch FROM f.created_at - u.created_at) * 1000)::float8 \
         FROM messages u JOIN messages f ON f.reply_to = u.id AND f.is_final WHERE u.role = 'user'",
    )
    .fetch_all(&mut db)
    .await?;
    server_ms.sort_by(f64::total_cmp);
    let tasks: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&mut db)
        .await?;

    let total = client_ms.len();
    println!(
        "workers={} clients={} turns={} model latency={} ms",
        args.workers, args.clients, total, args.latency_ms
    );
    println!("| measure | value |\n|---|---|");
    println!("| turns/s | {:.1} |", total as f64 / elapsed);
    println!(
        "| client latency p50 / p99 / max (ms, Prefer: wait) | {:.1} / {:.1} / {:.1} |",
        pct(&client_ms, 0.5),
        pct(&client_ms, 0.99),
        pct(&client_ms, 1.0)
    );
    println!(
        "| commit-to-answer p50 / p99 (ms, from the database) | {:.1} / {:.1} |",
        pct(&server_ms, 0.5),
        pct(&server_ms, 0.99)
    );
    println!("| tasks created / turns | {tasks} / {total} |");
    // Issue 24: a second handling of a turn, and why.
    let duplicates = stack
        .worker_metric_sum("turn_duplicate_deliveries_total", "")
        .await;
    let lost = stack
        .worker_metric_sum("turns_total", "outcome=\"lease_lost\"")
        .await;
    println!("| duplicate deliveries / leases lost (workers' metrics) | {duplicates} / {lost} |");
    for (name, child) in &stack.procs {
        if let Some(rss) = rss_mib(child.id(), true) {
            println!("| peak RSS {name} (MiB) | {rss:.1} |");
        }
    }
    drop(db);
    for (name, tally) in stack.log_tally() {
        println!(
            "| {name} logged (errors / warnings) | {} / {} |",
            tally.errors, tally.warnings
        );
    }
    stack.stop().await?;
    // Exactly once: one task per turn, whatever was delivered twice.
    if tasks != total as i64 {
        bail!("{tasks} tasks for {total} turns");
    }
    Ok(())
}
