//! Shared state handed to every handler.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use todo_common::Config;
use todo_common::accounts;
use todo_common::auth::{Identity, LoginThrottle, Revocations, TokenService};
use todo_common::domain::UserId;
use todo_common::queue::Broker;
use tokio_util::sync::CancellationToken;

use crate::live::Hub;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub tokens: Arc<TokenService>,
    /// Logged-out tokens, in memory; kept in step with the database by
    /// `background::spawn_revocation_sync`.
    pub revocations: Arc<Revocations>,
    pub throttle: LoginThrottle,
    pub known_users: Arc<KnownUsers>,
    /// RabbitMQ, kept connected by its maintainer task.
    pub broker: Arc<Broker>,
    /// This instance's live subscribers (SSE, Prefer: wait).
    pub hub: Arc<Hub>,
    /// Cancelled at shutdown: long-lived responses (SSE) end with it.
    pub shutdown: CancellationToken,
    /// Present when METRICS_ENABLED.
    pub metrics: Option<PrometheusHandle>,
}

/// Users this process has already made sure have a `users` row, so the
/// check costs one query per user per process, not one per request.
#[derive(Default)]
pub struct KnownUsers(Mutex<HashSet<UserId>>);

impl KnownUsers {
    const CAPACITY: usize = 100_000;

    pub async fn ensure(&self, pool: &PgPool, who: &Identity) -> todo_common::Result<()> {
        if self.0.lock().expect("lock").contains(&who.user_id) {
            return Ok(());
        }
        accounts::ensure_exists(
            pool,
            &who.user_id,
            who.email.as_deref(),
            who.name.as_deref(),
        )
        .await?;
        let mut known = self.0.lock().expect("lock");
        if known.len() >= Self::CAPACITY {
            known.clear();
        }
        known.insert(who.user_id.clone());
        Ok(())
    }
}
