//! Chat throughput and latency through the whole pipeline:
//! API -> outbox/RabbitMQ -> worker(s) -> mock-openai -> reply.
//!
//! Starts mock-openai, one API and N workers from target/release as child
//! processes on a fresh database and queue prefix, then runs C clients;
//! each is a user with one conversation who sends a message and waits for
//! the answer (`Prefer: wait`) before sending the next.
//!
//! Usage: bench-chat [--workers N] [--clients C] [--turns T] [--latency-ms L] [--bin-dir DIR]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

struct Args {
    workers: usize,
    clients: usize,
    turns: usize,
    latency_ms: u64,
    bin_dir: String,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        workers: 1,
        clients: 32,
        turns: 2000,
        latency_ms: 0,
        bin_dir: "target/release".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--workers" => a.workers = v.parse()?,
            "--clients" => a.clients = v.parse()?,
            "--turns" => a.turns = v.parse()?,
            "--latency-ms" => a.latency_ms = v.parse()?,
            "--bin-dir" => a.bin_dir = v,
            _ => bail!("unknown flag {flag}; see the file header"),
        }
    }
    Ok(a)
}

/// Child processes are killed when the bench ends, however it ends.
struct Procs(Vec<(String, Child)>);

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Peak resident set size of a process, in MiB (VmHWM).
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let admin_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let stamp = chrono::Utc::now().timestamp();
    let db_name = format!("todo_bench_{stamp}");
    let db_url = format!(
        "{}/{db_name}",
        admin_url.rsplit_once('/').context("database URL")?.0
    );
    let prefix = format!("bench_{stamp}");
    let mut procs = Procs(Vec::new());

    // mock-openai prints its address first.
    let mut mock = Command::new(format!("{}/mock-openai", args.bin_dir))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start mock-openai (cargo build --release first)")?;
    let mut first = String::new();
    BufReader::new(mock.stdout.take().context("mock stdout")?).read_line(&mut first)?;
    let mock_addr = first
        .trim()
        .strip_prefix("listening on ")
        .context("mock-openai address")?
        .to_string();
    procs.0.push(("mock-openai".into(), mock));
    let http = reqwest::Client::new();
    if args.latency_ms > 0 {
        http.post(format!("http://{mock_addr}/_mock/config"))
            .json(&json!({"latency_ms": args.latency_ms}))
            .send()
            .await?
            .error_for_status()?;
    }

    let port = free_port()?;
    let env = |cmd: &mut Command| {
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db_url)
            .env("RABBITMQ_PREFIX", &prefix)
            .env("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600")
            .env("LOG_LEVEL", "error")
            .env(
                "BETTER_AUTH_SECRET",
                "bench-only-secret-0123456789abcdefghijkl",
            )
            .env("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghij")
            .env("CHAT_RATE_LIMIT_PER_MINUTE", "100000")
            .env("OPENAI_BASE_URL", format!("http://{mock_addr}/v1"))
            .env("OPENAI_API_KEY", "sk-bench")
            .env("WORKER_METRICS_PORT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
    };
    let mut api = Command::new(format!("{}/todo-api", args.bin_dir));
    env(&mut api);
    api.env("API_PORT", port.to_string())
        .env("API_HOST", "127.0.0.1");
    procs
        .0
        .push(("todo-api".into(), api.spawn().context("start todo-api")?));
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/health")).send().await
            && let Ok(h) = r.json::<Value>().await
            && h["broker_connected"] == true
        {
            break;
        }
        if Instant::now() > deadline {
            bail!("the API did not become healthy");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..args.workers {
        let mut w = Command::new(format!("{}/todo-worker", args.bin_dir));
        env(&mut w);
        procs.0.push((
            format!("todo-worker-{i}"),
            w.spawn().context("start todo-worker")?,
        ));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

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
    let mut db = PgConnection::connect(&db_url).await?;
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
    for (name, child) in &procs.0 {
        if let Some(rss) = peak_rss_mib(child.id()) {
            println!("| peak RSS {name} (MiB) | {rss:.1} |");
        }
    }
    drop(procs);
    drop(db);
    let mut admin = PgConnection::connect(&admin_url).await?;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{db_name}\" WITH (FORCE)"
        )))
        .await?;
    Ok(())
}
