//! Receiving from RabbitMQ: the turn queues a worker consumes (manual acks),
//! a live-event queue an API instance binds per user, and the probe
//! preflight connects with. Everything else in the workspace goes through
//! these types; none of it names the client library.

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Consumer};
use serde_json::Value;

use super::{Broker, RetryDelay, Topology, TurnJob};
use crate::domain::UserId;
use crate::events::{Event, Stored};

/// What RabbitMQ (or the connection to it) refused.
#[derive(Debug, thiserror::Error)]
#[error("RabbitMQ: {0}")]
pub struct QueueError(#[from] lapin::Error);

type Result<T> = std::result::Result<T, QueueError>;

// ---- turns -------------------------------------------------------------------

/// A worker's subscription to the turn queue and its dead-letter queue, on
/// one channel with a prefetch of `prefetch` unacknowledged turns.
pub struct TurnSubscription {
    channel: Channel,
    turns: Consumer,
    dead: Consumer,
}

/// Where a delivery came from.
pub enum Incoming {
    /// A turn to answer.
    Turn(TurnDelivery),
    /// A turn RabbitMQ gave up on (over its delivery limit).
    Dead(TurnDelivery),
}

impl Broker {
    /// Subscribes to the turn queues on a fresh channel; None while disconnected.
    pub async fn consume_turns(&self, prefetch: u16) -> Option<Result<TurnSubscription>> {
        let channel = self.channel().await?;
        let topology = self.topology();
        Some(
            async {
                channel
                    .basic_qos(prefetch, BasicQosOptions::default())
                    .await?;
                let turns = consume(&channel, topology.turns_queue()).await?;
                let dead = consume(&channel, topology.dead_queue()).await?;
                Ok(TurnSubscription {
                    channel,
                    turns,
                    dead,
                })
            }
            .await,
        )
    }
}

async fn consume(channel: &Channel, queue: String) -> lapin::Result<Consumer> {
    channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
}

impl TurnSubscription {
    /// The next delivery of either queue; None once the subscription ended
    /// (the channel or connection went away: subscribe again).
    pub async fn next(&mut self) -> Option<Incoming> {
        tokio::select! {
            turn = self.turns.next() => turn?.ok().map(|d| Incoming::Turn(TurnDelivery::new(d))),
            dead = self.dead.next() => dead?.ok().map(|d| Incoming::Dead(TurnDelivery::new(d))),
        }
    }

    /// Stops both consumers (unacknowledged turns go back to the queue).
    pub async fn close(self) {
        let _ = self.channel.close(200, "worker stopping".into()).await;
    }
}

/// One delivered turn message, settled once: acknowledged, put back, put
/// back later, or refused.
pub struct TurnDelivery {
    delivery: Delivery,
    job: std::result::Result<TurnJob, String>,
}

impl TurnDelivery {
    fn new(delivery: Delivery) -> Self {
        let job = serde_json::from_slice(&delivery.data).map_err(|e| e.to_string());
        Self { delivery, job }
    }

    /// The turn, or why its body could not be read.
    pub fn job(&self) -> std::result::Result<&TurnJob, &str> {
        self.job.as_ref().map_err(String::as_str)
    }

    /// The publisher's message id and the body's size, to name an
    /// unreadable message in a log without its (arbitrary) content.
    pub fn describe(&self) -> (Option<String>, usize) {
        let id = self
            .delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.to_string());
        (id, self.delivery.data.len())
    }

    /// Done with: RabbitMQ forgets it. False when the channel was already
    /// gone (the turn will be delivered again).
    pub async fn ack(self) -> bool {
        matches!(
            self.delivery.ack(BasicAckOptions::default()).await,
            Ok(true)
        )
    }

    /// Back to the queue now (another worker, or this one, takes it again).
    pub async fn requeue(self) -> bool {
        self.nack(true).await
    }

    /// Refused for good: dead-lettered (or dropped, from the dead queue).
    pub async fn reject(self) -> bool {
        self.nack(false).await
    }

    /// Back to the queue after `delay` (through a delay queue), with
    /// `job` as the new body; put straight back if that cannot be published.
    pub async fn retry_later(self, broker: &Broker, job: &TurnJob, delay: RetryDelay) -> bool {
        match broker.publish_delayed(job, delay).await {
            Ok(()) => self.ack().await,
            Err(_) => self.requeue().await,
        }
    }

    async fn nack(self, requeue: bool) -> bool {
        let options = BasicNackOptions {
            requeue,
            ..Default::default()
        };
        matches!(self.delivery.nack(options).await, Ok(true))
    }
}

