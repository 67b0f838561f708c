//! OpenAI-style rate limits: one token bucket per limit (requests per minute,
//! tokens per minute) whose capacity is the per-minute limit and which
//! refills continuously at limit/60 per second. A fresh bucket starts full.
//!
//! Levels are kept as integers scaled by the nanoseconds in a minute, so a
//! bucket refills by exactly `limit` scaled units per elapsed nanosecond and
//! no rounding drift builds up.

use std::time::Instant;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Nanoseconds per minute: one unit (a request or a token) in scaled units.
const SCALE: i128 = 60_000_000_000;

const NANOS_PER_MS: i128 = 1_000_000;

/// Which limit a bucket enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Requests,
    Tokens,
}

impl Kind {
    /// The error `type` and header suffix OpenAI uses.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Requests => "requests",
            Kind::Tokens => "tokens",
        }
    }

    /// How OpenAI names the limit in messages.
    pub(crate) fn per_minute(self) -> &'static str {
        match self {
            Kind::Requests => "requests per min (RPM)",
            Kind::Tokens => "tokens per min (TPM)",
        }
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    limit: u64,
    /// Units available, scaled by [`SCALE`]. Below zero when a correction
    /// charged more than was reserved.
    level: i128,
    updated: Instant,
}

impl Bucket {
    fn full(limit: u64, now: Instant) -> Self {
        Self {
            limit,
            level: scaled(limit),
            updated: now,
        }
    }

    fn capacity(&self) -> i128 {
        scaled(self.limit)
    }

    fn refill(&mut self, now: Instant) {
        let nanos = now.saturating_duration_since(self.updated).as_nanos();
        let nanos = i128::try_from(nanos).unwrap_or(i128::MAX);
        self.level = self
            .level
            .saturating_add(nanos.saturating_mul(i128::from(self.limit)))
            .min(self.capacity());
        self.updated = self.updated.max(now);
    }

    /// Milliseconds (rounded up) until `scaled_amount` more is available;
    /// `None` when the bucket never refills (a limit of 0).
    fn ms_until(&self, scaled_amount: i128) -> Option<u64> {
        let deficit = scaled_amount.saturating_sub(self.level);
        if deficit <= 0 {
            return Some(0);
        }
        if self.limit == 0 {
            return None;
        }
        let nanos = div_ceil(deficit, i128::from(self.limit));
        Some(u64::try_from(div_ceil(nanos, NANOS_PER_MS)).unwrap_or(u64::MAX))
    }

    /// Milliseconds until `need` units are available; `None` if never.
    fn wait_ms(&self, need: u64) -> Option<u64> {
        if need > self.limit {
            return None;
        }
        self.ms_until(scaled(need))
    }

    fn remaining(&self) -> u64 {
        u64::try_from(self.level.max(0) / SCALE).unwrap_or(u64::MAX)
    }

    /// Whole units in use (rounded up), as OpenAI's "Used N" reports it.
    fn used(&self) -> u64 {
        let used = self.capacity().saturating_sub(self.level).max(0);
        u64::try_from(div_ceil(used, SCALE)).unwrap_or(u64::MAX)
    }

    fn state(&self) -> BucketState {
        BucketState {
            limit: self.limit,
            remaining: self.remaining(),
            reset_ms: self.ms_until(self.capacity()).unwrap_or(0),
        }
    }

    /// Follows a change of limit: what was used in the rolling minute stays
    /// used (so shrinking the limit bites at once), and the level stays
    /// within `0..=new capacity`.
    fn set_limit(&mut self, limit: u64) {
        let used = self.capacity().saturating_sub(self.level);
        self.limit = limit;
        self.level = self
            .capacity()
            .saturating_sub(used)
            .clamp(0, self.capacity());
    }
}

fn scaled(units: u64) -> i128 {
    i128::from(units).saturating_mul(SCALE)
}

/// Ceiling division for a non-negative numerator and positive divisor.
fn div_ceil(n: i128, d: i128) -> i128 {
    n / d + i128::from(n % d != 0)
}

/// One limit as the `x-ratelimit-*` headers report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BucketState {
    pub limit: u64,
    pub remaining: u64,
    /// Until the bucket is full again.
    pub reset_ms: u64,
}

