//! One RabbitMQ connection per process, kept alive by a maintainer task:
//! it connects with backoff, declares the topology, and on loss reconnects
//! and tells subscribers (consumers re-subscribe), logging and counting each
//! event. Publishing uses confirms and `mandatory`, so "sent" means "stored
//! by the broker in a queue".

use crate::error::ErrorChain;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use parking_lot::Mutex;
use tokio::sync::{RwLock, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::TurnJob;
use super::topology::{RetryDelay, TURNS_KEY, Topology};
use crate::config::{Secret, broker_addresses as addresses, redact_url};
use crate::domain::UserId;
use crate::events::{Event, Stored};
use crate::metric;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("not connected to RabbitMQ")]
    Disconnected,
    #[error("RabbitMQ refused the message ({0})")]
    Refused(&'static str),
    #[error("RabbitMQ had no queue for the message")]
    Unroutable,
    #[error("RabbitMQ error: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("no confirm from RabbitMQ within {0:?}")]
    Timeout(Duration),
}

struct Link {
    connection: Connection,
    /// In confirm mode; shared by all publishers of the process.
    publisher: Channel,
    /// Without confirms: live notices are best effort (PostgreSQL holds the
    /// events; a lost notice is caught up by the next one or the SSE check).
    notifier: Channel,
}

pub struct Broker {
    /// One address, or a cluster's nodes separated by commas.
    url: Secret,
    /// Which address a connection is tried at first: the one that last
    /// worked, or the one after it once that connection was lost (its node
    /// may be the one that went away).
    first: AtomicUsize,
    topology: Topology,
    link: RwLock<Option<Link>>,
    connected: AtomicBool,
    /// When RabbitMQ last answered a round trip (see [`Broker::is_answering`]).
    answered: Mutex<Option<Instant>>,
    /// Bumped at every new connection; consumers watch it to re-subscribe.
    generation: watch::Sender<u64>,
}

const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the maintainer checks the link and asks RabbitMQ for an answer.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// A round trip slower than this counts as no answer.
const ROUND_TRIP_TIMEOUT: Duration = Duration::from_millis(500);
/// RabbitMQ counts as answering while its last answer is at most this old:
/// a lost broker shows within a second, also when the TCP connection
/// stays open and silent (heartbeats would take a minute).
const ANSWER_MAX_AGE: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// A live notice carries its events up to this size (JSON bytes); larger
/// ones (a long task list in a tool result) are read by the instances.
const NOTICE_CARRIES_UP_TO: usize = 64 * 1024;

