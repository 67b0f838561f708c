//! Shared state handed to every handler.

use std::collections::HashSet;
use std::sync::Arc;

use crate::accounts;
use crate::auth::{AuthThrottle, Identity, Passwords, Revocations, TokenService};
use metrics_exporter_prometheus::PrometheusHandle;
use parking_lot::Mutex;
use sqlx::PgPool;
use todo_common::ApiConfig;
use todo_common::chat::outbox;
use todo_common::domain::UserId;
use todo_common::queue::Broker;
use todo_common::supervise::Supervisor;
use todo_common::tasks::Tasks;
use tokio_util::sync::CancellationToken;

use crate::live::{Hub, StreamSlots};
use crate::probe::DatabaseProbe;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ApiConfig>,
    pub pool: PgPool,
    pub tokens: Arc<TokenService>,
    /// Logged-out tokens, in memory; kept in step with the database by
    /// `background::spawn_revocation_sync`.
    pub revocations: Arc<Revocations>,
    /// Sign-up and login attempts per client IP and account.
    pub throttle: AuthThrottle,
    /// Password hashing, at most PASSWORD_HASH_CONCURRENCY at once.
    pub passwords: Passwords,
    pub known_users: Arc<KnownUsers>,
    /// RabbitMQ, kept connected by its maintainer task.
    pub broker: Arc<Broker>,
    /// The task operations (each change records its event and wakes live streams).
    pub tasks: Tasks,
    /// This instance's live subscribers (SSE, Prefer: wait).
    pub hub: Arc<Hub>,
    /// Outbox records published, deleted by the relay's next tick.
    pub confirmed: Arc<outbox::Confirmed>,
    /// Open event streams, capped per user and per instance.
    pub streams: Arc<StreamSlots>,
    /// Cancelled at shutdown: long-lived responses (SSE) end with it.
    pub shutdown: CancellationToken,
    /// Present when METRICS_ENABLED.
    pub metrics: Option<PrometheusHandle>,
    /// The background loops this instance depends on (`/health` reports
    /// stalled ones; one that ends stops the process).
    pub supervisor: Arc<Supervisor>,
    /// The database's last round trip, for `/health`.
    pub database: Arc<DatabaseProbe>,
}

/// Users this process has already made sure have a `users` row, so the
/// check costs one query per user per process, not one per request. The lock
/// does not poison: a panic while it is held must not fail every later request.
#[derive(Default)]
pub struct KnownUsers(Mutex<HashSet<UserId>>);

impl KnownUsers {
    const CAPACITY: usize = 100_000;

    pub async fn ensure(&self, pool: &PgPool, who: &Identity) -> todo_common::Result<()> {
        if self.0.lock().contains(&who.user_id) {
            return Ok(());
        }
        accounts::ensure_exists(
            pool,
            &who.user_id,
            who.email.as_deref(),
            who.name.as_deref(),
        )
        .await?;
        let mut known = self.0.lock();
        if known.len() >= Self::CAPACITY {
            known.clear();
        }
        known.insert(who.user_id.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_the_lock_is_held_does_not_break_later_requests() {
        let known = KnownUsers::default();
        let who = Identity {
            user_id: UserId::parse("known-user").unwrap(),
            email: None,
            name: None,
            issued_at: 0,
            expires_at: chrono::Utc::now(),
        };
        known.0.lock().insert(who.user_id.clone());
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _held = known.0.lock();
            panic!("a bug while the set is locked");
        }));
        assert!(crashed.is_err());
        // A known user needs no query: the pool never connects.
        let pool = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        known
            .ensure(&pool, &who)
            .await
            .expect("the set still works after the panic");
    }
}
