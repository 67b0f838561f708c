//! A unit of work: one transaction, the events of everything done in it,
//! and the wake-up of live clients once it has committed. Every change goes
//! through one (REST, chat tools, MCP tools, the worker's turn steps), so
//! no door records an event by hand or forgets to tell the live clients, and
//! nothing is announced that did not commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, Transaction};

use crate::domain::{TimeZone, UserId};
use crate::error::Result;
use crate::events::{self, Event, Stored};
use crate::queue::Broker;

/// A transaction and the events it will record (see the module docs).
pub struct Work {
    tx: Transaction<'static, Postgres>,
    live: Arc<Broker>,
    /// Per user (ordered, so users' rows are always locked in one order).
    events: BTreeMap<UserId, Vec<Event>>,
    /// Users' time zones, read at most once per unit of work.
    zones: BTreeMap<UserId, TimeZone>,
    /// The clock, read once: "now" for everything the work decides.
    now: DateTime<Utc>,
}

impl Work {
    pub async fn begin(pool: &PgPool, live: &Arc<Broker>) -> Result<Self> {
        Ok(Self {
            tx: pool.begin().await?,
            live: live.clone(),
            events: BTreeMap::new(),
            zones: BTreeMap::new(),
            now: Utc::now(),
        })
    }

    /// When the work began: the one "now" of everything it decides
    /// (overdue, the next occurrence, today in the user's zone).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Tells the work `user`'s zone, read with something else (a chat turn's claim).
    pub fn know_zone(&mut self, user: &UserId, zone: TimeZone) {
        self.zones.insert(user.clone(), zone);
    }

    /// `user`'s time zone, where their wall times and days are.
    pub async fn zone(&mut self, user: &UserId) -> Result<TimeZone> {
        if let Some(zone) = self.zones.get(user) {
            return Ok(*zone);
        }
        let zone = read_zone(&mut *self.tx, user).await?;
        self.zones.insert(user.clone(), zone);
        Ok(zone)
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
    /// writes), commits, then wakes those users' live clients, handing them
    /// the events as stored (so they need not read them back).
    pub async fn commit(mut self) -> Result<Committed> {
        let mut stored = Vec::with_capacity(self.events.len());
        for (user, events) in &self.events {
            let mut rows = events::store(&mut self.tx, user, events).await?;
            rows.sort_by_key(|e| e.seq);
            stored.push((user.clone(), rows));
        }
        self.tx.commit().await?;
        for (user, rows) in &stored {
            self.live.notify(user, rows).await;
        }
        Ok(Committed { stored })
    }
}

/// `user`'s time zone, as stored.
pub(crate) async fn read_zone<'c>(db: impl PgExecutor<'c>, user: &UserId) -> Result<TimeZone> {
    Ok(sqlx::query_scalar!(
        r#"SELECT time_zone AS "zone: TimeZone" FROM users WHERE id = $1"#,
        user.as_str(),
    )
    .fetch_optional(db)
    .await?
    // An account deleted meanwhile: its writes fail on their own.
    .unwrap_or_default())
}

/// What a committed unit of work recorded.
#[derive(Debug, Default)]
pub struct Committed {
    stored: Vec<(UserId, Vec<Stored>)>,
}

impl Committed {
    /// The events recorded for `user`, as stored, in order.
    pub fn events(&self, user: &UserId) -> &[Stored] {
        self.stored
            .iter()
            .find(|(u, _)| u == user)
            .map_or(&[], |(_, rows)| rows)
    }

    /// The number of the newest event recorded for `user`, if any.
    pub fn last_seq(&self, user: &UserId) -> Option<i64> {
        self.events(user).last().map(|e| e.seq)
    }
}
