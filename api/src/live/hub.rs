//! Subscribers per user, the consumer that feeds them, and the one read of
//! a user's new events that serves all of them.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use todo_common::error::ErrorChain;

use parking_lot::Mutex;
use sqlx::PgPool;
use todo_common::domain::UserId;
use todo_common::events::{self, Event, Stored};
use todo_common::metric;
use todo_common::queue::{Broker, LiveMessage, LiveQueue, QueueError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// What a subscriber is told.
#[derive(Debug, Clone)]
pub enum Live {
    /// The user's next stored events, in order, read once for every
    /// subscriber of the user here (a stream).
    Events(Arc<[Stored]>),
    /// A transient event (not stored): deliver it as it is (a stream).
    Transient(Box<Event>),
    /// A token of the user was revoked: check yours (a stream).
    Sessions,
    /// What a watcher waits for happened (a task watcher).
    Changed,
    /// The watched turn ended: its `message.completed` or `message.failed`
    /// (a turn watcher).
    Ended(Box<Event>),
}

/// Per-stream buffer. A stream that lets it fill with events is marked
/// behind and reads what it missed itself; one that lets transient events
/// fill it is cut off and resumes from its Last-Event-ID.
const BUFFER: usize = 64;
/// Events read per query.
const PAGE: i64 = 500;
/// How often every followed user's newest event id is compared with what
/// was read (one query for all of them): a notice can be lost.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// What a subscriber listens to.
#[derive(Debug, Clone)]
pub enum Wants {
    /// Stored events, transient events and revocations (an SSE stream).
    Everything,
    /// A `Changed` when a task changes or one of its reminders fires (an
    /// MCP subscription); [`Subscription::reminded`] tells the latter.
    TaskChanges,
    /// A `Changed` when a turn ends (a `Prefer: wait` post): the turn set
    /// with [`Subscription::only_turn`], or any turn before it is set.
    TurnEnd,
}

/// A watcher's buffer only ever holds one `Changed`, so however fast
/// events come it is never cut off as slow (issue 24).
fn buffer_of(wants: &Wants) -> usize {
    match wants {
        Wants::Everything => BUFFER,
        Wants::TaskChanges | Wants::TurnEnd => 1,
    }
}

struct Subscriber {
    id: u64,
    wants: Wants,
    turn: Arc<OnceLock<Uuid>>,
    behind: Arc<AtomicBool>,
    /// A task watcher's: a `reminder.due` came since it last looked.
    reminded: Arc<AtomicBool>,
    tx: mpsc::Sender<Live>,
}

impl Subscriber {
    /// What this watcher is told of `batch`, if it is what it waits for.
    fn told_of(&self, batch: &[Event]) -> Option<Live> {
        let mut events = batch.iter();
        match self.wants {
            Wants::Everything => None,
            Wants::TaskChanges => {
                // Set before the `Changed` is sent, which a pending one covers.
                if batch.iter().any(|e| matches!(e, Event::ReminderDue(_))) {
                    self.reminded.store(true, Ordering::Relaxed);
                }
                events.any(|e| e.is_task_change()).then_some(Live::Changed)
            }
            Wants::TurnEnd => events
                .find(|e| {
                    e.ends_turn()
                        .is_some_and(|ended| self.turn.get().is_none_or(|turn| *turn == ended))
                })
                .map(|e| Live::Ended(Box::new(e.clone()))),
        }
    }
}

/// One user's subscribers here, and how far their events are read.
#[derive(Default)]
struct Feed {
    subscribers: Vec<Subscriber>,
    /// The newest event handed to the subscribers; None until known.
    read_to: Option<i64>,
    /// A read is running; `again`: a notice came meanwhile.
    reading: bool,
    again: bool,
    /// The newest event notices carried before `read_to` was known.
    unplaced_to: Option<i64>,
}

pub struct Hub {
    broker: Arc<Broker>,
    pool: PgPool,
    /// Does not poison: a panic while it is held must not break every
    /// later subscribe, dispatch and unsubscribe.
    feeds: Mutex<HashMap<UserId, Feed>>,
    next_id: AtomicU64,
    binding: tokio::sync::Mutex<Binding>,
    /// Event reads made, for every subscriber together.
    reads: AtomicU64,
}

/// The current live queue, and which users are bound to it.
#[derive(Default)]
struct Binding {
    queue: Option<Arc<LiveQueue>>,
    bound: HashSet<UserId>,
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    pub rx: mpsc::Receiver<Live>,
    /// Every stored event after this id reaches a stream (unless it falls
    /// behind); earlier ones are the subscriber's own to read.
    pub from: i64,
    behind: Arc<AtomicBool>,
    reminded: Arc<AtomicBool>,
    turn: Arc<OnceLock<Uuid>>,
    hub: Arc<Hub>,
    user: UserId,
    id: u64,
}

impl Subscription {
    /// True once since events were dropped for this stream because its
    /// buffer was full: it must read after its last id itself.
    pub fn fell_behind(&self) -> bool {
        self.behind.swap(false, Ordering::Relaxed)
    }

    /// True once since a reminder of the user's fired (a task watcher): the
    /// watcher reads which itself, so other changes cost it no query.
    pub fn reminded(&self) -> bool {
        self.reminded.swap(false, Ordering::Relaxed)
    }

    /// Starts an unplaced subscription (`Hub::subscribe_unplaced`) after the
    /// caller's change: `known` is the newest event that change recorded
    /// (None when it recorded none: then where the events stand is read).
    pub async fn place(&mut self, known: Option<i64>) -> todo_common::Result<()> {
        self.from = self.hub.place(&self.user, known).await?;
        Ok(())
    }

    /// A `TurnEnd` watcher: from now on, only this turn's end wakes it.
    pub fn only_turn(&self, message_id: Uuid) {
        let _ = self.turn.set(message_id);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(&self.user, self.id);
    }
}

impl Hub {
    pub fn new(broker: Arc<Broker>, pool: PgPool) -> Arc<Self> {
        Arc::new(Self {
            broker,
            pool,
            feeds: Mutex::default(),
            next_id: AtomicU64::new(1),
            binding: tokio::sync::Mutex::default(),
            reads: AtomicU64::new(0),
        })
    }

    /// Event reads made so far, all subscribers together.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Subscribes to what `user`'s live subscribers are told; returns once
    /// the queue binding for the user exists (when connected), so nothing
    /// committed after this call goes unnoticed.
    pub async fn subscribe(
        self: &Arc<Self>,
        user: &UserId,
        wants: Wants,
    ) -> todo_common::Result<Subscription> {
        let mut subscription = self.subscribe_unplaced(user, wants).await;
        subscription.place(None).await?;
        Ok(subscription)
    }

    /// As `subscribe`, for a caller about to make a change of its own: it
    /// must then [`Subscription::place`] the subscription, after its change
    /// committed, which spares the read of where the user's events stand.
    pub async fn subscribe_unplaced(self: &Arc<Self>, user: &UserId, wants: Wants) -> Subscription {
        let (tx, rx) = mpsc::channel(buffer_of(&wants));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let behind = Arc::new(AtomicBool::new(false));
        let reminded = Arc::new(AtomicBool::new(false));
        let turn = Arc::new(OnceLock::new());
        self.feeds
            .lock()
            .entry(user.clone())
            .or_default()
            .subscribers
            .push(Subscriber {
                id,
                wants,
                turn: turn.clone(),
                behind: behind.clone(),
                reminded: reminded.clone(),
                tx,
            });
        metrics::gauge!(metric::SSE_SUBSCRIBERS).increment(1.0);
        // From here on the subscription cleans up after itself.
        let subscription = Subscription {
            rx,
            from: 0,
            behind,
            reminded,
            turn,
            hub: self.clone(),
            user: user.clone(),
            id,
        };
        let mut binding = self.binding.lock().await;
        if !binding.bound.contains(user)
            && let Some(queue) = binding.queue.clone()
            && queue.bind(user).await.is_ok()
        {
            binding.bound.insert(user.clone());
        }
        subscription
    }

    /// Where a new feed of `user` starts: `known` (the newest event of a
    /// change the caller just committed after subscribing), else the newest
    /// event committed now, read. Anything later is noticed.
    async fn place(
        self: &Arc<Self>,
        user: &UserId,
        known: Option<i64>,
    ) -> todo_common::Result<i64> {
        if let Some(read_to) = self.feeds.lock().get(user).and_then(|f| f.read_to) {
            return Ok(read_to);
        }
        let newest = match known {
            Some(seq) => seq,
            None => events::bounds(&self.pool, user).await?.0,
        };
        let (start, noticed) = {
            let mut feeds = self.feeds.lock();
            let feed = feeds.entry(user.clone()).or_default();
            let start = *feed.read_to.get_or_insert(newest);
            let carried_later = feed.unplaced_to.take().is_some_and(|to| to > start);
            (start, feed.again || carried_later)
        };
        // Notices that came before the position was known.
        if noticed {
            self.wake(user);
        }
        Ok(start)
    }

    fn remove(self: &Arc<Self>, user: &UserId, id: u64) {
        let now_empty = {
            let mut feeds = self.feeds.lock();
            let Some(feed) = feeds.get_mut(user) else {
                return;
            };
            let before = feed.subscribers.len();
            feed.subscribers.retain(|s| s.id != id);
            if feed.subscribers.len() < before {
                metrics::gauge!(metric::SSE_SUBSCRIBERS).decrement(1.0);
            }
            let empty = feed.subscribers.is_empty();
            if empty {
                feeds.remove(user);
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
        if self.feeds.lock().contains_key(user) || !binding.bound.contains(user) {
            return;
        }
        binding.bound.remove(user);
        if let Some(queue) = binding.queue.clone() {
            let _ = queue.unbind(user).await;
        }
    }

    /// `user` has new stored events: read them once, for every subscriber
    /// of the user here (a read already running reads again after).
    fn wake(self: &Arc<Self>, user: &UserId) {
        {
            let mut feeds = self.feeds.lock();
            let Some(feed) = feeds.get_mut(user) else {
                return;
            };
            if feed.reading || feed.read_to.is_none() {
                feed.again = true;
                return;
            }
            feed.reading = true;
            feed.again = false;
        }
        let hub = self.clone();
        let user = user.clone();
        tokio::spawn(async move { hub.read(&user).await });
    }

    /// Reads `user`'s events after the feed's position, hands each batch to
    /// the subscribers, and goes on while there is more or a notice came.
    async fn read(&self, user: &UserId) {
        loop {
            let Some(after) = self.feeds.lock().get(user).and_then(|f| f.read_to) else {
                return;
            };
            self.reads.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(metric::LIVE_EVENT_READS_TOTAL).increment(1);
            let batch = match events::after(&self.pool, user, after, None, PAGE).await {
                Ok(batch) => batch,
                Err(e) => {
                    // The sweep or the next notice reads again.
                    tracing::warn!(error = %e.chain(), "could not read a user's live events");
                    if let Some(feed) = self.feeds.lock().get_mut(user) {
                        feed.reading = false;
                    }
                    return;
                }
            };
            let full = batch.len() as i64 == PAGE;
            let mut feeds = self.feeds.lock();
            let Some(feed) = feeds.get_mut(user) else {
                return;
            };
            // Only what no other read handed out (a feed dropped and made
            // anew while this read ran may have a reader of its own).
            let read_to = feed.read_to.unwrap_or(after);
            let fresh: Vec<Stored> = batch.into_iter().filter(|e| e.seq > read_to).collect();
            if let Some(last) = fresh.last() {
                feed.read_to = Some(last.seq);
                dispatch(&mut feed.subscribers, &Live::Events(fresh.into()));
            }
            if !full && !std::mem::take(&mut feed.again) {
                feed.reading = false;
                return;
            }
        }
    }

    /// A notice of `user`'s new events: those it carries go straight to the
    /// subscribers when they follow on from what was handed out; otherwise
    /// (an earlier notice late or lost, a read running, none carried) read.
    fn noticed(self: &Arc<Self>, user: &UserId, events: Option<Vec<Stored>>) {
        if let Some(events) = events {
            let mut feeds = self.feeds.lock();
            let Some(feed) = feeds.get_mut(user) else {
                return;
            };
            let Some(read_to) = feed.read_to else {
                // Not placed yet: `place` reads if these go past its start.
                feed.unplaced_to = feed.unplaced_to.max(events.last().map(|e| e.seq));
                return;
            };
            if !feed.reading {
                let fresh: Vec<Stored> = events.into_iter().filter(|e| e.seq > read_to).collect();
                let follows = fresh
                    .iter()
                    .zip(read_to + 1..)
                    .all(|(e, expected)| e.seq == expected);
                match fresh.last() {
                    // Handed out already.
                    None => return,
                    Some(last) if follows => {
                        feed.read_to = Some(last.seq);
                        dispatch(&mut feed.subscribers, &Live::Events(fresh.into()));
                        return;
                    }
                    Some(_) => {}
                }
            }
        }
        self.wake(user);
    }

    /// Hands a transient event or a revocation to `user`'s streams here.
    fn tell_streams(&self, user: &UserId, live: Live) {
        if let Some(feed) = self.feeds.lock().get_mut(user) {
            dispatch(&mut feed.subscribers, &live);
        }
    }

    /// Wakes every followed user whose newest event id is past what was
    /// read (all of them with `all`, after a reconnect): one query.
    async fn sweep(self: &Arc<Self>) -> todo_common::Result<()> {
        let followed: Vec<(UserId, i64)> = self
            .feeds
            .lock()
            .iter()
            .filter_map(|(user, feed)| Some((user.clone(), feed.read_to?)))
            .collect();
        if followed.is_empty() {
            return Ok(());
        }
        let users: Vec<UserId> = followed.iter().map(|(u, _)| u.clone()).collect();
        let newest: HashMap<UserId, i64> = events::newest_of(&self.pool, &users)
            .await?
            .into_iter()
            .collect();
        for (user, read_to) in followed {
            if newest.get(&user).is_some_and(|n| *n > read_to) {
                metrics::counter!(metric::LIVE_NOTICES_MADE_UP_TOTAL).increment(1);
                self.wake(&user);
            }
        }
        Ok(())
    }

    /// Compares every followed user's events with what was read, every
    /// SWEEP_EVERY, until `shutdown`.
    pub fn spawn_sweep(
        self: &Arc<Self>,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = every.tick() => {}
                }
                if let Err(e) = hub.sweep().await {
                    tracing::warn!(error = %e.chain(), "live event sweep failed; retrying");
                }
            }
        })
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
        self: &Arc<Self>,
        shutdown: &CancellationToken,
        generations: &mut tokio::sync::watch::Receiver<u64>,
    ) -> Result<(), QueueError> {
        let Some(queue) = self.broker.live_queue().await else {
            return Ok(());
        };
        let queue = Arc::new(queue?);
        {
            let mut binding = self.binding.lock().await;
            let users: Vec<UserId> = self.feeds.lock().keys().cloned().collect();
            binding.bound.clear();
            for user in users {
                queue.bind(&user).await?;
                binding.bound.insert(user);
            }
            binding.queue = Some(queue.clone());
        }
        let mut messages = queue.consume().await?;
        // Notices may have been missed while disconnected.
        let hub = self.clone();
        tokio::spawn(async move {
            if let Err(e) = hub.sweep().await {
                tracing::warn!(error = %e.chain(), "live event sweep after a reconnect failed");
            }
        });
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = generations.changed() => return Ok(()),
                message = messages.next() => match message {
                    Some(Ok(message)) => self.receive(message),
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                },
            }
        }
    }

    fn receive(self: &Arc<Self>, message: LiveMessage) {
        match message {
            LiveMessage::Notice(user, events) => self.noticed(&user, events),
            LiveMessage::Sessions(user) => self.tell_streams(&user, Live::Sessions),
            LiveMessage::Transient(user, event) => self.tell_streams(&user, Live::Transient(event)),
        }
    }
}

