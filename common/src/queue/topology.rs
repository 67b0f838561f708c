//! Exchanges and queues, declared idempotently at every (re)connection by
//! whichever process comes first.
//!
//! ```text
//! {p}.chat (direct) --"turns"--> {p}.chat.turns  (quorum, delivery limit, DLX)
//!        ^                              | over the delivery limit
//!        | TTL expiry                   v
//! {p}.chat.delay --"1s|5s|30s"--> {p}.chat.turns.delay.*   {p}.chat.dlx --> {p}.chat.turns.dead
//! ```
//! RabbitMQ 3.10 has no built-in delayed retry: a turn that must wait is
//! published to a delay queue whose TTL dead-letters it back to `turns`.
//! Every queue that holds turns is a quorum queue, replicated over a
//! cluster's nodes: losing one node loses no parked turn and blocks no
//! declaration. (The delay queues used to be classic queues named
//! `{p}.chat.turns.retry.*` behind `{p}.chat.retry`: while their one node was
//! down, declaring them failed and no process could connect at all. New
//! names, because a queue's type cannot change; the old queues empty
//! themselves within 30 s of the upgrade, see docs/deployment.md.)

use std::time::Duration;

use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

/// Names, all under one prefix (RABBITMQ_PREFIX), so tests and deployments
/// sharing a broker stay apart.
#[derive(Debug, Clone)]
pub struct Topology {
    pub prefix: String,
    /// Deliveries of one message before RabbitMQ dead-letters it (crash loops).
    pub delivery_limit: i32,
    /// Queues unused this long are deleted by RabbitMQ (`x-expires`): for
    /// ephemeral deployments and test runs, never for production. Connected
    /// processes re-declare the topology every third of it, which keeps the
    /// retry queues (never consumed, so never "used") alive while they run.
    pub expires: Option<Duration>,
}

/// The delays a turn can be put back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDelay {
    Short,
    Medium,
    Long,
}

impl RetryDelay {
    pub const ALL: [RetryDelay; 3] = [RetryDelay::Short, RetryDelay::Medium, RetryDelay::Long];

    pub fn duration(self) -> Duration {
        match self {
            Self::Short => Duration::from_secs(1),
            Self::Medium => Duration::from_secs(5),
            Self::Long => Duration::from_secs(30),
        }
    }

    /// The smallest delay of at least `wait`.
    pub fn at_least(wait: Duration) -> Self {
        Self::ALL
            .into_iter()
            .find(|d| d.duration() >= wait)
            .unwrap_or(Self::Long)
    }

    fn key(self) -> &'static str {
        match self {
            Self::Short => "1s",
            Self::Medium => "5s",
            Self::Long => "30s",
        }
    }
}

pub(super) const TURNS_KEY: &str = "turns";
const DEAD_KEY: &str = "turns.dead";

