//! Subscribers per user, and the consumer that feeds them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use todo_common::error::ErrorChain;

use futures_util::StreamExt;
use lapin::Channel;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use parking_lot::Mutex;
use serde_json::Value;
use todo_common::domain::UserId;
use todo_common::queue::{Broker, Topology};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a subscriber is told.
#[derive(Debug, Clone)]
pub enum Live {
    /// New durable events are committed for this user: read them.
    Notice,
    /// A transient event (not stored): deliver it as it is.
    Transient { kind: String, data: Value },
}

/// Per-connection buffer. Notices coalesce (one pending is enough), so only
/// transient events can fill it; a client that lets it fill is cut off and
/// resumes from its Last-Event-ID.
const BUFFER: usize = 64;

/// What a subscriber listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    /// Notices and transient events (an SSE stream).
    Everything,
    /// Notices only: a watcher that re-reads stored state (a `Prefer: wait`
    /// post, an MCP subscription). Its buffer only ever holds one coalesced
    /// notice, so however fast deltas stream it is never cut off as slow.
    Notices,
}

struct Subscriber {
    id: u64,
    wants: Wants,
    tx: mpsc::Sender<Live>,
}

type Senders = Vec<Subscriber>;

pub struct Hub {
    broker: Arc<Broker>,
    /// Does not poison: a panic while it is held must not break every
    /// later subscribe, dispatch and unsubscribe.
    subscribers: Mutex<HashMap<UserId, Senders>>,
    next_id: AtomicU64,
    binding: tokio::sync::Mutex<Binding>,
}

/// The current channel and queue, and which users are bound to it.
#[derive(Default)]
struct Binding {
    channel: Option<Channel>,
    queue: String,
    bound: HashSet<UserId>,
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    pub rx: mpsc::Receiver<Live>,
    hub: Arc<Hub>,
    user: UserId,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(&self.user, self.id);
    }
}

impl Hub {
    pub fn new(broker: Arc<Broker>) -> Arc<Self> {
        Arc::new(Self {
            broker,
            subscribers: Mutex::default(),
            next_id: AtomicU64::new(1),
            binding: tokio::sync::Mutex::default(),
        })
    }

    /// Subscribes to what `user`'s live streams are told; returns once the
    /// queue binding for the user exists (when connected), so nothing
    /// committed after this call goes unnoticed.
    pub async fn subscribe(self: &Arc<Self>, user: &UserId, wants: Wants) -> Subscription {
        let (tx, rx) = mpsc::channel(match wants {
            Wants::Everything => BUFFER,
            Wants::Notices => 1,
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.subscribers
            .lock()
            .entry(user.clone())
            .or_default()
            .push(Subscriber { id, wants, tx });
        metrics::gauge!("sse_subscribers").increment(1.0);
        let mut binding = self.binding.lock().await;
        if !binding.bound.contains(user)
            && let Some(channel) = binding.channel.clone()
            && bind(&channel, &binding.queue, self.broker.topology(), user)
                .await
                .is_ok()
        {
            binding.bound.insert(user.clone());
        }
        Subscription {
            rx,
            hub: self.clone(),
            user: user.clone(),
            id,
        }
    }

    fn remove(self: &Arc<Self>, user: &UserId, id: u64) {
        let now_empty = {
            let mut subs = self.subscribers.lock();
            let Some(list) = subs.get_mut(user) else {
                return;
            };
            let before = list.len();
            list.retain(|s| s.id != id);
            if list.len() < before {
                metrics::gauge!("sse_subscribers").decrement(1.0);
            }
            let empty = list.is_empty();
            if empty {
                subs.remove(user);
            }
            empty
        };
        if now_empty {
            let hub = self.clone();
            let user = user.clone();
            tokio::spawn(async move { hub.unbind_if_unused(&user).await });
        }
    }

    async fn unbind_if_unused(&self, user: &UserId) {
        let mut binding = self.binding.lock().await;
        // Re-checked under the binding lock: a new subscriber may have come.
        if self.subscribers.lock().contains_key(user) || !binding.bound.contains(user) {
            return;
        }
        binding.bound.remove(user);
        if let Some(channel) = binding.channel.clone() {
            let _ = channel
                .queue_unbind(
                    binding.queue.clone().into(),
                    self.broker.topology().events_exchange().into(),
                    Topology::user_key(user).into(),
                    FieldTable::default(),
                )
                .await;
        }
    }

    /// Hands `live` to every subscriber of `user` here.
    fn dispatch(&self, user: &UserId, live: Live) {
        let mut subs = self.subscribers.lock();
        let Some(list) = subs.get_mut(user) else {
            return;
        };
        let transient = matches!(live, Live::Transient { .. });
        list.retain(|s| {
            if transient && s.wants == Wants::Notices {
                return true;
            }
            match s.tx.try_send(live.clone()) {
                Ok(()) => true,
                // A notice already pending covers this one.
                Err(mpsc::error::TrySendError::Full(Live::Notice)) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("sse_slow_clients_dropped_total").increment(1);
                    metrics::gauge!("sse_subscribers").decrement(1.0);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    metrics::gauge!("sse_subscribers").decrement(1.0);
                    false
                }
            }
        });
    }

    /// Tells every local subscriber to re-read (after a reconnect, notices
    /// may have been missed).
    fn notify_all(&self) {
        let users: Vec<UserId> = self.subscribers.lock().keys().cloned().collect();
        for user in users {
            self.dispatch(&user, Live::Notice);
        }
    }

    /// Consumes this instance's queue until `shutdown`, re-creating it and
    /// its bindings at every broker connection.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut generations = hub.broker.generations();
            loop {
                if hub.broker.is_connected() {
                    generations.borrow_and_update();
                    if let Err(e) = hub.consume(&shutdown, &mut generations).await {
                        tracing::warn!(error = %e.chain(), "live event consumer stopped; retrying");
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = generations.changed() => {}
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
            }
        })
    }

