//! The model provider's rate limits, shared by every worker through
//! PostgreSQL: one row per limit (requests, tokens), paced with GCRA.
//!
//! A caller reserves a slot before each model call in one statement and
//! sleeps until its start time; reservations are spaced evenly (OpenAI
//! enforces a minute's limit in short slices) with a small burst. A 429
//! pauses every worker until the reset the server named. Limits come from
//! OPENAI_RPM / OPENAI_TPM, else from the server's x-ratelimit-limit-*
//! headers; with neither (Ollama, vLLM) only 429 pauses apply.
//! Times come from PostgreSQL's clock (one clock for all workers); tests
//! pass their own to check the arithmetic exactly.
//!
//! With no limit known (none configured, none learnt) there is nothing to
//! pace, and a call costs no statement: each worker reads the rows' learnt
//! limits and pause at most once a second (KNOWN_FOR), so a 429 elsewhere
//! holds it back within a second (one that it gets itself, at once).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use sqlx::PgPool;

use todo_common::error::Result;
use todo_common::metric;

pub const REQUESTS: &str = "openai:requests";
pub const TOKENS: &str = "openai:tokens";

/// Requests that may start back to back before pacing applies.
const REQUEST_BURST: f64 = 2.0;
/// Token burst, as seconds' worth of the token rate.
const TOKEN_BURST_SECS: f64 = 2.0;
/// How long what was read of the shared rows is taken as current.
const KNOWN_FOR: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Limiter {
    pool: PgPool,
    rpm: Option<f64>,
    tpm: Option<f64>,
    /// The fraction of the limit aimed for (OPENAI_LIMIT_TARGET).
    target: f64,
    known: Arc<Mutex<Known>>,
}

/// What this worker last read of the shared rows.
#[derive(Debug, Default, Clone, Copy)]
struct Known {
    requests: Option<f64>,
    tokens: Option<f64>,
    paused_until: Option<DateTime<Utc>>,
    /// PostgreSQL's clock minus ours, when read.
    skew: chrono::Duration,
    read_at: Option<Instant>,
}

/// A reserved slot: start the call at `start` (now or later).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reservation {
    pub start: DateTime<Utc>,
    pub wait: Duration,
}

impl Limiter {
    pub async fn new(
        pool: PgPool,
        rpm: Option<u32>,
        tpm: Option<u32>,
        target: f64,
    ) -> Result<Self> {
        sqlx::query!(
            "INSERT INTO rate_limits (key) VALUES ($1), ($2) ON CONFLICT (key) DO NOTHING",
            REQUESTS,
            TOKENS,
        )
        .execute(&pool)
        .await?;
        Ok(Self {
            pool,
            rpm: rpm.map(f64::from),
            tpm: tpm.map(f64::from),
            target,
            known: Arc::default(),
        })
    }

    /// Reserves one request and `tokens` estimated tokens.
    pub async fn reserve(&self, tokens: u32) -> Result<Reservation> {
        if self.rpm.is_none() && self.tpm.is_none() {
            let known = self.known().await?;
            if known.requests.is_none() && known.tokens.is_none() {
                // Nothing to pace: only a pause holds the call back.
                let now = Utc::now() + known.skew;
                let start = known.paused_until.filter(|p| *p > now).unwrap_or(now);
                let wait = (start - now).to_std().unwrap_or_default();
                return Ok(Reservation { start, wait });
            }
        }
        self.reserve_at(tokens, None).await
    }

    /// The shared rows as last read, read again when older than KNOWN_FOR.
    async fn known(&self) -> Result<Known> {
        if let Some(known) = self.fresh() {
            return Ok(known);
        }
        let read = sqlx::query!(
            r#"SELECT now() AS "now!",
                (SELECT learned_limit FROM rate_limits WHERE key = $1) AS requests,
                (SELECT learned_limit FROM rate_limits WHERE key = $2) AS tokens,
                (SELECT max(paused_until) FROM rate_limits WHERE key IN ($1, $2)) AS paused_until"#,
            REQUESTS,
            TOKENS,
        )
        .fetch_one(&self.pool)
        .await?;
        let (now, requests, tokens, paused_until) =
            (read.now, read.requests, read.tokens, read.paused_until);
        let mut known = self.known.lock();
        known.requests = requests;
        known.tokens = tokens;
        // A pause this worker made meanwhile is not undone by the read.
        known.paused_until = known.paused_until.max(paused_until);
        known.skew = now - Utc::now();
        known.read_at = Some(Instant::now());
        Ok(*known)
    }

    fn fresh(&self) -> Option<Known> {
        let known = self.known.lock();
        known
            .read_at
            .filter(|at| at.elapsed() < KNOWN_FOR)
            .map(|_| *known)
    }