impl Topology {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            delivery_limit: 20,
            expires: None,
        }
    }

    pub fn exchange(&self) -> String {
        format!("{}.chat", self.prefix)
    }
    pub fn retry_exchange(&self) -> String {
        format!("{}.chat.delay", self.prefix)
    }
    fn dead_exchange(&self) -> String {
        format!("{}.chat.dlx", self.prefix)
    }
    /// Topic exchange of live notices and transient events, keyed by user.
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }
    /// `user.<hex of the id>`: user ids may contain `*`, `#` or `.`, which
    /// mean something in topic bindings; hex never does.
    pub fn user_key(user: &crate::domain::UserId) -> String {
        let hex: String = user.as_str().bytes().map(|b| format!("{b:02x}")).collect();
        format!("user.{hex}")
    }
    pub fn turns_queue(&self) -> String {
        format!("{}.chat.turns", self.prefix)
    }
    pub fn dead_queue(&self) -> String {
        format!("{}.chat.turns.dead", self.prefix)
    }
    pub fn retry_queue(&self, delay: RetryDelay) -> String {
        format!("{}.chat.turns.delay.{}", self.prefix, delay.key())
    }
    pub(super) fn retry_key(delay: RetryDelay) -> &'static str {
        delay.key()
    }

    pub fn from_config(config: &crate::config::Broker) -> Self {
        Self {
            expires: config.queue_expires,
            ..Self::new(&config.prefix)
        }
    }

    fn queue_args(&self) -> FieldTable {
        let mut args = FieldTable::default();
        if let Some(expires) = self.expires {
            args.insert(
                "x-expires".into(),
                AMQPValue::LongInt(expires.as_millis().min(i32::MAX as u128) as i32),
            );
        }
        args
    }

    pub(crate) async fn declare(&self, ch: &Channel) -> lapin::Result<()> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        for ex in [self.exchange(), self.retry_exchange(), self.dead_exchange()] {
            ch.exchange_declare(
                ex.into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await?;
        }
        ch.exchange_declare(
            self.events_exchange().into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
        let queue = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };

        let mut args = self.queue_args();
        args.insert("x-queue-type".into(), string("quorum"));
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(self.delivery_limit),
        );
        args.insert(
            "x-dead-letter-exchange".into(),
            string(&self.dead_exchange()),
        );
        args.insert("x-dead-letter-routing-key".into(), string(DEAD_KEY));
        ch.queue_declare(self.turns_queue().into(), queue, args)
            .await?;
        self.bind(ch, &self.turns_queue(), &self.exchange(), TURNS_KEY)
            .await?;

        let mut args = self.queue_args();
        args.insert("x-queue-type".into(), string("quorum"));
        ch.queue_declare(self.dead_queue().into(), queue, args)
            .await?;
        self.bind(ch, &self.dead_queue(), &self.dead_exchange(), DEAD_KEY)
            .await?;

        for delay in RetryDelay::ALL {
            // RabbitMQ counts a queue without consumers as unused however
            // much is published to it: with x-expires, these stay only
            // because every connected process re-declares them in time.
            let mut args = self.queue_args();
            args.insert("x-queue-type".into(), string("quorum"));
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongInt(delay.duration().as_millis() as i32),
            );
            args.insert("x-dead-letter-exchange".into(), string(&self.exchange()));
            args.insert("x-dead-letter-routing-key".into(), string(TURNS_KEY));
            let name = self.retry_queue(delay);
            ch.queue_declare(name.clone().into(), queue, args).await?;
            self.bind(ch, &name, &self.retry_exchange(), delay.key())
                .await?;
        }
        Ok(())
    }

    /// Removes every queue and exchange of this prefix (ephemeral
    /// deployments and tests; messages in them are lost).
    pub async fn delete(&self, ch: &Channel) -> lapin::Result<()> {
        let mut queues = vec![self.turns_queue(), self.dead_queue()];
        queues.extend(RetryDelay::ALL.map(|d| self.retry_queue(d)));
        for q in queues {
            ch.queue_delete(q.into(), QueueDeleteOptions::default())
                .await?;
        }
        for ex in [
            self.exchange(),
            self.retry_exchange(),
            self.dead_exchange(),
            self.events_exchange(),
        ] {
            ch.exchange_delete(ex.into(), ExchangeDeleteOptions::default())
                .await?;
        }
        Ok(())
    }

    /// Connects to `url` (a RABBITMQ_URL: the first of its addresses that
    /// answers) and removes this prefix's queues and exchanges (the end of a
    /// test or benchmark run).
    pub async fn delete_at(&self, url: &str) -> lapin::Result<()> {
        let mut connected = None;
        for address in crate::config::broker_addresses(url) {
            match super::connect(address).await {
                Ok(conn) => {
                    connected = Some(Ok(conn));
                    break;
                }
                Err(e) => connected = Some(Err(e)),
            }
        }
        let conn = connected.expect("at least one address")?;
        let ch = conn.create_channel().await?;
        let deleted = self.delete(&ch).await;
        let _ = conn.close(200, "done".into()).await;
        deleted
    }

    async fn bind(
        &self,
        ch: &Channel,
        queue: &str,
        exchange: &str,
        key: &str,
    ) -> lapin::Result<()> {
        ch.queue_bind(
            ShortString::from(queue),
            ShortString::from(exchange),
            ShortString::from(key),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
    }
}

fn string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s.as_bytes().to_vec()))
}
