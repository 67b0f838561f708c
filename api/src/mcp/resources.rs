//! The user's task lists and fired reminders as MCP resources, and the
//! watch that tells a subscriber when they change. The watch is fed like an
//! SSE stream: a RabbitMQ notice says "this user has news" (from whichever
//! instance or worker made the change), the hub reads the user's new events
//! once for all of the user's streams and watches here, and wakes a watch
//! when one of them was a `task.*` change or a `reminder.due`. The watch
//! then reads the `reminder.due` events after the last it saw, so however
//! wakes coalesce, each fired reminder is handed over once. Like an SSE
//! stream, a watch ends with the token that started it (logout, expiry).

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Identity, Revocations, TokenDigest};
use todo_common::domain::UserId;
use todo_common::events::{self, Event, ReminderDue, Stored};
use todo_common::tasks::{ListParams, MAX_LIST_LIMIT};
use tokio_util::sync::CancellationToken;

use crate::live::{Live, Subscription, Wants};
use crate::state::AppState;

/// The resources: (URI, name, description, `status` as REST's list takes it).
pub(super) const LISTS: [(&str, &str, &str, &str); 3] = [
    (
        "tasks://all",
        "All tasks",
        "Every task of yours, newest first.",
        "all",
    ),
    (
        "tasks://pending",
        "Pending tasks",
        "Your tasks not done yet, newest first.",
        "pending",
    ),
    (
        "tasks://completed",
        "Completed tasks",
        "Your finished tasks, newest first.",
        "completed",
    ),
];

/// The reminders that fired, newest first: (URI, name, description).
pub(super) const REMINDERS: (&str, &str, &str) = (
    "tasks://reminders",
    "Fired reminders",
    "Your reminders that fired most recently, newest first, as `reminder.due` events.",
);

/// Fired reminders the resource holds.
const REMINDERS_READ: i64 = 50;
/// `reminder.due` events a watch reads per query.
const REMINDERS_PAGE: i64 = 100;

pub(super) fn is_known(uri: &str) -> bool {
    uri == REMINDERS.0 || LISTS.iter().any(|(u, ..)| *u == uri)
}

/// The list behind `uri` (the REST shape, `{"tasks": [...], "next_cursor"}`),
/// at most MAX_LIST_LIMIT tasks; None for an unknown URI.
pub(super) async fn read(
    state: &AppState,
    user: &UserId,
    uri: &str,
) -> Option<todo_common::Result<String>> {
    if uri == REMINDERS.0 {
        return Some(
            async {
                let fired =
                    events::latest_of_type(&state.pool, user, "reminder.due", REMINDERS_READ)
                        .await?;
                let reminders: Vec<ReminderDue> = fired.iter().filter_map(reminder_of).collect();
                Ok(serde_json::json!({ "reminders": reminders }).to_string())
            }
            .await,
        );
    }
    let (.., status) = LISTS.iter().find(|(u, ..)| *u == uri)?;
    let params = ListParams {
        status: Some((*status).to_owned()),
        limit: Some(MAX_LIST_LIMIT.to_string()),
        ..ListParams::default()
    };
    Some(
        async {
            let page = state.tasks.list(user, &params.parse()?).await?;
            Ok(serde_json::to_string(&page).unwrap_or_default())
        }
        .await,
    )
}

fn reminder_of(stored: &Stored) -> Option<ReminderDue> {
    match stored.event()? {
        Event::ReminderDue(reminder) => Some(reminder),
        _ => None,
    }
}

/// A user's task changes, from the moment [`Watch::start`] returns, for as
/// long as the token that asked is valid.
pub(super) struct Watch {
    state: AppState,
    user: UserId,
    subscription: Subscription,
    token: Token,
    /// The last `reminder.due` event handed over (or where the watch began).
    reminders_read: i64,
    /// Reminders may wait to be read whatever the subscription says.
    reread: bool,
}

/// What changed since a watch last woke.
pub(super) struct News {
    /// Reminders that fired, oldest first; the tasks changed either way.
    pub reminders: Vec<ReminderDue>,
}

