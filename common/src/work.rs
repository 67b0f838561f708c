//! A unit of work: one transaction, the events of everything done in it,
//! and the wake-up of live clients once it has committed. Every change goes
//! through one (REST, chat tools, MCP tools, the worker's turn steps), so
//! no door records an event by hand or forgets to tell the live clients, and
//! nothing is announced that did not commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::domain::UserId;
use crate::error::Result;
use crate::events::{self, Event};
use crate::queue::Broker;

/// A transaction and the events it will record (see the module docs).
pub struct Work {
    tx: Transaction<'static, Postgres>,
    live: Arc<Broker>,
    /// Per user (ordered, so users' rows are always locked in one order).
    events: BTreeMap<UserId, Vec<Event>>,
}

impl Work {
    pub async fn begin(pool: &PgPool, live: &Arc<Broker>) -> Result<Self> {
        Ok(Self {
            tx: pool.begin().await?,
            live: live.clone(),
            events: BTreeMap::new(),
        })
    }

    /// The transaction, for the statements of the work.
    pub fn tx(&mut self) -> &mut Transaction<'static, Postgres> {
        &mut self.tx
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Records `event` for `user` when the work commits. Only durable
    /// events are recorded; transient ones are published as they happen.
    pub fn record(&mut self, user: &UserId, event: Event) {
        debug_assert!(event.is_durable(), "{} is not stored", event.kind());
        self.events.entry(user.clone()).or_default().push(event);
    }

    /// Stores the events (one statement per user, the transaction's last
    /// writes), commits, then wakes those users' live clients.
    pub async fn commit(mut self) -> Result<()> {
        for (user, events) in &self.events {
            events::store(&mut self.tx, user, events).await?;
        }
        self.tx.commit().await?;
        for user in self.events.keys() {
            self.live.notify(user).await;
        }
        Ok(())
    }
}