    /// As `reserve`, at a given time (tests); None means PostgreSQL's now().
    pub async fn reserve_at(&self, tokens: u32, now: Option<DateTime<Utc>>) -> Result<Reservation> {
        // Rows without a known limit are only read (their pause still
        // applies): no write, no row lock, when nothing is paced.
        let slot = sqlx::query!(
            r#"WITH t AS (SELECT COALESCE($1::timestamptz, now()) AS now),
             v AS (
               SELECT x.key, x.cost, COALESCE(x.configured, l.learned_limit) AS lim, l.paused_until
               FROM (VALUES ($2::text, 1.0::float8, $3::float8), ($4::text, $5::float8, $6::float8))
                    AS x(key, cost, configured)
               JOIN rate_limits l ON l.key = x.key),
             u AS (
               UPDATE rate_limits r SET
                 tat = greatest(r.tat, t.now, COALESCE(r.paused_until, t.now))
                        + make_interval(secs => v.cost * 60.0 / (v.lim * $7::float8)),
                 updated_at = t.now
               FROM v, t WHERE r.key = v.key AND v.lim IS NOT NULL AND v.cost > 0
               RETURNING greatest(t.now, COALESCE(r.paused_until, t.now),
                 r.tat - make_interval(secs => v.cost * 60.0 / (v.lim * $7::float8))
                       - make_interval(secs => CASE WHEN v.key = $2::text
                             THEN ($8::float8 - 1.0) * 60.0 / (v.lim * $7::float8)
                             ELSE $9::float8 END)) AS start)
             SELECT t.now AS "now!",
                greatest(t.now, (SELECT max(paused_until) FROM v), (SELECT max(start) FROM u)) AS "start!"
             FROM t"#,
            now,
            REQUESTS,
            self.rpm,
            TOKENS,
            f64::from(tokens),
            self.tpm,
            self.target,
            REQUEST_BURST,
            TOKEN_BURST_SECS,
        )
        .fetch_one(&self.pool)
        .await?;
        let (now, start) = (slot.now, slot.start);
        let wait = (start - now).to_std().unwrap_or_default();
        Ok(Reservation { start, wait })
    }

    /// After the call: the server's usage replaces our estimate.
    pub async fn correct_tokens(&self, estimated: u32, actual: u32) -> Result<()> {
        let diff = f64::from(actual) - f64::from(estimated);
        let paced = self.tpm.is_some() || self.known.lock().tokens.is_some();
        if diff == 0.0 || !paced {
            return Ok(());
        }
        sqlx::query!(
            "UPDATE rate_limits SET tat = tat + make_interval(secs => $2::float8 * 60.0 / (lim * $3::float8))
             FROM (SELECT COALESCE($4::float8, learned_limit) AS lim FROM rate_limits WHERE key = $1) l
             WHERE key = $1 AND l.lim IS NOT NULL",
            TOKENS,
            diff,
            self.target,
            self.tpm,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The server refused (429): nobody starts before `wait` has passed.
    pub async fn pause(&self, wait: Duration) -> Result<()> {
        self.pause_at(wait, None).await
    }

    pub async fn pause_at(&self, wait: Duration, now: Option<DateTime<Utc>>) -> Result<()> {
        sqlx::query!(
            "UPDATE rate_limits SET
               paused_until = greatest(COALESCE(paused_until, COALESCE($2::timestamptz, now())),
                                       COALESCE($2::timestamptz, now()) + $3::interval),
               tat = greatest(tat, COALESCE($2::timestamptz, now()) + $3::interval)
             WHERE key = $1",
            REQUESTS,
            now,
            wait as _,
        )
        .execute(&self.pool)
        .await?;
        let mut known = self.known.lock();
        let until = Utc::now() + known.skew + chrono::Duration::from_std(wait).unwrap_or_default();
        known.paused_until = known.paused_until.max(Some(until));
        drop(known);
        metrics::counter!(metric::OPENAI_RATELIMIT_PAUSES_TOTAL).increment(1);
        Ok(())
    }

    /// Records a per-minute limit the server announced (x-ratelimit-limit-*).
    pub async fn learn(&self, key: &str, per_minute: f64) -> Result<()> {
        if !(per_minute.is_finite() && per_minute > 0.0) {
            return Ok(());
        }
        let already = {
            let known = self.known.lock();
            let learnt = if key == TOKENS {
                known.tokens
            } else {
                known.requests
            };
            known.read_at.is_some() && learnt == Some(per_minute)
        };
        if already {
            return Ok(());
        }
        sqlx::query!(
            "UPDATE rate_limits SET learned_limit = $2
             WHERE key = $1 AND learned_limit IS DISTINCT FROM $2",
            key,
            per_minute,
        )
        .execute(&self.pool)
        .await?;
        let mut known = self.known.lock();
        match key {
            TOKENS => known.tokens = Some(per_minute),
            _ => known.requests = Some(per_minute),
        }
        Ok(())
    }
}

/// Tokens a request will use, estimated before sending: prompt characters
/// over four, plus the completion budget.
pub fn estimate_tokens(prompt_chars: usize, max_completion: u32) -> u32 {
    u32::try_from(prompt_chars.div_ceil(4))
        .unwrap_or(u32::MAX)
        .saturating_add(max_completion)
}