impl News {
    /// Whether the resource at `uri` changed: the task lists always, the
    /// fired reminders when one fired.
    pub(super) fn updates(&self, uri: &str) -> bool {
        uri != REMINDERS.0 || !self.reminders.is_empty()
    }
}

/// The token a watch lives by.
struct Token {
    identity: Identity,
    digest: TokenDigest,
    revocations: Arc<Revocations>,
    /// Fires at the token's `exp`.
    ends: Pin<Box<tokio::time::Sleep>>,
    /// A logout here is in this instance's revocations at once, one on
    /// another within the ~2 s sync: either is seen at this tick.
    check: tokio::time::Interval,
}

impl Token {
    fn revoked(&self) -> bool {
        // Err(Unavailable) (revocations not loaded yet) cannot happen once a
        // request was authenticated with them; only a revocation ends a watch.
        matches!(
            self.revocations.check(&self.digest, &self.identity),
            Err(todo_common::Error::Unauthenticated(_))
        )
    }
}

/// How often a watch looks for revocations synced from other instances.
const REVOCATION_CHECK: Duration = Duration::from_secs(1);

impl Watch {
    /// Subscribes to the user's task changes: one committed after this
    /// returns is never missed.
    pub(super) async fn start(
        state: &AppState,
        identity: &Identity,
        digest: TokenDigest,
    ) -> todo_common::Result<Self> {
        let user = &identity.user_id;
        let subscription = state.hub.subscribe(user, Wants::TaskChanges).await?;
        let left = (identity.expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        let check = tokio::time::interval_at(
            tokio::time::Instant::now() + REVOCATION_CHECK,
            REVOCATION_CHECK,
        );
        Ok(Self {
            state: state.clone(),
            user: user.clone(),
            reminders_read: subscription.from,
            reread: false,
            subscription,
            token: Token {
                identity: identity.clone(),
                digest,
                revocations: state.revocations.clone(),
                ends: Box::pin(tokio::time::sleep(left)),
                check,
            },
        })
    }

    /// Waits for the user's next task change(s); None once `stop` is
    /// cancelled or the token is revoked or expired (then for good).
    pub(super) async fn changed(&mut self, stop: &CancellationToken) -> Option<News> {
        if !self.woke(stop).await {
            return None;
        }
        let mut reminders = Vec::new();
        // A new subscription in `woke`, a failed read or a full page: read
        // whatever the subscription says.
        while self.subscription.reminded() || self.reread {
            self.reread = false;
            let page = match events::of_type_after(
                &self.state.pool,
                &self.user,
                "reminder.due",
                self.reminders_read,
                REMINDERS_PAGE,
            )
            .await
            {
                Ok(page) => page,
                // The change is still announced; the reminders come with
                // the next read, or from the resource.
                Err(e) => {
                    tracing::warn!(error = %e, "an MCP watch could not read fired reminders");
                    self.reread = true;
                    break;
                }
            };
            if let Some(last) = page.last() {
                self.reminders_read = last.seq;
            }
            reminders.extend(page.iter().filter_map(reminder_of));
            if (page.len() as i64) < REMINDERS_PAGE {
                break;
            }
            self.reread = true; // more to read
        }
        Some(News { reminders })
    }

    async fn woke(&mut self, stop: &CancellationToken) -> bool {
        loop {
            if self.token.revoked() {
                return false;
            }
            tokio::select! {
                _ = stop.cancelled() => return false,
                _ = &mut self.token.ends => return false,
                _ = self.token.check.tick() => continue,
                live = self.subscription.rx.recv() => match live {
                    Some(Live::Changed) => {}
                    // Never sent to a watcher.
                    Some(_) => continue,
                    // Only the hub's end closes it: subscribe again, and
                    // announce a change that may have slipped by meanwhile.
                    None => match self.state.hub.subscribe(&self.user, Wants::TaskChanges).await {
                        Ok(subscription) => {
                            self.subscription = subscription;
                            self.reread = true;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "an MCP watch could not subscribe again; ending it");
                            return false;
                        }
                    },
                },
            }
            // Announced only while the token is still good.
            return !self.token.revoked();
        }
    }
}