/// Hands `live` to those of `subscribers` it is for; drops the closed ones
/// and streams too slow for transient events.
fn dispatch(subscribers: &mut Vec<Subscriber>, live: &Live) {
    // Decoded once for all the user's watchers, and only if one is there.
    let decoded = std::cell::OnceCell::new();
    subscribers.retain(|s| {
        let message = match (&s.wants, live) {
            (Wants::Everything, _) => live.clone(),
            (_, Live::Events(batch)) => {
                let batch = decoded
                    .get_or_init(|| batch.iter().filter_map(Stored::event).collect::<Vec<_>>());
                match s.told_of(batch) {
                    Some(told) => told,
                    None => return true,
                }
            }
            _ => return true,
        };
        match s.tx.try_send(message) {
            Ok(()) => true,
            // A watcher's pending `Changed` covers this one; a turn ends once.
            Err(mpsc::error::TrySendError::Full(Live::Changed | Live::Ended(_))) => true,
            // The stream reads what it missed itself.
            Err(mpsc::error::TrySendError::Full(Live::Events(_) | Live::Sessions)) => {
                s.behind.store(true, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Full(Live::Transient(_))) => {
                metrics::counter!(metric::SSE_SLOW_CLIENTS_DROPPED_TOTAL).increment(1);
                metrics::gauge!(metric::SSE_SUBSCRIBERS).decrement(1.0);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                metrics::gauge!(metric::SSE_SUBSCRIBERS).decrement(1.0);
                false
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use serde_json::json;
    use todo_common::ApiConfig;
    use todo_common::domain::{ChatMessage, MessageRole, MessageStatus, Priority, Task, TaskId};
    use todo_common::events::{MessageDelta, MessageEnded};
    use todo_common::queue::Topology;
    use todo_common::work::Work;

    use super::*;

    /// A hub on a fresh database with one user; notices are handed to it
    /// the way its consumer does (`receive`), no broker needed.
    async fn hub() -> (Arc<Hub>, UserId) {
        let (_, pool) = testkit::fresh_database().await;
        let config = ApiConfig::from_vars(HashMap::new()).unwrap();
        let user = UserId::generate();
        sqlx::query("INSERT INTO users (id, name) VALUES ($1, 'someone')")
            .bind(&user)
            .execute(&pool)
            .await
            .unwrap();
        let broker = Broker::new(
            config.broker.url.clone(),
            Topology::from_config(&config.broker),
        );
        (Hub::new(broker, pool), user)
    }

    /// Stores an event as a change does (without the broker's notice)...
    async fn store(hub: &Arc<Hub>, user: &UserId, event: Event) -> Vec<Stored> {
        let mut work = Work::begin(&hub.pool, &hub.broker).await.unwrap();
        work.record(user, event);
        work.commit().await.unwrap().events(user).to_vec()
    }

    /// ...and with its notice, carrying the events, as the hub's consumer
    /// hands it over...
    async fn change(hub: &Arc<Hub>, user: &UserId, event: Event) -> i64 {
        let stored = store(hub, user, event).await;
        let seq = stored.last().unwrap().seq;
        hub.receive(LiveMessage::Notice(user.clone(), Some(stored)));
        seq
    }

    /// ...or with a notice too large to carry them.
    async fn large_change(hub: &Arc<Hub>, user: &UserId, event: Event) -> i64 {
        let seq = store(hub, user, event).await.last().unwrap().seq;
        hub.receive(LiveMessage::Notice(user.clone(), None));
        seq
    }

    fn task(user: &UserId, title: &str) -> Task {
        let now = chrono::Utc::now();
        Task {
            id: TaskId::parse("1").unwrap(),
            user_id: user.clone(),
            title: title.into(),
            description: String::new(),
            completed: false,
            priority: Priority::default(),
            tags: vec![],
            due_date: None,
            due_at: None,
            recurrence: None,
            reminders: Default::default(),
            completed_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The end of turn `message_id`.
    fn ended(message_id: Uuid) -> MessageEnded {
        let conversation_id = Uuid::now_v7();
        MessageEnded {
            message_id,
            conversation_id,
            reason: None,
            message: ChatMessage {
                id: Uuid::now_v7(),
                conversation_id,
                seq: 2,
                role: MessageRole::Assistant,
                content: "Done.".into(),
                status: MessageStatus::Completed,
                tool_calls: None,
                tool_call_id: None,
                tool_name: None,
                reply_to: Some(message_id),
                is_final: true,
                metadata: sqlx::types::Json(json!({})),
                error: None,
                idempotency_key: None,
                created_at: chrono::Utc::now(),
            },
        }
    }

    async fn next(sub: &mut Subscription) -> Live {
        tokio::time::timeout(Duration::from_secs(5), sub.rx.recv())
            .await
            .expect("told within 5 s")
            .expect("still subscribed")
    }

    /// 20 streams, 5 task watchers and a waiting post of one user.
    async fn crowd(
        hub: &Arc<Hub>,
        user: &UserId,
    ) -> (Vec<Subscription>, Vec<Subscription>, Subscription) {
        let mut streams = Vec::new();
        for _ in 0..20 {
            streams.push(hub.subscribe(user, Wants::Everything).await.unwrap());
        }
        let mut task_watchers = Vec::new();
        for _ in 0..5 {
            task_watchers.push(hub.subscribe(user, Wants::TaskChanges).await.unwrap());
        }
        let waiter = hub.subscribe(user, Wants::TurnEnd).await.unwrap();
        waiter.only_turn(Uuid::now_v7());
        (streams, task_watchers, waiter)
    }

    /// Every stream was handed exactly event `seq`, a "milk" task, and
    /// every task watcher was woken.
    async fn all_told(streams: &mut [Subscription], task_watchers: &mut [Subscription], seq: i64) {
        for stream in streams {
            match next(stream).await {
                Live::Events(batch) => {
                    let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
                    assert_eq!(seqs, [seq]);
                    assert!(
                        matches!(batch[0].event(), Some(Event::TaskCreated(t)) if t.title == "milk")
                    );
                }
                other => panic!("expected the event, got {other:?}"),
            }
        }
        for watcher in task_watchers {
            assert!(matches!(next(watcher).await, Live::Changed));
        }
    }

    #[tokio::test]
    async fn a_notice_carrying_its_events_tells_every_stream_and_watcher_without_a_read() {
        let (hub, user) = hub().await;
        let (mut streams, mut task_watchers, mut waiter) = crowd(&hub, &user).await;
        assert!(streams.iter().all(|s| s.from == 0), "nothing stored yet");

        let seq = change(&hub, &user, Event::TaskCreated(task(&user, "milk"))).await;
        all_told(&mut streams, &mut task_watchers, seq).await;
        assert_eq!(hub.reads(), 0, "the notice carried the event");
        // Another turn's end is not the one this post waits for.
        change(&hub, &user, Event::MessageCompleted(ended(Uuid::now_v7()))).await;
        assert!(matches!(next(&mut streams[0]).await, Live::Events(_)));
        assert!(waiter.rx.try_recv().is_err(), "not its turn");
        assert!(task_watchers[0].rx.try_recv().is_err(), "not a task change");
        assert_eq!(hub.reads(), 0);
    }

    #[tokio::test]
    async fn one_read_tells_every_stream_and_watcher_of_a_user() {
        let (hub, user) = hub().await;
        let (mut streams, mut task_watchers, mut waiter) = crowd(&hub, &user).await;

        let seq = large_change(&hub, &user, Event::TaskCreated(task(&user, "milk"))).await;
        all_told(&mut streams, &mut task_watchers, seq).await;
        assert_eq!(hub.reads(), 1, "one query for 26 subscribers");
        large_change(&hub, &user, Event::MessageCompleted(ended(Uuid::now_v7()))).await;
        assert!(matches!(next(&mut streams[0]).await, Live::Events(_)));
        assert!(waiter.rx.try_recv().is_err(), "not its turn");
        assert!(task_watchers[0].rx.try_recv().is_err(), "not a task change");
        assert_eq!(hub.reads(), 2);
    }

    #[tokio::test]
    async fn a_notice_that_skips_events_is_read_in_full() {
        let (hub, user) = hub().await;
        let mut stream = hub.subscribe(&user, Wants::Everything).await.unwrap();
        // The first change's notice is lost (or late); the second one's events
        // do not follow on from what was handed out.
        let first = store(&hub, &user, Event::TaskCreated(task(&user, "one"))).await[0].seq;
        let second = change(&hub, &user, Event::TaskUpdated(task(&user, "two"))).await;
        let Live::Events(batch) = next(&mut stream).await else {
            panic!("expected events")
        };
        assert_eq!(
            batch.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [first, second]
        );
        assert_eq!(hub.reads(), 1);
        // The late notice changes nothing: both were handed out.
        hub.receive(LiveMessage::Notice(user.clone(), None));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(stream.rx.try_recv().is_err(), "nothing handed out twice");
    }

    #[tokio::test]
    async fn a_post_placed_after_its_change_is_told_of_its_turn_without_a_read() {
        let (hub, user) = hub().await;
        let mut waiter = hub.subscribe_unplaced(&user, Wants::TurnEnd).await;
        let turn = Uuid::now_v7();
        let posted = change(&hub, &user, Event::TaskCreated(task(&user, "the post"))).await;
        waiter.only_turn(turn);
        waiter.place(Some(posted)).await.unwrap();
        assert_eq!(waiter.from, posted);
        change(&hub, &user, Event::MessageCompleted(ended(turn))).await;
        match next(&mut waiter).await {
            Live::Ended(event) => assert_eq!(event.ends_turn(), Some(turn)),
            other => panic!("expected its turn's end, got {other:?}"),
        }
        assert_eq!(hub.reads(), 0, "no read to place it, none to tell it");
    }

    #[tokio::test]
    async fn a_waiter_hears_its_turn_end_even_before_it_knows_the_turn() {
        let (hub, user) = hub().await;
        let mut waiter = hub.subscribe(&user, Wants::TurnEnd).await.unwrap();
        let turn = Uuid::now_v7();
        // The answer may come before the post has its id back: any end wakes.
        change(&hub, &user, Event::MessageFailed(ended(turn))).await;
        assert!(matches!(next(&mut waiter).await, Live::Ended(_)));
        waiter.only_turn(turn);
        change(&hub, &user, Event::MessageCompleted(ended(turn))).await;
        assert!(matches!(next(&mut waiter).await, Live::Ended(_)));
    }

    #[tokio::test]
    async fn a_subscriber_joining_later_starts_where_the_feed_is() {
        let (hub, user) = hub().await;
        let mut first = hub.subscribe(&user, Wants::Everything).await.unwrap();
        let one = change(&hub, &user, Event::TaskCreated(task(&user, "one"))).await;
        assert!(matches!(next(&mut first).await, Live::Events(_)));
        let mut second = hub.subscribe(&user, Wants::Everything).await.unwrap();
        assert_eq!(second.from, one, "events up to here are its own to read");
        let two = change(&hub, &user, Event::TaskUpdated(task(&user, "two"))).await;
        for sub in [&mut first, &mut second] {
            let Live::Events(batch) = next(sub).await else {
                panic!("expected events")
            };
            assert_eq!(batch.iter().map(|e| e.seq).collect::<Vec<_>>(), [two]);
        }
    }

    #[tokio::test]
    async fn a_lost_notice_is_made_up_by_the_sweep() {
        let (hub, user) = hub().await;
        let mut stream = hub.subscribe(&user, Wants::Everything).await.unwrap();
        // No notice: the broker lost it.
        let seq = store(&hub, &user, Event::TaskCreated(task(&user, "lost"))).await[0].seq;
        assert!(stream.rx.try_recv().is_err());
        hub.sweep().await.unwrap();
        let Live::Events(batch) = next(&mut stream).await else {
            panic!("expected events")
        };
        assert_eq!(batch[0].seq, seq);
    }

    #[tokio::test]
    async fn a_panic_while_feeds_are_locked_does_not_break_the_hub() {
        let (hub, user) = hub().await;
        let crashed = catch_unwind(AssertUnwindSafe(|| {
            let _held = hub.feeds.lock();
            panic!("a bug while feeds are locked");
        }));
        assert!(crashed.is_err());
        // Subscribing, delivering and unsubscribing all take the lock.
        let mut sub = hub.subscribe(&user, Wants::Everything).await.unwrap();
        hub.tell_streams(&user, Live::Sessions);
        assert!(matches!(sub.rx.try_recv(), Ok(Live::Sessions)));
        drop(sub);
        assert!(hub.feeds.lock().is_empty());
    }

    #[tokio::test]
    async fn a_flood_cuts_off_a_stalled_stream_but_never_a_watcher() {
        let (hub, user) = hub().await;
        let mut stream = hub.subscribe(&user, Wants::Everything).await.unwrap();
        let mut watcher = hub.subscribe(&user, Wants::TaskChanges).await.unwrap();
        for i in 0..=BUFFER {
            hub.tell_streams(
                &user,
                Live::Transient(Box::new(Event::MessageDelta(MessageDelta {
                    message_id: Uuid::nil(),
                    conversation_id: Uuid::nil(),
                    delta: i.to_string(),
                }))),
            );
        }
        change(&hub, &user, Event::TaskCreated(task(&user, "a"))).await;
        change(&hub, &user, Event::TaskUpdated(task(&user, "a"))).await;
        // The stream that read nothing was cut off after its buffer's worth...
        let mut buffered = 0;
        while let Ok(live) = stream.rx.try_recv() {
            assert!(matches!(live, Live::Transient(_)));
            buffered += 1;
        }
        assert_eq!(buffered, BUFFER);
        assert!(stream.rx.recv().await.is_none(), "cut off as slow");
        // ...while the watcher holds one wake-up and stays subscribed.
        assert!(matches!(next(&mut watcher).await, Live::Changed));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = watcher.rx.try_recv(); // the second change, if read apart
        assert!(watcher.rx.try_recv().is_err(), "wake-ups coalesce");
        change(&hub, &user, Event::TaskDeleted(task(&user, "a"))).await;
        assert!(matches!(next(&mut watcher).await, Live::Changed));
    }

    #[tokio::test]
    async fn a_stream_whose_buffer_fills_with_events_is_told_to_read_itself() {
        let (hub, user) = hub().await;
        let stream = hub.subscribe(&user, Wants::Everything).await.unwrap();
        for _ in 0..=BUFFER {
            hub.tell_streams(&user, Live::Sessions);
        }
        assert!(stream.fell_behind());
        assert!(!stream.fell_behind(), "told once");
    }
}
