//! Load generator for rate-limit-aware queuing (issue 5).
//!
//! Starts mock-openai (with latency and an enforced RPM), one API and W
//! workers; signs up U users, opens their event streams, sends chat
//! messages at a set total rate for a while, then waits until every turn
//! is answered, and reports accept latency, end-to-end latency (post ->
//! message.completed on SSE), throughput, model calls per minute achieved
//! against the limit, 429s the mock sent, failed turns, order violations
//! per conversation and peak RSS.
//!
//! Chaos mode (`--kill-every N`, issue 10): during the send phase a random
//! worker is SIGKILLed every N seconds and started again at once. Beside the
//! usual figures it reports, from the database, turns lost and tasks or
//! answers duplicated (all must be 0), and for every turn a killed worker
//! held (its lease owner names the process) the delay from the kill to the
//! turn's next claim by another worker (its next `message.processing` event).
//!
//! Broker restart (`--restart-broker-at S[,S...]`, issues 10 and 19): S
//! seconds into the send phase a RabbitMQ node is stopped (`rabbitmqctl
//! stop_app`) and started again `--broker-down` seconds later (`rabbitmqctl
//! start_app`, also when the bench fails); several times make several stops,
//! one after another. `--broker-node` says which node: the machine's by
//! default; with a cluster (BENCH_RABBITMQ_URL), `leader:<node>` stops
//! whichever node leads the run's turn queue at that moment, asked of <node>
//! or, while that one is down, of another member that is up. A node already
//! down is never stopped: that stop is refused. Chat posts refused meanwhile
//! are counted by status (503 is acceptable, 500 never) instead of ending the
//! run; the report adds lost, failed and duplicated turns, the turns accepted
//! before, during, between and after the stops that were answered, whether
//! every process is still running and the API connected again (recovered
//! without a restart), and per stop: the node and when; the turns in flight
//! at the stop and how soon the last was answered; the longest post -> answer
//! of those accepted while the node was down; and the longest wait of a turn
//! in flight at the stop or posted until the next stop, counted from the stop
//! (or its post, if later) to its answer. With a cluster the run fails (exit
//! status 1) unless every stop was made, no turn was lost, failed or
//! duplicated, and that longest wait is at most 30 s for each stop (issue 19).
//!
//! Soak (issue 10): `--sse-churn N` connects N extra event-stream clients a
//! second, for random users, each leaving after 1-30 s; `--rss-every S`
//! samples the RSS of the API and each worker every S seconds and reports it
//! after `--warmup` seconds against the end. The services' ERROR and WARN
//! lines are counted from their stderr (set BENCH_LOG_LEVEL=warn to see WARN).
//!
//! Worker sizing (issue 11): `--worker-concurrency N` sets the workers'
//! WORKER_CONCURRENCY and `--worker-env KEY=VALUE` (repeatable) any other
//! variable of the workers only (DATABASE_POOL_SIZE, TURNS_PER_USER...);
//! `--latency-ms` is the mock's latency per model call. Each worker serves
//! its /metrics on a port of its own, and the report adds, per worker, the
//! peak of `worker_turns_in_flight` and of its pool's connections in use
//! (sampled every 250 ms), and the most model calls mock-openai had in
//! flight at once.
//!
//! Usage: bench-load [--workers W] [--users U] [--rate TURNS_PER_S] [--duration S]
//!        [--latency-ms L] [--mock-rpm M] [--openai-rpm R|unset] [--shrink-at S --shrink-rpm M2]
//!        [--target F] [--kill-every S]
//!        [--restart-broker-at S[,S...] [--broker-down S] [--broker-node NODE|leader:NODE]]
//!        [--sse-churn N] [--rss-every S [--warmup S]] [--drain-timeout S] [--bin-dir DIR]
//!        [--worker-concurrency N] [--worker-env KEY=VALUE]...

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{CommandFactory, Parser};
use serde_json::{Value, json};
use sqlx::PgPool;
use todo_bench::rabbitmq::{self, ClusterView, Target};
use todo_bench::{Stack, pct, rss_mib};

/// Chat load at a set rate through one API and W workers against
/// mock-openai; the file header says what each mode reports.
#[derive(Parser)]
#[command(name = "bench-load", version, after_help = todo_bench::STACK_ENV_HELP)]
struct Args {
    /// Worker processes.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Users, each with an event stream open.
    #[arg(long, default_value_t = 20)]
    users: usize,
    /// Chat messages per second, all users together.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// mock-openai's latency per model call.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per minute mock-openai enforces with 429s (`unset`: none).
    #[arg(long, value_parser = or_unset, default_value = "unset")]
    mock_rpm: Unset,
    /// OPENAI_RPM for the workers (`unset`: learnt from headers).
    #[arg(long, value_parser = or_unset, default_value = "unset")]
    openai_rpm: Unset,
    /// Seconds into the run at which mock-openai's limit shrinks...
    #[arg(long, value_parser = or_unset, default_value = "unset", requires = "shrink_rpm")]
    shrink_at: Unset,
    /// ...to this many requests per minute.
    #[arg(long, value_parser = or_unset, default_value = "unset")]
    shrink_rpm: Unset,
    /// Seconds to wait for the last answers after sending stops.
    #[arg(long, default_value_t = 1200)]
    drain_timeout: u64,
    /// OPENAI_LIMIT_TARGET for the workers (default: theirs).
    #[arg(long)]
    target: Option<String>,
    /// Chaos: SIGKILL (and restart) a random worker this often, in seconds.
    #[arg(long, value_parser = or_unset, default_value = "unset")]
    kill_every: Unset,
    /// Stop a RabbitMQ node this many seconds into the send phase (several,
    /// e.g. `20,50`: one stop after another)...
    #[arg(long, value_name = "S[,S...]", value_parser = stop_times, default_value = "unset")]
    restart_broker_at: StopTimes,
    /// ...for this many seconds each.
    #[arg(long, default_value_t = 5)]
    broker_down: u64,
    /// The RabbitMQ node `--restart-broker-at` stops (`rabbitmqctl -n`); with a
    /// cluster (BENCH_RABBITMQ_URL), `leader:<node>` stops whichever node leads
    /// the run's turn queue at each stop, asked of <node> (or of another member
    /// while <node> is down). Default: the machine's node.
    #[arg(long, value_name = "NODE|leader:NODE")]
    broker_node: Option<String>,
    /// Extra event-stream clients connecting (and later leaving) per second.
    #[arg(long, default_value_t = 0)]
    sse_churn: usize,
    /// Sample the services' RSS this often, in seconds (0: only peak RSS).
    #[arg(long, default_value_t = 0)]
    rss_every: u64,
    /// RSS growth is measured from this many seconds into the run.
    #[arg(long, default_value_t = 300)]
    warmup: u64,
    /// Where todo-api, todo-worker and mock-openai are.
    #[arg(long, default_value = "target/release")]
    bin_dir: String,
    /// WORKER_CONCURRENCY for the workers.
    #[arg(long, value_name = "N")]
    worker_concurrency: Option<u16>,
    /// Any other variable for the workers only (repeatable).
    #[arg(long = "worker-env", value_name = "KEY=VALUE", value_parser = key_value)]
    worker_env: Vec<(String, String)>,
}