impl Broker {
    pub fn new(url: Secret, topology: Topology) -> Arc<Self> {
        Arc::new(Self {
            url,
            first: AtomicUsize::new(0),
            topology,
            link: RwLock::new(None),
            connected: AtomicBool::new(false),
            answered: Mutex::new(None),
            generation: watch::channel(0).0,
        })
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Connected, and RabbitMQ answered a round trip within the last
    /// second (the maintainer asks every 250 ms): what `/health` reports.
    pub fn is_answering(&self) -> bool {
        self.is_connected()
            && self
                .answered
                .lock()
                .is_some_and(|at| at.elapsed() <= ANSWER_MAX_AGE)
    }

    /// One round trip to RabbitMQ now (a `basic.qos` on the notice channel,
    /// which consumes nothing, so it changes nothing): its duration, or None
    /// when not connected or no answer came within the timeout.
    pub async fn round_trip(&self) -> Option<Duration> {
        let channel = match &*self.link.read().await {
            Some(link) if self.is_connected() => link.notifier.clone(),
            _ => return None,
        };
        let start = Instant::now();
        match tokio::time::timeout(
            ROUND_TRIP_TIMEOUT,
            channel.basic_qos(0, BasicQosOptions::default()),
        )
        .await
        {
            Ok(Ok(())) => {
                *self.answered.lock() = Some(Instant::now());
                Some(start.elapsed())
            }
            _ => None,
        }
    }

    /// Changes at every new connection.
    pub fn generations(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Waits until connected (or the timeout passes); true when connected.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let mut rx = self.generations();
        let _ = tokio::time::timeout(timeout, async {
            while !self.is_connected() {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        self.is_connected()
    }

    /// Keeps the connection up until `shutdown` (the handle is for a
    /// supervisor: the process depends on this loop).
    pub fn spawn_maintainer(self: &Arc<Self>, shutdown: CancellationToken) -> JoinHandle<()> {
        let broker = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            while !shutdown.is_cancelled() {
                match broker.connect().await {
                    Ok(()) => {
                        backoff = Duration::from_millis(200);
                        metrics::counter!(metric::RABBITMQ_CONNECTIONS_TOTAL, "outcome" => "connected")
                            .increment(1);
                        metrics::gauge!(metric::RABBITMQ_CONNECTED).set(1.0);
                        broker.watch_until_lost(&shutdown).await;
                        metrics::gauge!(metric::RABBITMQ_CONNECTED).set(0.0);
                        if !shutdown.is_cancelled() {
                            metrics::counter!(metric::RABBITMQ_CONNECTIONS_TOTAL, "outcome" => "lost")
                                .increment(1);
                            tracing::warn!("lost the RabbitMQ connection; reconnecting");
                        }
                    }
                    Err(e) => {
                        metrics::counter!(metric::RABBITMQ_CONNECTIONS_TOTAL, "outcome" => "failed")
                            .increment(1);
                        // Also when it never connected: a service started
                        // without its broker must fire ApiBrokerDisconnected.
                        metrics::gauge!(metric::RABBITMQ_CONNECTED).set(0.0);
                        tracing::warn!(error = %e.chain(), retry_in = ?backoff, "cannot connect to RabbitMQ");
                        tokio::select! {
                            _ = shutdown.cancelled() => {}
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            }
            broker.disconnect().await;
        })
    }

    /// Connects to the first address that answers, starting at `first`, and
    /// declares. Each address gets CONNECT_TIMEOUT (a fifth of it when there
    /// are several, so one node that accepts TCP but never answers delays
    /// the others little); the error is the last address's.
    async fn connect(&self) -> lapin::Result<()> {
        let all: Vec<&str> = addresses(self.url.expose()).collect();
        let each = match all.len() {
            1 => CONNECT_TIMEOUT,
            _ => CONNECT_TIMEOUT / 5,
        };
        let first = self.first.load(Ordering::Relaxed) % all.len();
        let mut last = None;
        for i in (0..all.len()).map(|k| (first + k) % all.len()) {
            let attempt = match tokio::time::timeout(each, self.try_connect(all[i])).await {
                Ok(result) => result,
                Err(_) => Err(lapin::Error::from(lapin::ErrorKind::IOError(
                    std::sync::Arc::new(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "RabbitMQ did not answer in time",
                    )),
                ))),
            };
            match attempt {
                Ok(()) => {
                    self.first.store(i, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) => {
                    if all.len() > 1 {
                        tracing::warn!(error = %e.chain(), broker = %redact_url(all[i]), "cannot connect to this RabbitMQ node; trying the next");
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.expect("at least one address"))
    }

    async fn try_connect(&self, url: &str) -> lapin::Result<()> {
        let connection = super::connect(url).await?;
        let publisher = connection.create_channel().await?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.topology.declare(&publisher).await?;
        let notifier = connection.create_channel().await?;
        *self.link.write().await = Some(Link {
            connection,
            publisher,
            notifier,
        });
        *self.answered.lock() = Some(Instant::now());
        self.connected.store(true, Ordering::Relaxed);
        self.generation.send_modify(|g| *g += 1);
        tracing::info!(broker = %redact_url(url), "connected to RabbitMQ; topology declared");
        Ok(())
    }

    async fn watch_until_lost(&self, shutdown: &CancellationToken) {
        let mut declared = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(CHECK_EVERY) => {}
            }
            // With x-expires, a queue nobody consumes (the retry queues)
            // counts as unused however much is published to it; declaring
            // it again resets its timer. So the topology lives while any of
            // our processes runs, and expires only after the last one stops.
            if let Some(expires) = self.topology.expires
                && declared.elapsed() >= expires / 3
            {
                declared = tokio::time::Instant::now();
                if let Some(link) = &*self.link.read().await
                    && let Err(e) = self.topology.declare(&link.publisher).await
                {
                    tracing::warn!(error = %e.chain(), "could not re-declare the queues");
                }
            }
            let healthy = match &*self.link.read().await {
                Some(link) => {
                    link.connection.status().connected() && link.publisher.status().connected()
                }
                None => false,
            };
            if healthy {
                // Noticed by /health (is_answering) when it fails; a silent
                // link is left to the heartbeat to close.
                self.round_trip().await;
                continue;
            }
            self.connected.store(false, Ordering::Relaxed);
            *self.link.write().await = None;
            // Its node may be the one that went away: the next connection
            // tries the next address first.
            self.first.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }

    async fn disconnect(&self) {
        self.connected.store(false, Ordering::Relaxed);
        if let Some(link) = self.link.write().await.take() {
            let _ = link.connection.close(200, "shutting down".into()).await;
        }
    }

    /// A fresh channel on the current connection (consumers own theirs).
    pub(crate) async fn channel(&self) -> Option<Channel> {
        let guard = self.link.read().await;
        guard.as_ref()?.connection.create_channel().await.ok()
    }

    /// Publishes a turn to the work queue.
    pub async fn publish_turn(&self, job: &TurnJob) -> Result<(), PublishError> {
        self.publish(&self.topology.exchange(), TURNS_KEY, job)
            .await
    }

    /// Puts a turn back after `delay` (through a TTL retry queue).
    pub async fn publish_delayed(
        &self,
        job: &TurnJob,
        delay: RetryDelay,
    ) -> Result<(), PublishError> {
        self.publish(
            &self.topology.retry_exchange(),
            Topology::retry_key(delay),
            job,
        )
        .await
    }

    /// Tells every API instance with subscribers of `user` that `events`
    /// are committed, carrying them (unless large: then the instances read
    /// them). Best effort: never fails the caller; a lost notice is made up
    /// by the hub's sweep. Only a unit of work (`work::Work`) and the claim
    /// of a turn call it, after their commit.
    pub(crate) async fn notify(&self, user: &UserId, events: &[Stored]) {
        #[derive(serde::Serialize)]
        struct Notice<'a> {
            user_id: &'a UserId,
            r#type: &'static str,
            events: Option<&'a [Stored]>,
        }
        let mut notice = Notice {
            user_id: user,
            r#type: "notice",
            events: Some(events),
        };
        let mut body = serde_json::to_string(&notice).unwrap_or_default();
        if body.len() > NOTICE_CARRIES_UP_TO {
            notice.events = None;
            body = serde_json::to_string(&notice).unwrap_or_default();
        }
        self.publish_live(user, body).await;
    }

    /// Tells the instances with live streams of `user` that a token of theirs
    /// was revoked: each stream checks its own (no event is stored).
    pub async fn notify_sessions(&self, user: &UserId) {
        self.publish_live(
            user,
            json!({ "user_id": user, "type": "sessions" }).to_string(),
        )
        .await;
    }

    /// A transient event (`message.delta`, `message.queued`): not stored,
    /// delivered to whoever is connected now.
    pub async fn publish_transient(&self, user: &UserId, event: &Event) {
        debug_assert!(
            !event.is_durable(),
            "{} is stored, not published",
            event.kind()
        );
        self.publish_live(
            user,
            json!({ "user_id": user, "type": event.kind(), "data": event.data() }).to_string(),
        )
        .await;
    }

    async fn publish_live(&self, user: &UserId, body: String) {
        let channel = match &*self.link.read().await {
            Some(link) if self.is_connected() => link.notifier.clone(),
            _ => return,
        };
        let sent = channel
            .basic_publish(
                self.topology.events_exchange().into(),
                Topology::user_key(user).into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                BasicProperties::default().with_content_type("application/json".into()),
            )
            .await;
        if let Err(e) = sent {
            metrics::counter!(metric::LIVE_NOTICES_LOST_TOTAL).increment(1);
            tracing::debug!(error = %e.chain(), "live notice not sent");
        }
    }

    /// Publishes with confirms; a message the broker could not route (a
    /// queue deleted behind our back) re-declares the topology and is sent once more.
    async fn publish(&self, exchange: &str, key: &str, job: &TurnJob) -> Result<(), PublishError> {
        let channel = match &*self.link.read().await {
            Some(link) if self.is_connected() => link.publisher.clone(),
            _ => return Err(PublishError::Disconnected),
        };
        match self.publish_on(&channel, exchange, key, job).await {
            Err(PublishError::Unroutable) => {
                tracing::warn!(%exchange, %key, "a turn was unroutable; re-declaring the queues");
                metrics::counter!(metric::QUEUE_TOPOLOGY_REDECLARED_TOTAL).increment(1);
                self.topology.declare(&channel).await?;
                self.publish_on(&channel, exchange, key, job).await
            }
            other => other,
        }
    }

    async fn publish_on(
        &self,
        channel: &Channel,
        exchange: &str,
        key: &str,
        job: &TurnJob,
    ) -> Result<(), PublishError> {
        let payload = serde_json::to_vec(job).expect("a TurnJob serialises");
        let mut headers = FieldTable::default();
        if let Some(id) = &job.request_id {
            headers.insert(
                "x-request-id".into(),
                AMQPValue::LongString(LongString::from(id.as_bytes().to_vec())),
            );
        }
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(job.message_id.to_string().into())
            .with_headers(headers);
        let confirm = channel
            .basic_publish(
                exchange.into(),
                key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                &payload,
                properties,
            )
            .await?;
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, confirm)
            .await
            .map_err(|_| PublishError::Timeout(CONFIRM_TIMEOUT))??;
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(_)) => Err(PublishError::Unroutable),
            Confirmation::Nack(_) => Err(PublishError::Refused("nack")),
            Confirmation::NotRequested => Err(PublishError::Refused("no confirm mode")),
        }
    }
}
