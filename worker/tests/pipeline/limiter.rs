//! The shared limiter's arithmetic, run in PostgreSQL with explicit clocks.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use todo_worker::limiter::{self, Limiter};

/// A time well after the rows' creation, so it dominates their defaults;
/// in microseconds, PostgreSQL's precision.
fn t0() -> DateTime<Utc> {
    (Utc::now() + chrono::Duration::hours(1)).trunc_subsecs(6)
}

fn secs(s: f64) -> chrono::Duration {
    chrono::Duration::microseconds((s * 1e6).round() as i64)
}

async fn starts(l: &Limiter, at: DateTime<Utc>, n: usize, tokens: u32) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = l.reserve_at(tokens, Some(at)).await.unwrap();
        out.push((r.start - at).num_microseconds().unwrap() as f64 / 1e6);
        assert_eq!(r.wait, (r.start - at).to_std().unwrap());
    }
    out
}

#[tokio::test]
async fn requests_are_paced_evenly_after_a_small_burst_and_refill_when_idle() {
    let (_, pool) = testkit::fresh_database().await;
    let l = Limiter::new(pool, Some(60), None, 1.0).await.unwrap();
    let at = t0();
    // 60 per minute = one per second; a burst of two may start at once.
    assert_eq!(starts(&l, at, 5, 0).await, [0.0, 0.0, 1.0, 2.0, 3.0]);
    // Ten idle seconds later the bucket is full again: burst, then pacing.
    let later = at + secs(10.0);
    assert_eq!(starts(&l, later, 3, 0).await, [0.0, 0.0, 1.0]);
    // A reservation never starts in the past, even with a clock behind the row.
    let r = l.reserve_at(0, Some(at)).await.unwrap();
    assert!(r.start >= at);
}

#[tokio::test]
async fn the_target_fraction_leaves_headroom() {
    let (_, pool) = testkit::fresh_database().await;
    let l = Limiter::new(pool, Some(100), None, 0.9).await.unwrap();
    let at = t0();
    // 90 effective requests per minute: 0.667 s apart.
    let s = starts(&l, at, 4, 0).await;
    assert_eq!(s[0], 0.0);
    assert!(
        (s[2] - 0.6667).abs() < 0.001 && (s[3] - 1.3333).abs() < 0.001,
        "{s:?}"
    );
}

#[tokio::test]
async fn a_pause_holds_everyone_back_until_the_servers_reset() {
    let (_, pool) = testkit::fresh_database().await;
    let l = Limiter::new(pool, Some(600), None, 1.0).await.unwrap();
    let at = t0();
    l.pause_at(Duration::from_secs(5), Some(at)).await.unwrap();
    let s = starts(&l, at, 3, 0).await;
    assert!(s.iter().all(|x| *x >= 5.0), "{s:?}");
    assert_eq!(s[0], 5.0);
    // A shorter pause later does not shorten the longer one.
    l.pause_at(Duration::from_secs(1), Some(at)).await.unwrap();
    assert!(l.reserve_at(0, Some(at)).await.unwrap().start >= at + secs(5.0));
}

#[tokio::test]
async fn tokens_are_reserved_by_estimate_and_corrected_by_usage() {
    let (_, pool) = testkit::fresh_database().await;
    // 600 tokens per minute = 10 per second; two seconds of burst.
    let l = Limiter::new(pool, None, Some(600), 1.0).await.unwrap();
    let at = t0();
    assert_eq!(starts(&l, at, 1, 100).await, [0.0]); // uses 10 s of budget
    assert_eq!(starts(&l, at, 1, 100).await, [8.0]); // 10 s - 2 s burst
    // The first call really used 50 tokens, not 100: 5 s are given back.
    l.correct_tokens(100, 50).await.unwrap();
    assert_eq!(starts(&l, at, 1, 10).await, [13.0]); // tat was 20 s, now 15 s
}

#[tokio::test]
async fn without_a_known_limit_only_pauses_apply_until_one_is_learnt() {
    let (_, pool) = testkit::fresh_database().await;
    let l = Limiter::new(pool, None, None, 1.0).await.unwrap();
    let at = t0();
    assert_eq!(
        starts(&l, at, 4, 500).await,
        [0.0; 4],
        "no limit known: no pacing"
    );
    l.pause_at(Duration::from_secs(3), Some(at)).await.unwrap();
    assert_eq!(
        starts(&l, at, 2, 0).await,
        [3.0, 3.0],
        "but a 429's pause holds everyone"
    );
    l.learn(limiter::REQUESTS, 60.0).await.unwrap();
    let later = at + secs(100.0);
    assert_eq!(
        starts(&l, later, 3, 0).await,
        [0.0, 0.0, 1.0],
        "learnt 60/min"
    );
}

#[test]
fn token_estimates_count_prompt_characters_and_the_completion_budget() {
    assert_eq!(limiter::estimate_tokens(0, 0), 0);
    assert_eq!(limiter::estimate_tokens(9, 0), 3);
    assert_eq!(limiter::estimate_tokens(400, 256), 356);
}