/// A number, or `unset` for none. (An alias, so that clap parses it with
/// [`or_unset`] instead of treating the flag as optional.)
type Unset = Option<u64>;

/// A number, or `unset` for none.
fn or_unset(v: &str) -> Result<Unset, String> {
    match v {
        "unset" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| format!("`{v}`: expected a number or `unset`")),
    }
}

/// `--restart-broker-at`: seconds into the send phase, increasing.
#[derive(Clone, Debug, Default)]
struct StopTimes(Vec<u64>);

/// Seconds separated by commas (`20` or `20,50`), or `unset` for none.
fn stop_times(v: &str) -> Result<StopTimes, String> {
    if v == "unset" {
        return Ok(StopTimes::default());
    }
    let times = v
        .split(',')
        .map(|t| t.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("`{v}`: expected seconds separated by commas (20,50) or `unset`"))?;
    if times.windows(2).any(|w| w[1] <= w[0]) {
        return Err(format!("`{v}`: the times must increase"));
    }
    Ok(StopTimes(times))
}

fn key_value(v: &str) -> Result<(String, String), String> {
    v.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{v}`: expected KEY=VALUE"))
}

impl Args {
    /// Variables for the workers only.
    fn worker_env(&self) -> Vec<(String, String)> {
        let mut env = self.worker_env.clone();
        if let Some(n) = self.worker_concurrency {
            env.push(("WORKER_CONCURRENCY".into(), n.to_string()));
        }
        env
    }
}

#[derive(Default)]
struct Book {
    /// message id -> (conversation, sent at)
    sent: HashMap<String, (String, Instant)>,
    /// message id -> (answered at, failed?)
    done: HashMap<String, (Instant, bool)>,
    /// conversation -> message ids in the order their answers arrived
    answered_order: HashMap<String, Vec<String>>,
    /// conversation -> message ids in the order sent
    sent_order: HashMap<String, Vec<String>>,
    /// message.completed / message.failed events for a turn already answered
    duplicate_answers: usize,
}

async fn listen(mut res: reqwest::Response, book: Arc<Mutex<Book>>) {
    let mut buf = String::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let failed = block.contains("event: message.failed");
            if !failed && !block.contains("event: message.completed") {
                continue;
            }
            let now = Instant::now();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            let (Some(id), Some(conv)) = (v["message_id"].as_str(), v["conversation_id"].as_str())
            else {
                continue;
            };
            let mut b = book.lock().expect("lock");
            if b.done.insert(id.to_string(), (now, failed)).is_none() {
                b.answered_order
                    .entry(conv.to_string())
                    .or_default()
                    .push(id.to_string());
            } else {
                b.duplicate_answers += 1;
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    // One stop at a time: each node is started again before the next stop.
    let times = &args.restart_broker_at.0;
    if let Some(w) = times.windows(2).find(|w| w[1] < w[0] + args.broker_down) {
        Args::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--restart-broker-at: the stop at {} s begins before the one at {} s ends (--broker-down {})",
                    w[1], w[0], args.broker_down
                ),
            )
            .exit();
    }
    let result = run(&args).await;
    // Whatever happened, leave the broker running.
    let down = std::mem::take(&mut *DOWN.lock().expect("lock"));
    for node in down {
        if let Err(e) = rabbitmq::app(node.as_deref(), "start_app") {
            eprintln!("could not start RabbitMQ again ({e}); run `rabbitmqctl start_app`");
        }
    }
    result
}

async fn run(args: &Args) -> Result<()> {
    let mut mock_config = json!({ "latency_ms": args.latency_ms });
    if let Some(rpm) = args.mock_rpm {
        mock_config["rpm"] = json!(rpm);
    }
    let rpm_text = args.openai_rpm.map(|r| r.to_string());
    let mut env: Vec<(&str, &str)> = Vec::new();
    if let Some(r) = &rpm_text {
        env.push(("OPENAI_RPM", r.as_str()));
    }
    if let Some(t) = &args.target {
        env.push(("OPENAI_LIMIT_TARGET", t.as_str()));
    }
    let stack = Stack::start_with(
        &args.bin_dir,
        args.workers,
        &mock_config,
        &env,
        &args.worker_env(),
    )
    .await?;
    let gauges = watch_workers(stack.worker_metrics_ports.clone());
    let db = PgPool::connect(&stack.db_url).await?;
    let (base, mock_url) = (stack.base.clone(), format!("http://{}", stack.mock));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let sse = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let book = Arc::new(Mutex::new(Book::default()));

    let mut users = Vec::new();
    for u in 0..args.users {
        let s: Value = http
            .post(format!("{base}/api/auth/signup"))
            .json(&json!({ "email": format!("load{u}@bench.example"), "password": "benchmark password" }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = s["user"]["id"].as_str().context("id")?.to_string();
        let token = s["token"].as_str().context("token")?.to_string();
        let res = sse
            .get(format!("{base}/api/{id}/events"))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        tokio::spawn(listen(res, book.clone()));
        users.push((id, token, None::<String>));
    }

    // Watch the mock: calls and 429s over time (for rates and recovery).
    let samples: Arc<Mutex<Vec<(Instant, u64, u64)>>> = Arc::default();
    {
        let (samples, http, url) = (samples.clone(), http.clone(), mock_url.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(r) = http.get(format!("{url}/_mock/stats")).send().await
                    && let Ok(v) = r.json::<Value>().await
                {
                    let calls = v["requests"].as_u64().unwrap_or(0);
                    let refused = v["by_status"]["429"].as_u64().unwrap_or(0);
                    samples
                        .lock()
                        .expect("lock")
                        .push((Instant::now(), calls, refused));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }

    let prefix = stack.prefix.clone();
    let stack = Arc::new(tokio::sync::Mutex::new(stack));
    let chaos = args.kill_every.filter(|n| *n > 0).map(|every| {
        let (stack, db) = (stack.clone(), db.clone());
        let (workers, until) = (args.workers, Duration::from_secs(args.duration));
        tokio::spawn(chaos(stack, db, Duration::from_secs(every), workers, until))
    });
    let start = Instant::now();
    let send_until = start + Duration::from_secs(args.duration);
    let stops_asked = !args.restart_broker_at.0.is_empty();
    let restarts = stops_asked.then(|| {
        let (http, base) = (http.clone(), base.clone());
        let times = args.restart_broker_at.0.iter();
        let times = times.map(|s| start + Duration::from_secs(*s)).collect();
        let target = Target::parse(args.broker_node.as_deref());
        let queue = todo_common::queue::Topology::new(&prefix).turns_queue();
        tokio::spawn(restart_broker(
            http,
            base,
            times,
            Duration::from_secs(args.broker_down),
            target,
            queue,
        ))
    });
    let churn_stats: Arc<Mutex<Churn>> = Arc::default();
    if args.sse_churn > 0 {
        let who = users
            .iter()
            .map(|(u, t, _)| (u.clone(), t.clone()))
            .collect();
        let (sse, base, stats) = (sse.clone(), base.clone(), churn_stats.clone());
        tokio::spawn(churn(sse, base, who, args.sse_churn, send_until, stats));
    }
    let rss: Arc<Mutex<Vec<RssSample>>> = Arc::default();
    let sampler = (args.rss_every > 0).then(|| {
        let (stack, rss) = (stack.clone(), rss.clone());
        let every = Duration::from_secs(args.rss_every);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let sample = sample_rss(&*stack.lock().await, start);
                // Progress for long runs: one line a sample.
                let now: Vec<String> = sample
                    .by_process
                    .iter()
                    .map(|(n, r)| format!("{n}={r:.1}"))
                    .collect();
                eprintln!(
                    "rss at {:.0} s (MiB): {}",
                    sample.at.as_secs_f64(),
                    now.join(" ")
                );
                rss.lock().expect("lock").push(sample);
            }
        })
    });

    let mut accept_ms = Vec::new();
    // Chat posts not accepted, by status ("error" when no answer came).
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let mut next = Instant::now();
    let mut k = 0usize;
    let mut accepted = 0usize;
    let mut shrunk = None;
    while Instant::now() < send_until {
        if let (Some(at), Some(rpm), None) = (args.shrink_at, args.shrink_rpm, shrunk)
            && start.elapsed() >= Duration::from_secs(at)
        {
            let mut cfg = mock_config.clone();
            cfg["rpm"] = json!(rpm);
            http.post(format!("{mock_url}/_mock/config"))
                .json(&cfg)
                .send()
                .await?
                .error_for_status()?;
            shrunk = Some(Instant::now());
        }
        tokio::time::sleep_until(next.into()).await;
        next += interval;
        let slot = k % users.len();
        k += 1;
        let (user, token, conversation) = users[slot].clone();
        let mut body = json!({ "message": format!("add load task {k}") });
        if let Some(c) = &conversation {
            body["conversation_id"] = json!(c);
        }
        let t0 = Instant::now();
        let res = http
            .post(format!("{base}/api/{user}/chat"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let res = match res {
            Ok(r) if r.status().as_u16() == 202 => r,
            Ok(r) => {
                let status = r.status().as_u16();
                // A refusal must still be our JSON error body.
                let json = r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["error"].is_object());
                let key = if json {
                    status.to_string()
                } else {
                    format!("{status} (not JSON)")
                };
                *refused.entry(key).or_default() += 1;
                continue;
            }
            Err(e) => {
                eprintln!("chat post failed: {e}");
                *refused.entry("error".into()).or_default() += 1;
                continue;
            }
        };
        let v: Value = res.json().await?;
        accept_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        accepted += 1;
        let id = v["message_id"].as_str().context("message id")?.to_string();
        let conv = v["conversation_id"]
            .as_str()
            .context("conversation id")?
            .to_string();
        users[slot].2 = Some(conv.clone());
        let mut b = book.lock().expect("lock");
        b.sent.insert(id.clone(), (conv.clone(), t0));
        b.sent_order.entry(conv).or_default().push(id);
    }
    let sent_phase = start.elapsed();
    let total = accepted;
    let drain_deadline = Instant::now() + Duration::from_secs(args.drain_timeout);
    loop {
        let answered = book.lock().expect("lock").done.len();
        if answered >= total {
            break;
        }
        if Instant::now() > drain_deadline {
            eprintln!("drain timeout: {answered} of {total} answered");
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let kills = match chaos {
        Some(task) => Some(task.await.context("chaos task")??),
        None => None,
    };
    let stops = match restarts {
        Some(task) => Some(task.await.context("broker task")??),
        None => None,
    };
    if let Some(task) = sampler {
        task.abort();
        let _ = task.await;
        let last = sample_rss(&*stack.lock().await, start);
        rss.lock().expect("lock").push(last);
    }
    let mut stack = Arc::into_inner(stack)
        .context("a background task still holds the stack")?
        .into_inner();
    // The report reads the shared state; the guards end before the final await.
    report(
        args,
        &book,
        &samples,
        &stack,
        start,
        sent_phase,
        total,
        shrunk,
        &mut accept_ms,
    );
    let by: Vec<String> = refused.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let by = if by.is_empty() {
        "none".into()
    } else {
        by.join(", ")
    };
    println!("| chat posts not accepted, by status | {by} |");
    report_gauges(&gauges.lock().expect("lock"));
    let peak_calls = match http.get(format!("{mock_url}/_mock/stats")).send().await {
        Ok(r) => r
            .json::<Value>()
            .await
            .ok()
            .map(|v| v["peak_in_flight"].clone()),
        Err(_) => None,
    };
    if let Some(peak) = peak_calls {
        println!("| model calls in flight at mock-openai, at most | {peak} |");
    }
    // A turn claimed again lost its lease or hit a database error midway
    // (e.g. a heartbeat starved of connections): must stay 0 without chaos.
    let reclaimed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE role = 'user' AND attempts > 1")
            .fetch_one(&db)
            .await?;
    println!("| turns claimed more than once | {reclaimed} |");
    // What breaks issue 19's conditions, when they apply: a cluster and stops.
    let mut broken = Vec::new();
    if kills.is_some() || stops.is_some() || args.rss_every > 0 {
        let sse_dupes = book.lock().expect("lock").duplicate_answers;
        let f = report_faults(&db, total, kills.as_deref(), sse_dupes).await?;
        for (n, what) in [
            (f.lost, "lost"),
            (f.failed, "failed"),
            (f.duplicated_tasks, "tasks duplicated"),
            (f.duplicated_answers, "answers duplicated (stored)"),
            (sse_dupes as i64, "answers duplicated (SSE)"),
        ] {
            if n != 0 {
                broken.push(format!("{n} {what}"));
            }
        }
    }
    if let Some(stops) = &stops {
        broken.extend(report_stops(stops, start, &book, &mut stack, &http).await);
    }
    let checked = stops_asked && todo_bench::broker_is_cluster();
    if checked {
        println!(
            "| cluster: every stop made, 0 lost / failed / duplicated, every turn answered within {} s of each stop | {} |",
            STOP_WAIT_LIMIT.as_secs(),
            if broken.is_empty() {
                "yes".to_string()
            } else {
                format!("**no**: {}", broken.join("; "))
            }
        );
    }
    if args.sse_churn > 0 {
        let c = churn_stats.lock().expect("lock");
        println!(
            "| churn event streams opened / refused / ended by the server early | {} / {} / {} |",
            c.opened, c.refused, c.ended_early
        );
        println!("| churn event streams open at most | {} |", c.max_open);
    }
    if args.rss_every > 0 {
        report_rss(&rss.lock().expect("lock"), args.warmup);
    }
    for (name, t) in stack.log_tally() {
        println!(
            "| {name} ERROR / WARN lines | {} / {} |",
            t.errors, t.warnings
        );
        for line in t.first {
            println!("|   e.g. | `{}` |", line.replace('|', "/"));
        }
    }
    db.close().await;
    stack.stop().await?;
    if checked && !broken.is_empty() {
        bail!("the cluster run failed: {}", broken.join("; "));
    }
    Ok(())
}

/// The peaks of one worker's gauges, read from its /metrics.
#[derive(Clone, Copy, Default)]
struct WorkerGauges {
    turns_in_flight: f64,
    pool_in_use: f64,
    pool_max: f64,
}

/// Every 250 ms: each worker's `worker_turns_in_flight` and pool gauges,
/// keeping the peaks (a restarted worker keeps its port and its entry).
fn watch_workers(ports: Vec<u16>) -> Arc<Mutex<Vec<WorkerGauges>>> {
    let peaks = Arc::new(Mutex::new(vec![WorkerGauges::default(); ports.len()]));
    let out = peaks.clone();
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        loop {
            for (i, port) in ports.iter().enumerate() {
                let url = format!("http://127.0.0.1:{port}/metrics");
                let Ok(text) = async { http.get(url).send().await?.text().await }.await else {
                    continue;
                };
                let value = |name: &str| {
                    text.lines()
                        .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                };
                let mut p = peaks.lock().expect("lock");
                let g = &mut p[i];
                if let Some(v) = value("worker_turns_in_flight ") {
                    g.turns_in_flight = g.turns_in_flight.max(v);
                }
                if let Some(v) = value("db_pool_connections{state=\"in_use\"} ") {
                    g.pool_in_use = g.pool_in_use.max(v);
                }
                if let Some(v) = value("db_pool_max_connections ") {
                    g.pool_max = v;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    out
}

fn report_gauges(gauges: &[WorkerGauges]) {
    let turns: Vec<String> = gauges
        .iter()
        .map(|g| format!("{:.0}", g.turns_in_flight))
        .collect();
    let pool: Vec<String> = gauges
        .iter()
        .map(|g| format!("{:.0} / {:.0}", g.pool_in_use, g.pool_max))
        .collect();
    println!(
        "| turns in flight per worker, at most (worker_turns_in_flight) | {} |",
        turns.join(", ")
    );
    println!(
        "| pool connections in use / max per worker, at most (sampled) | {} |",
        pool.join(", ")
    );
}

/// Nodes `--restart-broker-at` stopped and has not started again (None: the
/// machine's own), to start them again whatever happens.
static DOWN: Mutex<Vec<Option<String>>> = Mutex::new(Vec::new());

/// Issue 19: "every turn answered within 30 s of each stop".
const STOP_WAIT_LIMIT: Duration = Duration::from_secs(30);

/// One stop of `--restart-broker-at`, made or refused (the node was down).
enum Stop {
    Made(Outage),
    Refused(String),
}

/// The node stopped, when, and when the API said it was connected again.
struct Outage {
    /// None: the machine's own.
    node: Option<String>,
    /// The cluster just before the stop.
    before: ClusterView,
    /// When `stop_app` was issued; the turns' waits are counted from here.
    stopping: Instant,
    /// When `stop_app` returned, and `start_app` `--broker-down` later.
    stopped: Instant,
    started: Instant,
    api_connected: Option<Instant>,
}

/// At each of `times`, stops the RabbitMQ application of the node `target`
/// names then (the Erlang node stays up), starts it again after `down`, and
/// waits (up to a minute) until the API's health check reports the broker
/// connected. One stop at a time: a quorum queue needs two nodes of three.
async fn restart_broker(
    http: reqwest::Client,
    base: String,
    times: Vec<Instant>,
    down: Duration,
    target: Target,
    queue: String,
) -> Result<Vec<Stop>> {
    // rabbitmqctl blocks for a second or so; the other tasks go on meanwhile.
    use tokio::task::block_in_place;
    let mut members = block_in_place(|| target.members());
    let mut stops = Vec::new();
    for at in times {
        tokio::time::sleep_until(at.into()).await;
        let (node, before) = match block_in_place(|| target.pick(&queue, &mut members)) {
            Ok(picked) => picked,
            Err(e) => {
                eprintln!("not stopping a RabbitMQ node: {e:#}");
                stops.push(Stop::Refused(format!("{e:#}")));
                continue;
            }
        };
        let name = node.as_deref().unwrap_or("(this machine's)").to_string();
        eprintln!("stopping RabbitMQ node {name}");
        DOWN.lock().expect("lock").push(node.clone());
        let stopping = Instant::now();
        block_in_place(|| rabbitmq::app(node.as_deref(), "stop_app"))?;
        let stopped = Instant::now();
        tokio::time::sleep(down).await;
        block_in_place(|| rabbitmq::app(node.as_deref(), "start_app"))?;
        DOWN.lock().expect("lock").retain(|n| *n != node);
        let started = Instant::now();
        eprintln!("started RabbitMQ node {name} again");
        let mut api_connected = None;
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(r) = http.get(format!("{base}/health")).send().await
                && let Ok(h) = r.json::<Value>().await
                && h["broker_connected"] == true
            {
                api_connected = Some(Instant::now());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stops.push(Stop::Made(Outage {
            node,
            before,
            stopping,
            stopped,
            started,
            api_connected,
        }));
    }
    Ok(stops)
}

/// What one stop did to the turns, from the book. A turn is answered when
/// its `message.completed` arrived; a failed one never is.
struct StopEffect {
    /// Turns in flight when `stop_app` was issued (accepted, not yet done),
    /// and from the stop until the last of them was answered.
    in_flight: usize,
    in_flight_answered: Option<Duration>,
    /// Turns accepted while the node was down (from `stop_app` issued to
    /// `start_app` returned), and the longest post -> answer among them.
    posted_down: usize,
    posted_down_longest: Option<Duration>,
    /// Those in flight at the stop and those posted from the stop until the
    /// next one (or the end), and the longest any of them waited: from the
    /// stop, or from its post if later, until its answer. This is the figure
    /// held to [`STOP_WAIT_LIMIT`]; None when a turn was never answered.
    affected: usize,
    longest_wait: Option<Duration>,
}

/// The larger of two waits; None (never answered) is larger than any.
fn worst(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    a.zip(b).map(|(a, b)| a.max(b))
}

fn stop_effect(b: &Book, o: &Outage, next_stop: Option<Instant>) -> StopEffect {
    let mut e = StopEffect {
        in_flight: 0,
        in_flight_answered: Some(Duration::ZERO),
        posted_down: 0,
        posted_down_longest: Some(Duration::ZERO),
        affected: 0,
        longest_wait: Some(Duration::ZERO),
    };
    for (id, (_, sent)) in &b.sent {
        let done = b.done.get(id);
        let answered = done.filter(|(_, failed)| !failed).map(|(t, _)| *t);
        let in_flight = *sent < o.stopping && done.is_none_or(|(t, _)| *t > o.stopping);
        let later = *sent >= o.stopping && next_stop.is_none_or(|n| *sent < n);
        if !(in_flight || later) {
            continue;
        }
        e.affected += 1;
        let from = (*sent).max(o.stopping);
        e.longest_wait = worst(e.longest_wait, answered.map(|t| t - from));
        if in_flight {
            e.in_flight += 1;
            e.in_flight_answered = worst(e.in_flight_answered, answered.map(|t| t - o.stopping));
        }
        if *sent >= o.stopping && *sent < o.started {
            e.posted_down += 1;
            e.posted_down_longest = worst(e.posted_down_longest, answered.map(|t| t - *sent));
        }
    }
    e
}

/// A wait over `turns` turns, for the report.
fn secs(turns: usize, d: Option<Duration>) -> String {
    match d {
        _ if turns == 0 => "-".into(),
        Some(d) => format!("{:.1} s", d.as_secs_f64()),
        None => "never (a turn is unanswered)".into(),
    }
}

/// Per stop: the node, when, and what it did to the turns ([`StopEffect`]);
/// the turns accepted and answered before, between and after the stops;
/// whether every process is still the one started (none exited) and the
/// API is connected: recovery without a restart. Returns, per stop, what
/// breaks issue 19's conditions (an empty list: none).
async fn report_stops(
    stops: &[Stop],
    start: Instant,
    book: &Mutex<Book>,
    stack: &mut Stack,
    http: &reqwest::Client,
) -> Vec<String> {
    // Fetch the API's health first: the book's guard must not live across an await.
    let healthy = match http.get(format!("{}/health", stack.base)).send().await {
        Ok(r) => r.json::<Value>().await.ok(),
        Err(_) => None,
    };
    let made: Vec<&Outage> = stops
        .iter()
        .filter_map(|s| match s {
            Stop::Made(o) => Some(o),
            Stop::Refused(_) => None,
        })
        .collect();
    let b = book.lock().expect("lock");
    let mut broken = Vec::new();
    let mut made_seen = 0;
    for (i, stop) in stops.iter().enumerate() {
        let n = i + 1;
        let o = match stop {
            Stop::Made(o) => o,
            Stop::Refused(why) => {
                println!("| stop {n}: refused | {} |", why.replace('|', "/"));
                broken.push(format!("stop {n} was refused ({why})"));
                continue;
            }
        };
        made_seen += 1;
        let next = made.get(made_seen).map(|o| o.stopping);
        let e = stop_effect(&b, o, next);
        println!(
            "| stop {n}: node (nodes up before the stop) / stop_app issued at (into the send phase) / down (stop_app returned -> start_app returned) | {} ({} of {}) / {:.1} s / {:.1} s |",
            o.node.as_deref().unwrap_or("this machine's"),
            o.before.running.len(),
            o.before.members.len(),
            (o.stopping - start).as_secs_f64(),
            (o.started - o.stopped).as_secs_f64()
        );
        println!(
            "| stop {n}: turns in flight at the stop / stop -> last of them answered | {} / {} |",
            e.in_flight,
            secs(e.in_flight, e.in_flight_answered)
        );
        println!(
            "| stop {n}: turns accepted while the node was down / longest post -> answer among them | {} / {} |",
            e.posted_down,
            secs(e.posted_down, e.posted_down_longest)
        );
        println!(
            "| stop {n}: turns in flight or posted until the next stop / longest wait from the stop (or the post) to the answer | {} / {} (limit {} s) |",
            e.affected,
            secs(e.affected, e.longest_wait),
            STOP_WAIT_LIMIT.as_secs()
        );
        match e.longest_wait {
            Some(w) if w <= STOP_WAIT_LIMIT => {}
            w => broken.push(format!(
                "stop {n}: a turn waited {} (limit {} s)",
                secs(e.affected, w),
                STOP_WAIT_LIMIT.as_secs()
            )),
        }
        match o.api_connected {
            Some(t) => println!(
                "| stop {n}: start_app -> API health broker_connected | {:.1} s |",
                (t - o.started).as_secs_f64()
            ),
            None => {
                println!("| stop {n}: start_app -> API health broker_connected | not within 60 s |")
            }
        }
        if let Some(t) = b
            .done
            .values()
            .map(|(t, _)| *t)
            .filter(|t| *t > o.started)
            .min()
        {
            println!(
                "| stop {n}: start_app -> first answer on SSE | {:.1} s |",
                (t - o.started).as_secs_f64()
            );
        }
    }
    // Accepted / answered per stretch: before the first stop, while each node
    // was down, between two stops, after the last.
    let bounds: Vec<Instant> = made.iter().flat_map(|o| [o.stopping, o.started]).collect();
    let mut stretches = vec![(0, 0); bounds.len() + 1];
    for (id, (_, sent)) in &b.sent {
        let s = &mut stretches[bounds.iter().filter(|t| **t <= *sent).count()];
        s.0 += 1;
        if b.done.get(id).is_some_and(|(_, failed)| !failed) {
            s.1 += 1;
        }
    }
    drop(b);
    let names: Vec<String> = (0..stretches.len())
        .map(|k| match k {
            0 => "before".to_string(),
            k if k == bounds.len() => "after".to_string(),
            k if k % 2 == 1 && made.len() == 1 => "during".to_string(),
            k if k % 2 == 1 => format!("down {}", k / 2 + 1),
            _ => "between".to_string(),
        })
        .collect();
    let counts: Vec<String> = stretches
        .iter()
        .map(|(sent, answered)| format!("{sent} / {answered}"))
        .collect();
    if !made.is_empty() {
        println!(
            "| turns accepted / answered {} the outage{} | {} |",
            names.join(" / "),
            if made.len() == 1 { "" } else { "s" },
            counts.join(", ")
        );
    }
    let exited: Vec<String> = stack
        .procs
        .iter_mut()
        .filter_map(|(n, c)| (!matches!(c.try_wait(), Ok(None))).then(|| n.clone()))
        .collect();
    println!(
        "| processes exited (none restarted by the bench) | {} |",
        if exited.is_empty() {
            "none".to_string()
        } else {
            exited.join(", ")
        }
    );
    println!(
        "| API health at the end | {} |",
        healthy.map_or("no answer".into(), |h| h.to_string())
    );
    broken
}

/// The extra event-stream clients of `--sse-churn`.
#[derive(Default)]
struct Churn {
    opened: usize,
    refused: usize,
    /// Streams the server closed before the client left.
    ended_early: usize,
    open: usize,
    max_open: usize,
}

/// Every second until `until`: `per_second` new event-stream clients for
/// random users, each leaving after 1-30 s.
async fn churn(
    sse: reqwest::Client,
    base: String,
    users: Vec<(String, String)>,
    per_second: usize,
    until: Instant,
    stats: Arc<Mutex<Churn>>,
) {
    // xorshift, seeded from the clock: random enough without a dependency.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut next = Instant::now();
    while next < until {
        tokio::time::sleep_until(next.into()).await;
        next += Duration::from_secs(1);
        for _ in 0..per_second {
            let (user, token) = users[rand() as usize % users.len()].clone();
            let life = Duration::from_secs(1 + rand() % 30);
            let (sse, url, stats) = (
                sse.clone(),
                format!("{base}/api/{user}/events"),
                stats.clone(),
            );
            tokio::spawn(async move {
                let res = sse.get(url).bearer_auth(token).send().await;
                let Ok(mut res) = res.and_then(|r| r.error_for_status()) else {
                    stats.lock().expect("lock").refused += 1;
                    return;
                };
                {
                    let mut s = stats.lock().expect("lock");
                    s.opened += 1;
                    s.open += 1;
                    s.max_open = s.max_open.max(s.open);
                }
                let read = async { while let Ok(Some(_)) = res.chunk().await {} };
                let early = tokio::time::timeout(life, read).await.is_ok();
                let mut s = stats.lock().expect("lock");
                s.open -= 1;
                if early {
                    s.ended_early += 1;
                }
            });
        }
    }
}

/// RSS (MiB) of the API and each worker at one moment.
struct RssSample {
    at: Duration,
    by_process: Vec<(String, f64)>,
}

fn sample_rss(stack: &Stack, start: Instant) -> RssSample {
    let by_process = stack
        .procs
        .iter()
        .filter(|(n, _)| n != "mock-openai")
        .filter_map(|(n, c)| rss_mib(c.id(), false).map(|r| (n.clone(), r)))
        .collect();
    RssSample {
        at: start.elapsed(),
        by_process,
    }
}

/// RSS after warm-up against the end, per process, and the whole series.
fn report_rss(samples: &[RssSample], warmup: u64) {
    let Some(last) = samples.last() else {
        return;
    };
    let warm = samples
        .iter()
        .find(|s| s.at >= Duration::from_secs(warmup))
        .unwrap_or(&samples[0]);
    for (name, end) in &last.by_process {
        let of = |s: &RssSample| {
            s.by_process
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, r)| *r)
        };
        let Some(at_warm) = of(warm) else { continue };
        let max = samples
            .iter()
            .filter(|s| s.at >= warm.at)
            .filter_map(of)
            .fold(f64::NAN, f64::max);
        println!(
            "| RSS {name} at {:.0} s / end ({:.0} s) / max after warm-up (MiB) | {at_warm:.1} / {end:.1} / {max:.1} ({:+.1} %) |",
            warm.at.as_secs_f64(),
            last.at.as_secs_f64(),
            (end / at_warm - 1.0) * 100.0
        );
        let series: Vec<String> = samples
            .iter()
            .filter_map(|s| of(s).map(|r| format!("{:.0}s={r:.1}", s.at.as_secs_f64())))
            .collect();
        eprintln!("rss {name}: {}", series.join(" "));
    }
}

/// One SIGKILL of the chaos mode.
struct Kill {
    at: DateTime<Utc>,
    /// Turns the killed worker held: (message id, claims so far).
    held: Vec<(String, i32)>,
}

/// Every `every` until `until` has passed: SIGKILL a random worker, note the
/// turns it held, start it again.
async fn chaos(
    stack: Arc<tokio::sync::Mutex<Stack>>,
    db: PgPool,
    every: Duration,
    workers: usize,
    until: Duration,
) -> Result<Vec<Kill>> {
    let start = Instant::now();
    let mut kills = Vec::new();
    let mut next = start + every;
    while next < start + until {
        tokio::time::sleep_until(next.into()).await;
        next += every;
        // Random enough without an RNG dependency.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .subsec_nanos();
        let victim = nanos as usize % workers;
        let mut s = stack.lock().await;
        let at = Utc::now();
        let pid = s.kill_worker(victim)?;
        // Lease owners are "w<pid>-<random>.<claim>": the dead process's turns.
        let held: Vec<(String, i32)> = sqlx::query_as(
            "SELECT id::text, attempts FROM messages \
             WHERE role = 'user' AND status = 'processing' AND lease_owner LIKE $1",
        )
        .bind(format!("w{pid}-%"))
        .fetch_all(&db)
        .await?;
        s.start_worker(victim)?;
        kills.push(Kill { at, held });
    }
    Ok(kills)
}

/// Lost, failed and duplicated work, from the database.
struct Faults {
    lost: i64,
    failed: i64,
    duplicated_tasks: i64,
    duplicated_answers: i64,
}

/// Fault figures (chaos and broker restart), from the database: lost and
/// duplicated work, chat posts refused, and how soon the turns of each killed
/// worker were claimed again.
async fn report_faults(
    db: &PgPool,
    sent: usize,
    kills: Option<&[Kill]>,
    sse_dupes: usize,
) -> Result<Faults> {
    let (completed, failed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed') \
         FROM messages WHERE role = 'user'",
    )
    .fetch_one(db)
    .await?;
    let (tasks, dup_tasks): (i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(n), 0)::bigint, count(*) FILTER (WHERE n > 1) \
         FROM (SELECT count(*) AS n FROM tasks GROUP BY user_id, title) t",
    )
    .fetch_one(db)
    .await?;
    let dup_answers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT reply_to FROM messages WHERE is_final \
         GROUP BY reply_to HAVING count(*) > 1) d",
    )
    .fetch_one(db)
    .await?;
    let lost = sent as i64 - completed - failed;
    println!("| turns lost (accepted, never answered) | {lost} |");
    println!("| turns failed | {failed} |");
    println!("| tasks created / duplicated (by title) | {tasks} / {dup_tasks} |");
    println!("| answers duplicated (stored / SSE) | {dup_answers} / {sse_dupes} |");
    let faults = Faults {
        lost,
        failed,
        duplicated_tasks: dup_tasks,
        duplicated_answers: dup_answers,
    };
    let Some(kills) = kills else {
        return Ok(faults);
    };
    let resumed_rows: Vec<(String, i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT data->>'message_id', (data->>'attempt')::int, created_at FROM events \
         WHERE type = 'message.processing'",
    )
    .fetch_all(db)
    .await?;
    let mut claims: HashMap<&str, Vec<(i32, DateTime<Utc>)>> = HashMap::new();
    for (id, attempt, at) in &resumed_rows {
        claims.entry(id).or_default().push((*attempt, *at));
    }
    let mut delays = Vec::new();
    let mut never = 0;
    for kill in kills {
        for (id, attempts) in &kill.held {
            let next = claims.get(id.as_str()).and_then(|c| {
                c.iter()
                    .filter(|(a, _)| a > attempts)
                    .map(|(_, t)| *t)
                    .min()
            });
            match next {
                Some(t) => delays.push((t - kill.at).num_milliseconds() as f64 / 1000.0),
                None => never += 1,
            }
        }
    }
    delays.sort_by(f64::total_cmp);
    let held: usize = kills.iter().map(|k| k.held.len()).sum();
    println!("| workers SIGKILLed (and restarted) | {} |", kills.len());
    println!("| turns held by a killed worker / never resumed | {held} / {never} |");
    println!(
        "| kill -> next claim of a held turn p50 / p99 / max (s) | {:.2} / {:.2} / {:.2} |",
        pct(&delays, 0.5),
        pct(&delays, 0.99),
        pct(&delays, 1.0)
    );
    Ok(faults)
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    book: &Mutex<Book>,
    samples: &Mutex<Vec<(Instant, u64, u64)>>,
    stack: &Stack,
    start: Instant,
    sent_phase: Duration,
    total: usize,
    shrunk: Option<Instant>,
    accept_ms: &mut [f64],
) {
    let b = book.lock().expect("lock");
    let mut e2e: Vec<f64> = b
        .sent
        .iter()
        .filter_map(|(id, (_, t))| {
            b.done
                .get(id)
                .map(|(d, _)| (*d - *t).as_secs_f64() * 1000.0)
        })
        .collect();
    e2e.sort_by(f64::total_cmp);
    accept_ms.sort_by(f64::total_cmp);
    let failed = b.done.values().filter(|(_, f)| *f).count();
    let last_done = b.done.values().map(|(d, _)| *d).max().unwrap_or(start);
    let busy = (last_done - start).as_secs_f64();
    let order_violations = b
        .sent_order
        .iter()
        .filter(|(c, sent)| b.answered_order.get(*c).map(|a| a != *sent).unwrap_or(true))
        .count();
    let s = samples.lock().expect("lock");
    let (calls, refused) = s.last().map(|(_, c, r)| (*c, *r)).unwrap_or((0, 0));
    // Calls per minute while work was waiting (from the first to the last answer).
    let rate_window = s
        .iter()
        .filter(|(t, _, _)| *t <= last_done)
        .collect::<Vec<_>>();
    let calls_per_min = match (rate_window.first(), rate_window.last()) {
        (Some(a), Some(z)) if z.0 > a.0 => (z.1 - a.1) as f64 / (z.0 - a.0).as_secs_f64() * 60.0,
        _ => f64::NAN,
    };
    let recovery = shrunk.and_then(|at| {
        let base = s
            .iter()
            .filter(|(t, _, _)| *t <= at)
            .map(|x| x.2)
            .next_back()
            .unwrap_or(0);
        s.iter()
            .filter(|(t, _, r)| *t > at && *r > base)
            .map(|(t, _, _)| *t)
            .max()
            .map(|t| (t - at).as_secs_f64())
    });

    println!(
        "workers={} users={} rate={}/s for {} s, model latency {} ms, mock rpm {:?}, OPENAI_RPM {:?}",
        args.workers,
        args.users,
        args.rate,
        args.duration,
        args.latency_ms,
        args.mock_rpm,
        args.openai_rpm
    );
    println!("| measure | value |\n|---|---|");
    println!(
        "| turns sent / answered / failed | {total} / {} / {failed} |",
        b.done.len()
    );
    println!(
        "| send phase / until last answer | {:.0} s / {busy:.0} s |",
        sent_phase.as_secs_f64()
    );
    println!(
        "| accept latency p50 / p99 / max (ms) | {:.1} / {:.1} / {:.1} |",
        pct(accept_ms, 0.5),
        pct(accept_ms, 0.99),
        pct(accept_ms, 1.0)
    );
    println!(
        "| post -> message.completed p50 / p99 (ms) | {:.0} / {:.0} |",
        pct(&e2e, 0.5),
        pct(&e2e, 0.99)
    );
    println!(
        "| turns/s (until last answer) | {:.2} |",
        b.done.len() as f64 / busy
    );
    println!("| model calls total / per minute achieved | {calls} / {calls_per_min:.1} |");
    println!("| 429s sent by mock-openai | {refused} |");
    println!("| conversations answered out of order | {order_violations} |");
    if let Some(r) = recovery {
        println!("| recovery after the limit shrank (last 429, s) | {r:.1} |");
    } else if shrunk.is_some() {
        println!("| recovery after the limit shrank | no 429 after the change |");
    }
    for (name, child) in &stack.procs {
        if let Some(rss) = rss_mib(child.id(), true) {
            println!("| peak RSS {name} (MiB) | {rss:.1} |");
        }
    }
}
