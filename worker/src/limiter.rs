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

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use todo_common::error::Result;
use todo_common::metric;

pub const REQUESTS: &str = "openai:requests";
pub const TOKENS: &str = "openai:tokens";

/// Requests that may start back to back before pacing applies.
const REQUEST_BURST: f64 = 2.0;
/// Token burst, as seconds' worth of the token rate.
const TOKEN_BURST_SECS: f64 = 2.0;

#[derive(Debug, Clone)]
pub struct Limiter {
    pool: PgPool,
    rpm: Option<f64>,
    tpm: Option<f64>,
    /// The fraction of the limit aimed for (OPENAI_LIMIT_TARGET).
    target: f64,
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
        sqlx::query("INSERT INTO rate_limits (key) VALUES ($1), ($2) ON CONFLICT (key) DO NOTHING")
            .bind(REQUESTS)
            .bind(TOKENS)
            .execute(&pool)
            .await?;
        Ok(Self {
            pool,
            rpm: rpm.map(f64::from),
            tpm: tpm.map(f64::from),
            target,
        })
    }

    /// Reserves one request and `tokens` estimated tokens.
    pub async fn reserve(&self, tokens: u32) -> Result<Reservation> {
        self.reserve_at(tokens, None).await
    }

    /// As `reserve`, at a given time (tests); None means PostgreSQL's now().
    pub async fn reserve_at(&self, tokens: u32, now: Option<DateTime<Utc>>) -> Result<Reservation> {
        // Rows without a known limit are only read (their pause still
        // applies): no write, no row lock, when nothing is paced.
        let (now, start): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
            "WITH t AS (SELECT COALESCE($1::timestamptz, now()) AS now), \
             v AS ( \
               SELECT x.key, x.cost, COALESCE(x.configured, l.learned_limit) AS lim, l.paused_until \
               FROM (VALUES ($2, 1.0::float8, $3::float8), ($4, $5::float8, $6::float8)) AS x(key, cost, configured) \
               JOIN rate_limits l ON l.key = x.key), \
             u AS ( \
               UPDATE rate_limits r SET \
                 tat = greatest(r.tat, t.now, COALESCE(r.paused_until, t.now)) \
                        + make_interval(secs => v.cost * 60.0 / (v.lim * $7)), \
                 updated_at = t.now \
               FROM v, t WHERE r.key = v.key AND v.lim IS NOT NULL AND v.cost > 0 \
               RETURNING greatest(t.now, COALESCE(r.paused_until, t.now), \
                 r.tat - make_interval(secs => v.cost * 60.0 / (v.lim * $7)) \
                       - make_interval(secs => CASE WHEN v.key = $2 \
                             THEN ($8 - 1.0) * 60.0 / (v.lim * $7) ELSE $9 END)) AS start) \
             SELECT t.now, greatest(t.now, (SELECT max(paused_until) FROM v), (SELECT max(start) FROM u)) \
             FROM t",
        )
        .bind(now)
        .bind(REQUESTS)
        .bind(self.rpm)
        .bind(TOKENS)
        .bind(f64::from(tokens))
        .bind(self.tpm)
        .bind(self.target)
        .bind(REQUEST_BURST)
        .bind(TOKEN_BURST_SECS)
        .fetch_one(&self.pool)
        .await?;
        let wait = (start - now).to_std().unwrap_or_default();
        Ok(Reservation { start, wait })
    }

    /// After the call: the server's usage replaces our estimate.
    pub async fn correct_tokens(&self, estimated: u32, actual: u32) -> Result<()> {
        let diff = f64::from(actual) - f64::from(estimated);
        if diff == 0.0 {
            return Ok(());
        }
        sqlx::query(
            "UPDATE rate_limits SET tat = tat + make_interval(secs => $2 * 60.0 / (lim * $3)) \
             FROM (SELECT COALESCE($4::float8, learned_limit) AS lim FROM rate_limits WHERE key = $1) l \
             WHERE key = $1 AND l.lim IS NOT NULL",
        )
        .bind(TOKENS)
        .bind(diff)
        .bind(self.target)
        .bind(self.tpm)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The server refused (429): nobody starts before `wait` has passed.
    pub async fn pause(&self, wait: Duration) -> Result<()> {
        self.pause_at(wait, None).await
    }

    pub async fn pause_at(&self, wait: Duration, now: Option<DateTime<Utc>>) -> Result<()> {
        sqlx::query(
            "UPDATE rate_limits SET \
               paused_until = greatest(COALESCE(paused_until, COALESCE($2, now())), COALESCE($2, now()) + $3), \
               tat = greatest(tat, COALESCE($2, now()) + $3) \
             WHERE key = $1",
        )
        .bind(REQUESTS)
        .bind(now)
        .bind(wait)
        .execute(&self.pool)
        .await?;
        metrics::counter!(metric::OPENAI_RATELIMIT_PAUSES_TOTAL).increment(1);
        Ok(())
    }

    /// Records a per-minute limit the server announced (x-ratelimit-limit-*).
    pub async fn learn(&self, key: &str, per_minute: f64) -> Result<()> {
        if !(per_minute.is_finite() && per_minute > 0.0) {
            return Ok(());
        }
        sqlx::query(
            "UPDATE rate_limits SET learned_limit = $2 \
             WHERE key = $1 AND learned_limit IS DISTINCT FROM $2",
        )
        .bind(key)
        .bind(per_minute)
        .execute(&self.pool)
        .await?;
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