/// Both limits at one moment; `None` where no limit is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub requests: Option<BucketState>,
    pub tokens: Option<BucketState>,
}

impl Snapshot {
    /// Adds OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
    /// headers for each limit that is set.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        for (kind, state) in [(Kind::Requests, self.requests), (Kind::Tokens, self.tokens)] {
            let Some(state) = state else { continue };
            let suffix = kind.name();
            let mut put = |what: &str, value: HeaderValue| {
                if let Ok(name) = HeaderName::try_from(format!("x-ratelimit-{what}-{suffix}")) {
                    headers.insert(name, value);
                }
            };
            put("limit", HeaderValue::from(state.limit));
            put("remaining", HeaderValue::from(state.remaining));
            if let Ok(reset) = HeaderValue::from_str(&format_duration(state.reset_ms)) {
                put("reset", reset);
            }
        }
    }
}

/// Why a request was refused; nothing was taken from either bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The limit that is reported (the one with the longer wait).
    pub kind: Kind,
    pub limit: u64,
    pub used: u64,
    pub requested: u64,
    /// Until both buckets can take the request; `None` when the request is
    /// larger than the limit and can never succeed.
    pub retry_after_ms: Option<u64>,
    pub snapshot: Snapshot,
}

/// The buckets for the limits currently configured.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
}

impl Limits {
    /// Applies new limits: an unchanged limit keeps its bucket, a new one
    /// starts full, a removed one is dropped, a changed one keeps its usage.
    pub(crate) fn configure(&mut self, rpm: Option<u64>, tpm: Option<u64>, now: Instant) {
        for (bucket, limit) in [(&mut self.requests, rpm), (&mut self.tokens, tpm)] {
            match (bucket.as_mut(), limit) {
                (_, None) => *bucket = None,
                (None, Some(limit)) => *bucket = Some(Bucket::full(limit, now)),
                (Some(current), Some(limit)) => {
                    current.refill(now);
                    if current.limit != limit {
                        current.set_limit(limit);
                    }
                }
            }
        }
    }

    fn refill(&mut self, now: Instant) {
        for bucket in [&mut self.requests, &mut self.tokens].into_iter().flatten() {
            bucket.refill(now);
        }
    }

    fn snapshot_now(&self) -> Snapshot {
        Snapshot {
            requests: self.requests.as_ref().map(Bucket::state),
            tokens: self.tokens.as_ref().map(Bucket::state),
        }
    }

    /// The state at `now`, nothing taken.
    pub(crate) fn snapshot(&mut self, now: Instant) -> Snapshot {
        self.refill(now);
        self.snapshot_now()
    }

    /// Takes one request and `tokens` tokens if both buckets can give them
    /// (then returns the state after taking); otherwise takes nothing.
    pub(crate) fn admit(&mut self, tokens: u64, now: Instant) -> Result<Snapshot, Refusal> {
        self.refill(now);
        // The limit that refuses: the one that would be the longest to wait
        // for, a request too large for its limit above all; requests win ties.
        let mut worst: Option<(Kind, &Bucket, u64, Option<u64>)> = None;
        for (kind, bucket, need) in [
            (Kind::Requests, &self.requests, 1),
            (Kind::Tokens, &self.tokens, tokens),
        ] {
            let Some(bucket) = bucket else { continue };
            let wait = bucket.wait_ms(need);
            if wait == Some(0) {
                continue;
            }
            let worse = match &worst {
                None => true,
                Some((_, _, _, None)) => false,
                Some((_, _, _, Some(current))) => wait.is_none_or(|w| w > *current),
            };
            if worse {
                worst = Some((kind, bucket, need, wait));
            }
        }
        if let Some((kind, bucket, requested, retry_after_ms)) = worst {
            return Err(Refusal {
                kind,
                limit: bucket.limit,
                used: bucket.used(),
                requested,
                retry_after_ms,
                snapshot: self.snapshot_now(),
            });
        }
        if let Some(bucket) = &mut self.requests {
            bucket.level -= SCALE;
        }
        if let Some(bucket) = &mut self.tokens {
            bucket.level -= scaled(tokens);
        }
        Ok(self.snapshot_now())
    }

