//! Sign-up and login throttling, counted in PostgreSQL so every API replica
//! shares the counts. Fixed windows; keys are HMACs, so the table holds no
//! raw IPs or email addresses.
//!
//! Every attempt is counted *before* its password hash, in one statement
//! that returns the new counts: parallel guesses are numbered one by one by
//! the row lock, so no more than the limit ever reach the hash (issue 10;
//! counting a failure after the hash let N parallel guesses all pass).
//! Attempts that turn out not to count (a successful login, a hash refused
//! as overloaded) are given back with [`AuthThrottle::undo`].
//!
//! Login policy (docs/configuration.md, LOGIN_MAX_FAILURES):
//! - per client IP: at most `max` attempts per window that did not succeed;
//! - per account: after `max` of them in a window, only addresses with no
//!   failures of their own in their window may still try. An attacker cannot
//!   lock the owner out (the owner's address has not failed, so the right
//!   password still gets in), and each attacking address is down to one
//!   guess at that account per window.
//!
//! Sign-up: at most SIGNUP_MAX_PER_IP attempts per client IP per window.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

use todo_common::config::Auth;
use todo_common::error::{Error, Result};

#[derive(Clone)]
pub struct AuthThrottle {
    pool: PgPool,
    secret: Vec<u8>,
    login: Limit,
    signup: Limit,
}

#[derive(Clone, Copy)]
struct Limit {
    max: i32,
    window: Duration,
}

/// A counted attempt; see [`AuthThrottle::undo`].
#[derive(Debug)]
#[must_use = "an attempt that does not count must be given back with `undo`"]
pub struct Attempt(Vec<Counted>);

/// One bucket's count after this attempt, in the window it was counted in.
#[derive(Debug)]
struct Counted {
    key: String,
    count: i32,
    window_start: DateTime<Utc>,
    /// Seconds until the window ends.
    left: f64,
}

impl Counted {
    fn retry_after(&self) -> Duration {
        Duration::from_secs(self.left.ceil().max(1.0) as u64)
    }
}

impl AuthThrottle {
    pub fn new(pool: PgPool, config: &Auth) -> Self {
        let limit = |max: u32, window| Limit {
            max: i32::try_from(max).unwrap_or(i32::MAX),
            window,
        };
        Self {
            pool,
            secret: config.secret_key.expose().as_bytes().to_vec(),
            login: limit(config.login_max_failures, config.login_failure_window),
            signup: limit(config.signup_max_per_ip, config.signup_window),
        }
    }

    /// Counts a login attempt before the password is checked; Err(TooManyRequests)
    /// when it may not be checked (the policy above).
    pub async fn login_attempt(&self, client_ip: &str, email: &str) -> Result<Attempt> {
        let keys = [self.key("ip", client_ip), self.key("account", email)];
        let mut counts = self.count(&keys, self.login.window).await?;
        let account = take(&mut counts, &keys[1])?;
        let ip = take(&mut counts, &keys[0])?;
        let max = self.login.max;
        if ip.count > max {
            return Err(Error::TooManyRequests {
                retry_after: ip.retry_after(),
            });
        }
        // Another attempt from this address in its window means it has failed
        // (or is guessing in parallel): it may not try an account under attack.
        if account.count > max && ip.count > 1 {
            return Err(Error::TooManyRequests {
                retry_after: ip.retry_after().min(account.retry_after()),
            });
        }
        Ok(Attempt(vec![ip, account]))
    }

    /// Counts a sign-up attempt before its password is hashed.
    pub async fn signup_attempt(&self, client_ip: &str) -> Result<Attempt> {
        let key = self.key("signup", client_ip);
        let mut counts = self
            .count(std::slice::from_ref(&key), self.signup.window)
            .await?;
        let counted = take(&mut counts, &key)?;
        if counted.count > self.signup.max {
            return Err(Error::TooManyRequests {
                retry_after: counted.retry_after(),
            });
        }
        Ok(Attempt(vec![counted]))
    }

    /// Gives an attempt back: a successful login (only its own count, never
    /// a reset, or each login of the owner would hand an attacker a fresh
    /// budget), or one refused before its hash. A window that has ended since
    /// is left alone.
    pub async fn undo(&self, attempt: Attempt) -> Result<()> {
        let (keys, starts): (Vec<String>, Vec<DateTime<Utc>>) = attempt
            .0
            .into_iter()
            .map(|c| (c.key, c.window_start))
            .unzip();
        sqlx::query!(
            "UPDATE auth_throttle AS t SET failures = greatest(t.failures - 1, 0)
             FROM unnest($1::text[], $2::timestamptz[]) AS a(key, window_start)
             WHERE t.key = a.key AND t.window_start = a.window_start",
            &keys,
            &starts,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Adds one to each key's count (a new window when the last one ended)
    /// and returns the counts, atomically per key.
    async fn count(&self, keys: &[String], window: Duration) -> Result<Vec<Counted>> {
        Ok(sqlx::query_as!(
            Counted,
            r#"INSERT INTO auth_throttle AS t (key, failures, window_start)
             SELECT k, 1, now() FROM unnest($1::text[]) AS k
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN t.window_start + $2 > now() THEN t.failures + 1 ELSE 1 END,
               window_start = CASE WHEN t.window_start + $2 > now()
                                   THEN t.window_start ELSE now() END
             RETURNING key, failures AS count, window_start,
               extract(epoch FROM (window_start + $2 - now()))::float8 AS "left!""#,
            keys as &[String],
            window as Duration,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Keys are HMACs so the table holds no raw IPs or addresses.
    fn key(&self, kind: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!(
            "{kind}:{}",
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    }

    /// Drops windows that ended; run now and then.
    pub async fn prune(&self) -> Result<u64> {
        // The casts: described without bound values (the macro), PostgreSQL
        // would take a CASE's parameters for text.
        Ok(sqlx::query!(
            "DELETE FROM auth_throttle
             WHERE window_start
                 + CASE WHEN key LIKE 'signup:%' THEN $2::interval ELSE $1::interval END < now()",
            self.login.window as Duration,
            self.signup.window as Duration,
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

fn take(counts: &mut Vec<Counted>, key: &str) -> Result<Counted> {
    let i = counts
        .iter()
        .position(|c| c.key == key)
        .ok_or_else(|| Error::Internal("throttle count missing".into()))?;
    Ok(counts.swap_remove(i))
}
