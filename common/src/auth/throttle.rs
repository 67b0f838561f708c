//! Failed-login throttling per client IP and per account, kept in
//! PostgreSQL so every API replica counts the same failures. Fixed windows:
//! after `max_failures` failures within `window`, further attempts get 429
//! until the window ends, without spending a password hash on them.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

use crate::config::Config;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct LoginThrottle {
    pool: PgPool,
    secret: Vec<u8>,
    max_failures: i32,
    window: Duration,
}

/// The buckets one login attempt counts against.
pub struct ThrottleKeys(Vec<String>);

impl LoginThrottle {
    pub fn new(pool: PgPool, config: &Config) -> Self {
        Self {
            pool,
            secret: config.secret_key.expose().as_bytes().to_vec(),
            max_failures: i32::try_from(config.login_max_failures).unwrap_or(i32::MAX),
            window: config.login_failure_window,
        }
    }

    /// Keys are HMACs so the table holds no raw IPs or addresses.
    pub fn keys(&self, client_ip: &str, email: &str) -> ThrottleKeys {
        ThrottleKeys(vec![self.key("ip", client_ip), self.key("account", email)])
    }

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

    /// Err(TooManyRequests) while any of the keys is over its limit.
    pub async fn check(&self, keys: &ThrottleKeys) -> Result<()> {
        let wait: Option<f64> = sqlx::query_scalar(
            "SELECT max(extract(epoch FROM (window_start + $3 - now()))::float8) \
             FROM auth_throttle \
             WHERE key = ANY($1) AND failures >= $2 AND window_start + $3 > now()",
        )
        .bind(&keys.0)
        .bind(self.max_failures)
        .bind(self.window)
        .fetch_one(&self.pool)
        .await?;
        match wait {
            Some(secs) => Err(Error::TooManyRequests {
                retry_after: Duration::from_secs(secs.ceil().max(1.0) as u64),
            }),
            None => Ok(()),
        }
    }

    pub async fn record_failure(&self, keys: &ThrottleKeys) -> Result<()> {
        sqlx::query(
            "INSERT INTO auth_throttle (key, failures, window_start) \
             SELECT k, 1, now() FROM unnest($1::text[]) AS k \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN auth_throttle.window_start + $2 > now() \
                               THEN auth_throttle.failures + 1 ELSE 1 END, \
               window_start = CASE WHEN auth_throttle.window_start + $2 > now() \
                               THEN auth_throttle.window_start ELSE now() END",
        )
        .bind(&keys.0)
        .bind(self.window)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A successful login clears the account's counter (not the IP's: one
    /// right password must not reset an attacker's budget for other accounts).
    pub async fn record_success(&self, keys: &ThrottleKeys) -> Result<()> {
        sqlx::query("DELETE FROM auth_throttle WHERE key = $1")
            .bind(&keys.0[1])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Drops windows that ended; run now and then.
    pub async fn prune(&self) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM auth_throttle WHERE window_start + $1 < now()")
                .bind(self.window)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
