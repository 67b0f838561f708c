//! The API's memory through a sign-up storm (issue 23).
//!
//! Starts the API alone (and mock-openai, no worker), reads its idle RSS,
//! then sends N sign-ups, P at a time, sampling the API's RSS every few
//! milliseconds. Each sign-up hashes a password with argon2id (19 MiB
//! each), so what the allocator keeps of those buffers shows here. Reports
//! idle / peak / after, the answers by status (201; 503 `overloaded` with
//! Retry-After is the bound doing its job; 500 never) and the latency.
//!
//! Usage: bench-signup [--signups N] [--parallel P] [--bin-dir DIR]
//! Compare allocator settings without a rebuild through BENCH_SERVICE_ENV
//! (e.g. "MALLOC_ARENA_MAX=2").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::json;
use todo_bench::{Stack, pct, rss_mib};
use tokio::sync::Semaphore;

/// RSS of the API through a sign-up storm; prints a Markdown table.
#[derive(Parser)]
#[command(name = "bench-signup", version, after_help = todo_bench::STACK_ENV_HELP)]
struct Args {
    /// Sign-ups sent in all.
    #[arg(long, default_value_t = 400)]
    signups: usize,
    /// Sign-ups in flight at once.
    #[arg(long, default_value_t = 200)]
    parallel: usize,
    /// How often the API's RSS is read, in milliseconds.
    #[arg(long, default_value_t = 20)]
    sample_ms: u64,
    /// Seconds to wait after the storm before the last RSS reading (what
    /// the allocator gives back late, e.g. after a decay time).
    #[arg(long, default_value_t = 12)]
    settle: u64,
    /// Where todo-api and mock-openai are.
    #[arg(long, default_value = "target/release")]
    bin_dir: String,
}

/// The outcome of one sign-up: its status (0: no answer) and latency.
struct Outcome {
    status: u16,
    retry_after: bool,
    ms: f64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.signups == 0 || args.parallel == 0 {
        bail!("--signups and --parallel must be at least 1");
    }
    let stack = Stack::start(&args.bin_dir, 0, 0).await?;
    let api_pid = stack.pid("todo-api").context("api pid")?;
    // Let start-up work (migrations, the broker's first connection) settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_mib(api_pid, false).context("API RSS")?;

    // Sampled on a thread of its own, so a busy runtime cannot skip samples.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        let every = Duration::from_millis(args.sample_ms.max(1));
        std::thread::spawn(move || {
            let mut peak = 0.0_f64;
            let mut samples = 0usize;
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = rss_mib(api_pid, false) {
                    peak = peak.max(rss);
                    samples += 1;
                }
                std::thread::sleep(every);
            }
            (peak, samples)
        })
    };

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.parallel)
        .build()?;
    let gate = Arc::new(Semaphore::new(args.parallel));
    let started = Instant::now();
    let mut sent = Vec::with_capacity(args.signups);
    for i in 0..args.signups {
        let permit = gate.clone().acquire_owned().await?;
        let (http, base) = (http.clone(), stack.base.clone());
        sent.push(tokio::spawn(async move {
            let _permit = permit;
            let begun = Instant::now();
            let res = http
                .post(format!("{base}/api/auth/signup"))
                .json(&json!({
                    "email": format!("storm{i}@bench.example"),
                    "password": "benchmark password",
                }))
                .send()
                .await;
            let (status, retry_after) = match res {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let retry_after = res.headers().contains_key("retry-after");
                    let _ = res.bytes().await;
                    (status, retry_after)
                }
                Err(_) => (0, false),
            };
            Outcome {
                status,
                retry_after,
                ms: begun.elapsed().as_secs_f64() * 1000.0,
            }
        }));
    }
    let mut outcomes = Vec::with_capacity(sent.len());
    for s in sent {
        outcomes.push(s.await?);
    }
    let took = started.elapsed();
    let at_end = rss_mib(api_pid, false).unwrap_or(f64::NAN);
    tokio::time::sleep(Duration::from_secs(args.settle)).await;
    let settled = rss_mib(api_pid, false).unwrap_or(f64::NAN);
    done.store(true, Ordering::Relaxed);
    let (sampled_peak, samples) = sampler.join().unwrap_or((f64::NAN, 0));
    // The kernel's high-water mark catches a peak between two samples.
    let hwm = rss_mib(api_pid, true).unwrap_or(f64::NAN);

    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for o in &outcomes {
        *by_status.entry(o.status).or_default() += 1;
    }
    let refused_without_retry_after = outcomes
        .iter()
        .filter(|o| o.status == 503 && !o.retry_after)
        .count();
    let mut created: Vec<f64> = outcomes
        .iter()
        .filter(|o| o.status == 201)
        .map(|o| o.ms)
        .collect();
    created.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = outcomes.iter().map(|o| o.ms).collect();
    all.sort_by(f64::total_cmp);

    println!(
        "signups={} parallel={} BENCH_SERVICE_ENV={:?}",
        args.signups,
        args.parallel,
        std::env::var("BENCH_SERVICE_ENV").unwrap_or_default()
    );
    println!("| measure | value |\n|---|---|");
    println!(
        "| API RSS idle / peak (sampled every {} ms, {samples} samples; VmHWM) (MiB) | {idle:.1} / {sampled_peak:.1} ({hwm:.1}) |",
        args.sample_ms
    );
    println!(
        "| API RSS at the end / {} s later (MiB) | {at_end:.1} / {settled:.1} |",
        args.settle
    );
    let statuses: Vec<String> = by_status
        .iter()
        .map(|(s, n)| match s {
            0 => format!("no answer: {n}"),
            s => format!("{s}: {n}"),
        })
        .collect();
    println!("| answers | {} |", statuses.join(", "));
    println!(
        "| sign-up latency p50 / p99, created (ms) | {:.0} / {:.0} |",
        pct(&created, 0.5),
        pct(&created, 0.99)
    );
    println!(
        "| latency p50 / p99, every answer (ms) | {:.0} / {:.0} |",
        pct(&all, 0.5),
        pct(&all, 0.99)
    );
    println!("| storm took | {:.1} s |", took.as_secs_f64());
    let failed = by_status
        .iter()
        .filter(|(s, _)| !matches!(s, 201 | 503))
        .map(|(_, n)| n)
        .sum::<usize>();
    stack.stop().await?;
    if failed > 0 || refused_without_retry_after > 0 {
        bail!(
            "{failed} sign-ups answered neither 201 nor 503; {refused_without_retry_after} 503s without Retry-After"
        );
    }
    Ok(())
}
