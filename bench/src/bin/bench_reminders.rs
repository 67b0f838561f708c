//! The reminder scheduler at scale (issue 21): 1,000,000 pending reminders,
//! of which 10,000 fall due within the same minute; how late each of those
//! fires.
//!
//! Starts mock-openai, one API and N workers from target/release on a fresh
//! database, writes the reminders straight into PostgreSQL (100,000 tasks of
//! 1,000 users, ten reminders each: on 10,000 tasks the first is in the
//! minute that starts `--lead` seconds from now, every other one days
//! later), then waits for the minute's reminders and reads each one's
//! `reminder.due` event: its time and when it fired.
//!
//! Usage: bench-reminders [--workers N] [--tasks N] [--due N] [--lead S] [--spread S] [--bin-dir DIR]

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Parser;
use sqlx::{Connection, PgConnection};
use todo_bench::{Stack, pct};

/// 1,000,000 pending reminders, 10,000 of them due in one minute: how late
/// each of those fires, through N workers.
#[derive(Parser)]
#[command(name = "bench-reminders", version, after_help = todo_bench::STACK_ENV_HELP)]
struct Args {
    /// Worker processes (each runs the scheduler).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Tasks, ten reminders each.
    #[arg(long, default_value_t = 100_000)]
    tasks: u32,
    /// Of those, tasks whose first reminder falls in the measured minute.
    #[arg(long, default_value_t = 10_000)]
    due: u32,
    /// Seconds from now to the start of that minute (time to write the rest).
    #[arg(long, default_value_t = 90)]
    lead: u64,
    /// Over how many seconds the due ones are spread (0: all at one instant).
    #[arg(long, default_value_t = 60)]
    spread: u32,
    /// Where todo-api, todo-worker and mock-openai are.
    #[arg(long, default_value = "target/release")]
    bin_dir: String,
}

const USERS: u32 = 1_000;
const PER_TASK: u32 = 10;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.due > args.tasks || args.tasks < USERS {
        bail!("--due must be at most --tasks, and --tasks at least {USERS}");
    }
    let stack = Stack::start(&args.bin_dir, args.workers, 0).await?;
    let mut db = PgConnection::connect(&stack.db_url).await?;
    let start: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT now() + make_interval(secs => $1)")
            .bind(args.lead as f64)
            .fetch_one(&mut db)
            .await?;

    let loading = Instant::now();
    sqlx::query(
        "INSERT INTO users (id, email) SELECT 'bench-' || u, 'bench-' || u || '@bench.example'
         FROM generate_series(1, $1) u",
    )
    .bind(USERS as i32)
    .execute(&mut db)
    .await?;
    // Task t's reminders: the first in the minute from `start` (t <= due,
    // spread evenly over it) or a day later; the rest one more day apart.
    sqlx::query(
        r#"INSERT INTO tasks (user_id, number, title, reminders, next_reminder_at)
         SELECT 'bench-' || ((t - 1) % $2 + 1), (t - 1) / $2 + 1, 'bench reminder ' || t,
            r.list, r.first
         FROM generate_series(1, $1) t,
         LATERAL (
            SELECT jsonb_agg(jsonb_build_object(
                       'at', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                       'before_due_minutes', NULL, 'fired_at', NULL) ORDER BY a.at) AS list,
                   min(a.at) AS first
            FROM (SELECT CASE WHEN t <= $3 AND k = 0
                              THEN $4 + make_interval(secs => $6::float8 * (t - 1) / $3)
                              ELSE $4 + make_interval(days => k + 1, secs => t % 3600) END AS at
                  FROM generate_series(0, $5 - 1) k) a
         ) r"#,
    )
    .bind(args.tasks as i32)
    .bind(USERS as i32)
    .bind(args.due as i32)
    .bind(start)
    .bind(PER_TASK as i32)
    .bind(f64::from(args.spread))
    .execute(&mut db)
    .await?;
    sqlx::query(
        "INSERT INTO task_numbers (user_id, last) SELECT user_id, max(number) FROM tasks GROUP BY 1",
    )
    .execute(&mut db)
    .await?;
    sqlx::query("ANALYZE tasks").execute(&mut db).await?;
    let pending: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(jsonb_array_length(reminders)), 0)::bigint FROM tasks",
    )
    .fetch_one(&mut db)
    .await?;
    let loaded_in = loading.elapsed();
    let lead_left = start - chrono::Utc::now();
    if lead_left < chrono::TimeDelta::zero() {
        bail!("loading took {loaded_in:?}, past the minute's start: raise --lead");
    }

    // Wait for the minute, and then for its reminders (at most a minute more).
    let deadline = Instant::now() + lead_left.to_std()? + Duration::from_secs(180);
    let fired = loop {
        let fired: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE type = 'reminder.due'")
                .fetch_one(&mut db)
                .await?;
        if fired >= i64::from(args.due) || Instant::now() > deadline {
            break fired;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let rows: Vec<(f64, bool)> = sqlx::query_as(
        "SELECT extract(epoch FROM (data->>'fired_at')::timestamptz - (data->>'at')::timestamptz)::float8,
                (data->>'late')::boolean
         FROM events WHERE type = 'reminder.due'",
    )
    .fetch_all(&mut db)
    .await?;
    let mut late: Vec<f64> = rows.iter().map(|(l, _)| *l).collect();
    late.sort_by(f64::total_cmp);
    let early = late.iter().filter(|l| **l < 0.0).count();
    let within_60 = late.iter().filter(|l| **l <= 60.0).count();
    let marked_late = rows.iter().filter(|(_, l)| *l).count();
    let still_pending: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(jsonb_array_length(reminders)), 0)::bigint FROM tasks",
    )
    .fetch_one(&mut db)
    .await?;

    println!(
        "| workers | pending reminders | due | over | fired | within 60 s | early | lateness p50 | p99 | max | marked late |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {pending} | {} | {} s | {fired} | {within_60} | {early} | {:.2} s | {:.2} s | {:.2} s | {marked_late} |",
        args.workers,
        args.due,
        args.spread,
        pct(&late, 0.5),
        pct(&late, 0.99),
        late.last().copied().unwrap_or(f64::NAN),
    );
    eprintln!(
        "loaded {pending} reminders on {} tasks in {loaded_in:.1?}; {still_pending} reminders stored after the run",
        args.tasks
    );
    stack.stop().await?;
    if fired < i64::from(args.due) || early > 0 {
        bail!("{fired} of {} fired, {early} early", args.due);
    }
    Ok(())
}
