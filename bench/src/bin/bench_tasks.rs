//! Latency of GET /health and GET /api/{user}/tasks with many tasks in one
//! account, against a running API (issue 2's measurement); with `--wrk S`,
//! throughput instead: wrk at 32 connections for S seconds on /health and
//! on the first page of 50 tasks, plain and gzip (issue 23).
//!
//! Usage: bench-tasks [--base-url URL] [--tasks N] [--requests N] [--wrk S] [--analyze-db URL]
//! Prints a Markdown table for docs/benchmarks.md.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

/// Latency of GET /health and of a task list with many tasks, against a
/// running API; prints a Markdown table.
#[derive(Parser)]
#[command(name = "bench-tasks", version)]
struct Args {
    /// The API's base URL.
    #[arg(long = "base-url", default_value = "http://127.0.0.1:8000")]
    base: String,
    /// Tasks created in the account first.
    #[arg(long, default_value_t = 10_000)]
    tasks: usize,
    /// Requests timed per endpoint.
    #[arg(long, default_value_t = 500)]
    requests: usize,
    /// Measure throughput with wrk (`-t2 -c32`, on PATH) for this many
    /// seconds per endpoint instead of sequential latency.
    #[arg(long)]
    wrk: Option<u64>,
    /// The API's database: `ANALYZE tasks` there after the fill. A freshly
    /// filled table has no statistics until autovacuum gets to it (up to a
    /// minute), and the planner then sorts every task of the account
    /// instead of reading the newest 50 by index (3.8 ms against 0.18 ms).
    #[arg(long = "analyze-db")]
    analyze_db: Option<String>,
}

/// One wrk run: requests/s and the latency p50 / p99 in ms.
fn run_wrk(url: &str, headers: &[String], seconds: u64) -> Result<(f64, f64, f64)> {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().context("run wrk (apt install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.contains("Non-2xx") {
        bail!("wrk on {url} failed or got errors:\n{text}");
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_string()))
            .with_context(|| format!("no {prefix:?} in wrk's output:\n{text}"))
    };
    let ms = |v: String| -> Result<f64> {
        let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
        let n: f64 = n.parse()?;
        Ok(match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            other => bail!("unknown unit {other:?}"),
        })
    };
    let rps: f64 = field("Requests/sec:")?.parse()?;
    Ok((rps, ms(field("50%")?)?, ms(field("99%")?)?))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

/// Sends `n` sequential GETs and returns (p50, p90, p99, max, mean) in ms.
async fn measure(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    n: usize,
) -> Result<[f64; 5]> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let mut req = http.get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let start = Instant::now();
        let res = req.send().await?;
        let status = res.status();
        res.bytes().await?;
        samples.push(start.elapsed());
        if !status.is_success() {
            bail!("{url} answered {status}");
        }
    }
    samples.sort();
    let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / n as f64 * 1000.0;
    Ok([
        percentile(&samples, 0.5),
        percentile(&samples, 0.9),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0),
        mean,
    ])
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let email = format!("bench-{}@example.com", std::process::id());
    let session: Value = http
        .post(format!("{}/api/auth/signup", args.base))
        .json(&json!({"email": email, "password": "benchmark password"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = session["token"].as_str().context("token")?.to_string();
    let user = session["user"]["id"]
        .as_str()
        .context("user id")?
        .to_string();

    // Fill the account through the API, 16 requests in flight.
    let start = Instant::now();
    let mut handles = Vec::new();
    for worker in 0..16 {
        let (http, base, token, user) =
            (http.clone(), args.base.clone(), token.clone(), user.clone());
        let count = args.tasks / 16 + usize::from(worker < args.tasks % 16);
        handles.push(tokio::spawn(async move {
            for i in 0..count {
                let priority = ["low", "medium", "high"][i % 3];
                let body = json!({
                    "title": format!("task {worker}-{i}"),
                    "priority": priority,
                    "tags": [format!("t{}", i % 7)],
                    "due_at": format!("2027-01-{:02}T12:00:00Z", 1 + i % 28),
                });
                http.post(format!("{base}/api/{user}/tasks"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?
                    .error_for_status()?;
            }
            anyhow::Ok(())
        }));
    }
    for h in handles {
        h.await??;
    }
    let fill = start.elapsed();
    let tasks_url = format!("{}/api/{user}/tasks", args.base);
    if let Some(url) = &args.analyze_db {
        let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
        sqlx::query("ANALYZE tasks").execute(&mut db).await?;
    }

    if let Some(seconds) = args.wrk {
        let auth = format!("Authorization: Bearer {token}");
        let gzip = "Accept-Encoding: gzip".to_string();
        println!("| 32 connections, {seconds} s | req/s | p50 ms | p99 ms |");
        println!("|---|---|---|---|");
        let cases = [
            ("GET /health", format!("{}/health", args.base), vec![]),
            (
                "GET /tasks?limit=50",
                format!("{tasks_url}?limit=50"),
                vec![auth.clone()],
            ),
            (
                "GET /tasks?limit=50, gzip",
                format!("{tasks_url}?limit=50"),
                vec![auth.clone(), gzip],
            ),
        ];
        for (name, url, headers) in cases {
            run_wrk(&url, &headers, 2)?; // warm-up
            let (rps, p50, p99) = run_wrk(&url, &headers, seconds)?;
            println!("| {name} | {rps:.0} | {p50:.2} | {p99:.2} |");
        }
        return Ok(());
    }

    // A cursor deep into the listing (page 100 of 50 at 10,000 tasks).
    let mut cursor = String::new();
    for _ in 0..(args.tasks / 50 / 2).max(1) {
        let page: Value = http
            .get(format!("{tasks_url}?cursor={cursor}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }

    println!(
        "{} tasks created through the API in {:.1} s ({:.0} creates/s, 16 in flight)\n",
        args.tasks,
        fill.as_secs_f64(),
        args.tasks as f64 / fill.as_secs_f64()
    );
    println!("| request | p50 ms | p90 ms | p99 ms | max ms | mean ms |");
    println!("|---|---|---|---|---|---|");
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("GET /health", format!("{}/health", args.base), None),
        (
            "GET /tasks (first page, 50)",
            tasks_url.clone(),
            Some(&token),
        ),
        (
            "GET /tasks?status=pending&sort=due",
            format!("{tasks_url}?status=pending&sort=due"),
            Some(&token),
        ),
        (
            "GET /tasks?sort=title&limit=200",
            format!("{tasks_url}?sort=title&limit=200"),
            Some(&token),
        ),
        (
            "GET /tasks?q=task 7-1",
            format!("{tasks_url}?q=task%207-1"),
            Some(&token),
        ),
        (
            "GET /tasks?tag=t3&priority=high",
            format!("{tasks_url}?tag=t3&priority=high"),
            Some(&token),
        ),
        (
            "GET /tasks deep page (cursor)",
            format!("{tasks_url}?cursor={cursor}"),
            Some(&token),
        ),
    ];
    for (name, url, auth) in cases {
        // Warm-up, then measure.
        measure(&http, &url, auth, 20).await?;
        let [p50, p90, p99, max, mean] = measure(&http, &url, auth, args.requests).await?;
        println!("| {name} | {p50:.2} | {p90:.2} | {p99:.2} | {max:.2} | {mean:.2} |");
    }
    Ok(())
}
