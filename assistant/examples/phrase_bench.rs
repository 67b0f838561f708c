//! Parse time per message over the phrase table: every row's message
//! through `respond_at` (first round), many times, timed one call at a
//! time. Run in release:
//!
//!     cargo run --release -p todo-assistant --example phrase_bench
//!
//! Prints the median (p50), p90, p99, p99.9 and maximum per message (the
//! maximum is mostly the machine: a preempted call). Not a test: timing
//! depends on the machine.

#[path = "../tests/phrases/table.rs"]
mod table;

use std::hint::black_box;
use std::time::Instant;

use chrono::NaiveDate;
use todo_assistant::respond_at;
use todo_common::llm::Message;

const ROUNDS: usize = 200;

fn main() {
    let rows = table::rows().expect("the table reads");
    let now = NaiveDate::from_ymd_opt(2026, 12, 7)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("valid time");
    let messages: Vec<Vec<Message>> = rows.iter().map(table::Row::conversation).collect();
    // Warm up.
    for m in &messages {
        black_box(respond_at(m, now));
    }
    let mut times: Vec<u128> = Vec::with_capacity(messages.len() * ROUNDS);
    let mut per_message: Vec<Vec<u128>> = vec![Vec::with_capacity(ROUNDS); messages.len()];
    for _ in 0..ROUNDS {
        for (m, own) in messages.iter().zip(per_message.iter_mut()) {
            let start = Instant::now();
            black_box(respond_at(black_box(m), now));
            let took = start.elapsed().as_nanos();
            times.push(took);
            own.push(took);
        }
    }
    // The slowest messages by their own median.
    let mut medians: Vec<(u128, &str)> = per_message
        .iter_mut()
        .zip(&rows)
        .map(|(own, row)| {
            own.sort_unstable();
            (own[own.len() / 2], row.message.as_str())
        })
        .collect();
    medians.sort_unstable_by(|a, b| b.cmp(a));
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    println!(
        "{} messages x {ROUNDS} rounds = {} calls of respond_at (first round)",
        messages.len(),
        times.len()
    );
    println!(
        "per message: p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        at(1.0)
    );
    for (median, message) in medians.iter().take(3) {
        println!(
            "slowest: {:.1} µs median: {message:?}",
            *median as f64 / 1000.0
        );
    }
}