// ---- live events -------------------------------------------------------------

/// An API instance's own queue of live messages (exclusive, deleted with
/// its connection), bound only for the users with a subscriber there.
pub struct LiveQueue {
    channel: Channel,
    name: String,
    topology: Topology,
}

/// A live message for one user.
pub enum LiveMessage {
    /// New durable events are stored for the user: these (consecutive, in
    /// order), or, when None, too many to carry: read them.
    Notice(UserId, Option<Vec<Stored>>),
    /// A token of the user was revoked: streams check theirs.
    Sessions(UserId),
    /// A transient event, delivered as it is.
    Transient(UserId, Box<Event>),
}

impl Broker {
    /// A fresh live queue on a new channel; None while disconnected.
    pub async fn live_queue(&self) -> Option<Result<LiveQueue>> {
        let channel = self.channel().await?;
        let declared = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await;
        Some(match declared {
            Ok(queue) => Ok(LiveQueue {
                name: queue.name().to_string(),
                channel,
                topology: self.topology().clone(),
            }),
            Err(e) => Err(e.into()),
        })
    }
}

impl LiveQueue {
    /// Receives `user`'s live messages from now on.
    pub async fn bind(&self, user: &UserId) -> Result<()> {
        self.channel
            .queue_bind(
                self.name.as_str().into(),
                self.topology.events_exchange().into(),
                Topology::user_key(user).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    pub async fn unbind(&self, user: &UserId) -> Result<()> {
        self.channel
            .queue_unbind(
                self.name.as_str().into(),
                self.topology.events_exchange().into(),
                Topology::user_key(user).into(),
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    /// Starts receiving (no acks: a lost live message is made up by a read).
    pub async fn consume(&self) -> Result<LiveStream> {
        let consumer = self
            .channel
            .basic_consume(
                self.name.as_str().into(),
                "".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(LiveStream { consumer })
    }
}

/// The messages of a [`LiveQueue`].
pub struct LiveStream {
    consumer: Consumer,
}

impl LiveStream {
    /// The next message; unreadable ones are skipped. Err when the queue
    /// failed, None when it ended (both: declare a new one).
    pub async fn next(&mut self) -> Option<Result<LiveMessage>> {
        loop {
            match self.consumer.next().await? {
                Err(e) => return Some(Err(e.into())),
                Ok(delivery) => {
                    if let Some(message) = LiveMessage::decode(&delivery.data) {
                        return Some(Ok(message));
                    }
                }
            }
        }
    }
}

impl LiveMessage {
    /// The body `Broker::notify`, `notify_sessions` and `publish_transient` send.
    fn decode(body: &[u8]) -> Option<Self> {
        let mut msg = serde_json::from_slice::<Value>(body).ok()?;
        let user = UserId::parse(msg["user_id"].as_str()?).ok()?;
        let kind = msg["type"].as_str().map(str::to_owned);
        Some(match kind.as_deref() {
            Some("notice") | None => Self::Notice(
                user,
                serde_json::from_value::<Option<Vec<Stored>>>(msg["events"].take())
                    .ok()
                    .flatten(),
            ),
            Some("sessions") => Self::Sessions(user),
            Some(kind) => {
                let event = Event::from_parts(kind, msg["data"].take())?;
                if event.is_durable() {
                    return None;
                }
                Self::Transient(user, Box::new(event))
            }
        })
    }
}

// ---- preflight ---------------------------------------------------------------

/// A plain connection for checks (preflight): no reconnecting, no confirms.
pub struct Probe(lapin::Connection);

impl Probe {
    pub async fn connect(url: &str) -> Result<Self> {
        Ok(Self(super::connect(url).await?))
    }

    /// Declares `topology` as the services do at start.
    pub async fn declare(&self, topology: &Topology) -> Result<()> {
        let channel = self.0.create_channel().await?;
        topology.declare(&channel).await?;
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.0.close(200, "preflight done".into()).await;
    }
}