    async fn consume(
        &self,
        shutdown: &CancellationToken,
        generations: &mut tokio::sync::watch::Receiver<u64>,
    ) -> lapin::Result<()> {
        let Some(channel) = self.broker.channel().await else {
            return Ok(());
        };
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        let name = queue.name().to_string();
        {
            let mut binding = self.binding.lock().await;
            let users: Vec<UserId> = self.subscribers.lock().keys().cloned().collect();
            binding.bound.clear();
            for user in users {
                bind(&channel, &name, self.broker.topology(), &user).await?;
                binding.bound.insert(user);
            }
            binding.channel = Some(channel.clone());
            binding.queue = name.clone();
        }
        let mut consumer = channel
            .basic_consume(
                name.into(),
                "".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        self.notify_all();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = generations.changed() => return Ok(()),
                delivery = consumer.next() => match delivery {
                    Some(Ok(d)) => self.receive(&d.data),
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                },
            }
        }
    }

    fn receive(&self, body: &[u8]) {
        let Ok(msg) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let Some(user) = msg["user_id"].as_str().and_then(|u| UserId::parse(u).ok()) else {
            return;
        };
        let live = match msg["type"].as_str() {
            Some("notice") | None => Live::Notice,
            Some(kind) => Live::Transient {
                kind: kind.to_string(),
                data: msg["data"].clone(),
            },
        };
        self.dispatch(&user, live);
    }
}

async fn bind(
    channel: &Channel,
    queue: &str,
    topology: &Topology,
    user: &UserId,
) -> lapin::Result<()> {
    channel
        .queue_bind(
            queue.into(),
            topology.events_exchange().into(),
            Topology::user_key(user).into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use todo_common::ApiConfig;

    use super::*;

    fn hub() -> Arc<Hub> {
        let config = ApiConfig::from_vars(HashMap::new()).unwrap();
        Hub::new(Broker::new(
            config.broker.url.clone(),
            Topology::from_config(&config.broker),
        ))
    }

    #[tokio::test]
    async fn a_panic_while_subscribers_are_locked_does_not_break_the_hub() {
        let hub = hub();
        let user = UserId::parse("someone").unwrap();
        let crashed = catch_unwind(AssertUnwindSafe(|| {
            let _held = hub.subscribers.lock();
            panic!("a bug while subscribers are locked");
        }));
        assert!(crashed.is_err());
        // Subscribing, delivering and unsubscribing all take the lock.
        let mut sub = hub.subscribe(&user, Wants::Everything).await;
        hub.dispatch(&user, Live::Notice);
        assert!(matches!(sub.rx.try_recv(), Ok(Live::Notice)));
        drop(sub);
        assert!(hub.subscribers.lock().is_empty());
    }

    #[tokio::test]
    async fn a_flood_of_deltas_cuts_off_a_stalled_stream_but_never_a_notice_watcher() {
        let hub = hub();
        let user = UserId::parse("someone").unwrap();
        let mut stream = hub.subscribe(&user, Wants::Everything).await;
        let mut watcher = hub.subscribe(&user, Wants::Notices).await;
        for i in 0..=BUFFER {
            hub.dispatch(
                &user,
                Live::Transient {
                    kind: "message.delta".into(),
                    data: serde_json::json!({ "delta": i }),
                },
            );
        }
        hub.dispatch(&user, Live::Notice);
        hub.dispatch(&user, Live::Notice);
        // The stream that read nothing was cut off after its buffer's worth...
        let mut buffered = 0;
        while let Ok(live) = stream.rx.try_recv() {
            assert!(matches!(live, Live::Transient { .. }));
            buffered += 1;
        }
        assert_eq!(buffered, BUFFER);
        assert!(stream.rx.recv().await.is_none(), "cut off as slow");
        // ...while the watcher holds one notice and stays subscribed.
        assert!(matches!(watcher.rx.try_recv(), Ok(Live::Notice)));
        assert!(watcher.rx.try_recv().is_err(), "notices coalesce");
        hub.dispatch(&user, Live::Notice);
        assert!(matches!(watcher.rx.try_recv(), Ok(Live::Notice)));
    }
}
