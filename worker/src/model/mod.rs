//! The model behind the agent: an OpenAI-compatible server over HTTP, or the
//! built-in offline assistant. Retries live here and only here (with
//! exponential backoff, full jitter and the server's Retry-After), so every
//! model request passes the same policy.

mod openai;

use std::time::Duration;

use crate::clock::UserNow;
use crate::limiter::Limiter;
use todo_common::config::Model as ModelConfig;
use todo_common::llm::{Message, Reply};
use todo_common::tools::ToolDefinition;
use tokio::sync::mpsc::UnboundedSender;

pub use openai::OpenAiClient;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Worth another try: 429 rate limit, 5xx, timeout, connection trouble.
    #[error("{reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
        /// A rate-limit 429: the shared limiter is paused; waiting for it
        /// does not use up an attempt.
        rate_limited: bool,
    },
    /// The account is out of quota: retrying will not help.
    #[error("the model provider's quota is exhausted")]
    QuotaExceeded,
    /// The request itself was refused (400, 401, 404 model...).
    #[error("{0}")]
    Fatal(String),
}

impl ModelError {
    /// Label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Retryable { .. } => "retryable",
            Self::QuotaExceeded => "quota",
            Self::Fatal(_) => "fatal",
        }
    }
}

pub enum Model {
    OpenAi(Box<OpenAiClient>),
    Offline,
}

impl Model {
    pub fn from_config(config: &ModelConfig, limiter: Option<Limiter>) -> Self {
        if config.offline() {
            Self::Offline
        } else {
            Self::OpenAi(Box::new(OpenAiClient::new(config, limiter)))
        }
    }

    /// The shared limiter, for model calls that have one.
    pub fn limiter(&self) -> Option<&Limiter> {
        match self {
            Self::OpenAi(c) => c.limiter(),
            Self::Offline => None,
        }
    }

    /// The output limit each request carries (0 for the offline assistant),
    /// part of the limiter's token estimate as in OpenAI's own limiter.
    pub fn max_output_tokens(&self) -> u32 {
        match self {
            Self::OpenAi(c) => c.max_output_tokens(),
            Self::Offline => 0,
        }
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, Self::Offline)
    }

    pub fn name(&self) -> &str {
        match self {
            Self::OpenAi(c) => c.model(),
            Self::Offline => "offline",
        }
    }

    /// One request, no retries; text pieces go to `deltas` as they stream in.
    /// `now` is the user's (the offline assistant reads dates with it; a
    /// model has it in the system prompt).
    pub async fn complete_once(
        &self,
        messages: &[Message],
        tools: &[ToolDefinition],
        deltas: Option<&UnboundedSender<String>>,
        now: &UserNow,
    ) -> Result<Reply, ModelError> {
        match self {
            Self::OpenAi(client) => client.complete(messages, tools, deltas).await,
            Self::Offline => Ok(offline_reply(messages, now)),
        }
    }
}

/// The built-in offline assistant's answer: no request, no limiter.
pub fn offline_reply(messages: &[Message], now: &UserNow) -> Reply {
    todo_assistant::respond_at(messages, now.local().naive_local())
}

/// Backoff before attempt `attempt + 1` (attempt counts from 1): the
/// server's Retry-After when given, else full jitter over an exponential cap.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(Duration::from_secs(60));
    }
    let cap = Duration::from_millis(500)
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(Duration::from_secs(30));
    cap.mul_f64(jitter())
}

/// A number in [0, 1) without a RNG dependency: the low bits of a fresh UUIDv4.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() & 0xFFFF_FFFF) as f64 / 4_294_967_296.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_honours_retry_after_and_caps() {
        assert_eq!(
            backoff(1, Some(Duration::from_millis(1500))),
            Duration::from_millis(1500)
        );
        assert_eq!(
            backoff(1, Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
        for attempt in 1..20 {
            let b = backoff(attempt, None);
            assert!(b <= Duration::from_secs(30), "{attempt}: {b:?}");
        }
        // Full jitter: not always the same.
        let samples: std::collections::HashSet<_> = (0..20).map(|_| backoff(4, None)).collect();
        assert!(samples.len() > 1);
    }
}
