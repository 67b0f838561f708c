//! `todo-api healthcheck [--url URL]`: the container healthcheck, so the
//! runtime image needs no curl. Exit 0 when the URL answers 200 and, for the
//! API's `/health` JSON, says `healthy` with the database connected; exit 1
//! otherwise, with the reason on stderr. The worker's metrics listener
//! (`WORKER_METRICS_PORT`) answers `/health` with a plain `ok`, which passes.

use std::time::Duration;
use todo_common::error::ErrorChain;

use todo_common::config::Http;

/// How long a healthcheck waits for the answer; Docker's own timeout should be longer.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// This process's own API: `http://127.0.0.1:{API_PORT}/health`.
pub fn default_url(config: &Http) -> String {
    format!("http://127.0.0.1:{}/health", config.port)
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("{url} did not answer: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} says it is not healthy: {body}")]
    Unhealthy { url: String, body: String },
}

/// What a healthy answer said (the API's `/health` body, or the plain text).
#[derive(Debug, Clone)]
pub struct Healthy {
    pub body: String,
}

/// GET `url` within `timeout`; healthy is a 200 whose JSON (when it is JSON)
/// has `status: "healthy"` and no `database_connected: false`.
pub async fn healthcheck(url: &str, timeout: Duration) -> Result<Healthy, HealthError> {
    let unreachable = |e: reqwest::Error| HealthError::Unreachable {
        url: url.to_string(),
        reason: e.without_url().chain(),
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        // A healthcheck checks this replica, never where it redirects to.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(unreachable)?;
    let response = client.get(url).send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(unreachable)?;
    let short: String = body.chars().take(300).collect();
    if status != 200 {
        return Err(HealthError::Status {
            url: url.to_string(),
            status,
            body: short,
        });
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) {
        let healthy = json["status"].as_str().is_none_or(|s| s == "healthy")
            && json["database_connected"].as_bool() != Some(false);
        if !healthy {
            return Err(HealthError::Unhealthy {
                url: url.to_string(),
                body: short,
            });
        }
    }
    Ok(Healthy { body })
}