    /// Corrects the token bucket once the real cost is known: gives back
    /// `reserved` tokens and takes `actual` instead.
    pub(crate) fn correct_tokens(&mut self, reserved: u64, actual: u64, now: Instant) {
        if let Some(bucket) = &mut self.tokens {
            bucket.refill(now);
            bucket.level = bucket
                .level
                .saturating_add(scaled(reserved))
                .saturating_sub(scaled(actual))
                .min(bucket.capacity());
        }
    }
}

/// A duration the way OpenAI's `x-ratelimit-reset-*` headers and messages
/// write it (Go style, to the millisecond): "12ms", "1s", "1.5s", "6m0s",
/// "1m30.5s", "1h0m0s"; zero is "0s".
pub(crate) fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let hours = ms / 3_600_000;
    let minutes = ms / 60_000 % 60;
    let seconds = ms / 1000 % 60;
    let millis = ms % 1000;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&seconds.to_string());
    if millis > 0 {
        let fraction = format!("{millis:03}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('s');
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_are_written_like_openai() {
        for (ms, text) in [
            (0, "0s"),
            (1, "1ms"),
            (12, "12ms"),
            (600, "600ms"),
            (999, "999ms"),
            (1000, "1s"),
            (1001, "1.001s"),
            (1200, "1.2s"),
            (1500, "1.5s"),
            (1050, "1.05s"),
            (59_999, "59.999s"),
            (60_000, "1m0s"),
            (61_010, "1m1.01s"),
            (90_500, "1m30.5s"),
            (360_000, "6m0s"),
            (3_600_000, "1h0m0s"),
            (3_723_400, "1h2m3.4s"),
        ] {
            assert_eq!(format_duration(ms), text, "{ms}ms");
        }
    }

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_bucket_starts_full_and_refills_continuously() {
        let t0 = Instant::now();
        let mut limits = Limits::default();
        limits.configure(Some(60), None, t0);
        let first = limits.admit(0, t0).expect("full");
        let state = first.requests.expect("rpm set");
        assert_eq!(
            (state.limit, state.remaining, state.reset_ms),
            (60, 59, 1000)
        );
        assert_eq!(first.tokens, None);
        for _ in 1..60 {
            limits.admit(0, t0).expect("still capacity");
        }
        let refusal = limits.admit(0, t0).expect_err("empty");
        assert_eq!(refusal.kind, Kind::Requests);
        assert_eq!(
            (refusal.limit, refusal.used, refusal.requested),
            (60, 60, 1)
        );
        assert_eq!(refusal.retry_after_ms, Some(1000));
        let state = refusal.snapshot.requests.expect("rpm set");
        assert_eq!((state.remaining, state.reset_ms), (0, 60_000));
        // 400ms later 0.4 of a request has refilled: 600ms to go.
        let refusal = limits.admit(0, at(t0, 400)).expect_err("still empty");
        assert_eq!(refusal.retry_after_ms, Some(600));
        assert_eq!(refusal.used, 60, "59.6 used, rounded up");
        limits.admit(0, at(t0, 1000)).expect("one refilled");
        assert!(limits.admit(0, at(t0, 1000)).is_err());
        // A long pause refills to the capacity, never beyond.
        let state = limits.snapshot(at(t0, 3_600_000)).requests.expect("set");
        assert_eq!((state.remaining, state.reset_ms), (60, 0));
    }

    #[test]
    fn tokens_are_reserved_then_corrected() {
        let t0 = Instant::now();
        let mut limits = Limits::default();
        limits.configure(None, Some(1000), t0);
        let state = limits.admit(600, t0).expect("fits").tokens.expect("set");
        assert_eq!((state.remaining, state.reset_ms), (400, 36_000));
        let refusal = limits.admit(600, t0).expect_err("400 left");
        assert_eq!(refusal.kind, Kind::Tokens);
        assert_eq!((refusal.used, refusal.requested), (600, 600));
        assert_eq!(refusal.retry_after_ms, Some(12_000));
        // 100 reserved for the completion, 30 used: 70 come back.
        limits.correct_tokens(100, 30, t0);
        assert_eq!(limits.snapshot(t0).tokens.expect("set").remaining, 470);
        // Unreserved completion tokens are charged, even below zero.
        limits.admit(470, t0).expect("exactly enough");
        limits.correct_tokens(0, 60, t0);
        let refusal = limits.admit(0, t0).expect_err("in debt");
        assert_eq!(refusal.retry_after_ms, Some(3_600));
        assert_eq!(refusal.used, 1060);
        assert_eq!(limits.snapshot(t0).tokens.expect("set").remaining, 0);
        // Never corrected above the capacity.
        let mut fresh = Limits::default();
        fresh.configure(None, Some(1000), t0);
        fresh.correct_tokens(500, 0, t0);
        assert_eq!(fresh.snapshot(t0).tokens.expect("set").remaining, 1000);
    }

    #[test]
    fn too_large_requests_can_never_pass() {
        let t0 = Instant::now();
        let mut limits = Limits::default();
        limits.configure(Some(10), Some(100), t0);
        let refusal = limits.admit(101, t0).expect_err("too large");
        assert_eq!(refusal.kind, Kind::Tokens);
        assert_eq!(refusal.retry_after_ms, None);
        // Nothing was taken.
        let snapshot = limits.snapshot(t0);
        assert_eq!(snapshot.requests.expect("set").remaining, 10);
        assert_eq!(snapshot.tokens.expect("set").remaining, 100);

        limits.configure(Some(0), None, t0);
        assert_eq!(limits.admit(0, t0).expect_err("rpm 0").retry_after_ms, None);
    }

    #[test]
    fn the_longer_wait_is_reported_and_nothing_is_taken() {
        let t0 = Instant::now();
        let mut limits = Limits::default();
        limits.configure(Some(60), Some(600), t0);
        limits.admit(600, t0).expect("fits both");
        // Requests: 59 left. Tokens: 0 left, 10 tokens refill per second.
        let refusal = limits.admit(5, t0).expect_err("tokens short");
        assert_eq!(refusal.kind, Kind::Tokens);
        assert_eq!(refusal.retry_after_ms, Some(500));
        assert_eq!(refusal.snapshot.requests.expect("set").remaining, 59);
        let refusal = limits.admit(20, t0).expect_err("tokens short");
        assert_eq!(refusal.retry_after_ms, Some(2000));
        let state = limits.admit(5, at(t0, 500)).expect("refilled");
        assert_eq!(state.requests.expect("set").remaining, 58);
        assert_eq!(state.tokens.expect("set").remaining, 0);
    }

    #[test]
    fn changing_a_limit_keeps_what_was_used() {
        let t0 = Instant::now();
        let mut limits = Limits::default();
        limits.configure(Some(100), None, t0);
        for _ in 0..5 {
            limits.admit(0, t0).expect("capacity");
        }
        // The same limit again (with other settings) changes nothing.
        limits.configure(Some(100), None, t0);
        assert_eq!(limits.snapshot(t0).requests.expect("set").remaining, 95);
        // Shrinking: 5 used of 3 allowed, so refused at once.
        limits.configure(Some(3), None, t0);
        let refusal = limits.admit(0, t0).expect_err("shrunk");
        assert_eq!(refusal.limit, 3);
        assert_eq!(refusal.retry_after_ms, Some(20_000));
        // Growing: the 3 used stay used.
        limits.configure(Some(10), None, t0);
        assert_eq!(limits.snapshot(t0).requests.expect("set").remaining, 7);
        // Removing and setting again: a fresh, full bucket.
        limits.configure(None, None, t0);
        assert_eq!(limits.snapshot(t0), Snapshot::default());
        limits.configure(Some(10), None, t0);
        assert_eq!(limits.snapshot(t0).requests.expect("set").remaining, 10);
    }

    #[test]
    fn headers_follow_the_limits_set() {
        let t0 = Instant::now();
        let mut limits = Limits::default();
        limits.configure(Some(60), None, t0);
        let mut headers = HeaderMap::new();
        limits.admit(0, t0).expect("capacity").apply(&mut headers);
        assert_eq!(headers["x-ratelimit-limit-requests"], "60");
        assert_eq!(headers["x-ratelimit-remaining-requests"], "59");
        assert_eq!(headers["x-ratelimit-reset-requests"], "1s");
        assert!(headers.get("x-ratelimit-limit-tokens").is_none());
        assert_eq!(headers.len(), 3);
        let mut none = HeaderMap::new();
        Snapshot::default().apply(&mut none);
        assert!(none.is_empty());
    }
}
