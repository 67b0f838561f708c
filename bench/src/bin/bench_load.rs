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
//! Usage: bench-load [--workers W] [--users U] [--rate TURNS_PER_S] [--duration S]
//!        [--latency-ms L] [--mock-rpm M] [--openai-rpm R|unset] [--shrink-at S --shrink-rpm M2]
//!        [--target F] [--kill-every S] [--drain-timeout S] [--bin-dir DIR]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use todo_bench::{Stack, pct, rss_mib};

struct Args {
    workers: usize,
    users: usize,
    rate: f64,
    duration: u64,
    latency_ms: u64,
    mock_rpm: Option<u64>,
    openai_rpm: Option<u64>,
    shrink_at: Option<u64>,
    shrink_rpm: Option<u64>,
    drain_timeout: u64,
    /// OPENAI_LIMIT_TARGET for the workers (None: their default).
    target: Option<String>,
    /// Chaos: SIGKILL (and restart) a random worker this often, in seconds.
    kill_every: Option<u64>,
    bin_dir: String,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        workers: 1,
        users: 20,
        rate: 2.0,
        duration: 60,
        latency_ms: 0,
        mock_rpm: None,
        openai_rpm: None,
        shrink_at: None,
        shrink_rpm: None,
        drain_timeout: 1200,
        target: None,
        kill_every: None,
        bin_dir: "target/release".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        let num = |v: &str| -> Result<Option<u64>> {
            Ok(if v == "unset" { None } else { Some(v.parse()?) })
        };
        match flag.as_str() {
            "--workers" => a.workers = v.parse()?,
            "--users" => a.users = v.parse()?,
            "--rate" => a.rate = v.parse()?,
            "--duration" => a.duration = v.parse()?,
            "--latency-ms" => a.latency_ms = v.parse()?,
            "--mock-rpm" => a.mock_rpm = num(&v)?,
            "--openai-rpm" => a.openai_rpm = num(&v)?,
            "--shrink-at" => a.shrink_at = num(&v)?,
            "--shrink-rpm" => a.shrink_rpm = num(&v)?,
            "--drain-timeout" => a.drain_timeout = v.parse()?,
            "--target" => a.target = Some(v),
            "--kill-every" => a.kill_every = num(&v)?.filter(|n| *n > 0),
            "--bin-dir" => a.bin_dir = v,
            _ => bail!("unknown flag {flag}; see the file header"),
        }
    }
    Ok(a)
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
    let args = parse_args()?;
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
    let stack = Stack::start_with(&args.bin_dir, args.workers, &mock_config, &env).await?;
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

    let stack = Arc::new(tokio::sync::Mutex::new(stack));
    let chaos = args.kill_every.map(|every| {
        let (stack, db) = (stack.clone(), db.clone());
        let (workers, until) = (args.workers, Duration::from_secs(args.duration));
        tokio::spawn(chaos(stack, db, Duration::from_secs(every), workers, until))
    });

    let start = Instant::now();
    let mut accept_ms = Vec::new();
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let mut next = Instant::now();
    let mut k = 0usize;
    let mut shrunk = None;
    while start.elapsed() < Duration::from_secs(args.duration) {
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
            .await?;
        if res.status().as_u16() != 202 {
            bail!("chat refused: {}", res.status());
        }
        let v: Value = res.json().await?;
        accept_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
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
    let total = k;
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
    let stack = Arc::into_inner(stack)
        .context("the chaos task still holds the stack")?
        .into_inner();
    // The report reads the shared state; the guards end before the final await.
    report(
        &args,
        &book,
        &samples,
        &stack,
        start,
        sent_phase,
        total,
        shrunk,
        &mut accept_ms,
    );
    if let Some(kills) = kills {
        let sse_dupes = book.lock().expect("lock").duplicate_answers;
        report_chaos(&db, total, &kills, sse_dupes).await?;
    }
    db.close().await;
    stack.stop().await
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

/// Chaos figures, from the database: lost and duplicated work, and how soon
/// the turns of each killed worker were claimed again.
async fn report_chaos(db: &PgPool, sent: usize, kills: &[Kill], sse_dupes: usize) -> Result<()> {
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
    let lost = sent as i64 - completed - failed;
    println!("| workers SIGKILLed (and restarted) | {} |", kills.len());
    println!("| turns lost (accepted, never answered) | {lost} |");
    println!("| turns failed | {failed} |");
    println!("| tasks created / duplicated (by title) | {tasks} / {dup_tasks} |");
    println!("| answers duplicated (stored / SSE) | {dup_answers} / {sse_dupes} |");
    println!("| turns held by a killed worker / never resumed | {held} / {never} |");
    println!(
        "| kill -> next claim of a held turn p50 / p99 / max (s) | {:.2} / {:.2} / {:.2} |",
        pct(&delays, 0.5),
        pct(&delays, 0.99),
        pct(&delays, 1.0)
    );
    Ok(())
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
