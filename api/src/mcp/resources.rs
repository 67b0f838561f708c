//! The user's task lists as MCP resources, and the watch that tells a
//! subscriber when they change. The watch is fed exactly like an SSE
//! stream: a RabbitMQ notice says "this user has news" (from whichever
//! instance or worker made the change), and the user's durable events after
//! the last one seen say whether any of it was a `task.*` change.

use std::time::Duration;

use todo_common::domain::UserId;
use todo_common::events;
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

pub(super) fn is_known(uri: &str) -> bool {
    LISTS.iter().any(|(u, ..)| *u == uri)
}

/// The list behind `uri` (the REST shape, `{"tasks": [...], "next_cursor"}`),
/// at most MAX_LIST_LIMIT tasks; None for an unknown URI.
pub(super) async fn read(
    state: &AppState,
    user: &UserId,
    uri: &str,
) -> Option<todo_common::Result<String>> {
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

/// A user's task changes, from the moment [`Watch::start`] returns.
pub(super) struct Watch {
    state: AppState,
    user: UserId,
    subscription: Subscription,
    /// The newest event already accounted for.
    seen: i64,
}

/// Events read per query while catching up.
const BATCH: i64 = 500;

impl Watch {
    /// Subscribes to the user's notices, then notes where their events
    /// stand: a change committed after this returns is never missed.
    pub(super) async fn start(state: &AppState, user: &UserId) -> todo_common::Result<Self> {
        let subscription = state.hub.subscribe(user, Wants::Notices).await;
        let (seen, _) = events::bounds(&state.pool, user).await?;
        Ok(Self {
            state: state.clone(),
            user: user.clone(),
            subscription,
            seen,
        })
    }

    /// Waits for the user's next task change(s); false once `stop` is cancelled.
    pub(super) async fn changed(&mut self, stop: &CancellationToken) -> bool {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return false,
                live = self.subscription.rx.recv() => match live {
                    Some(Live::Notice) => {}
                    // Not sent to a notices-only subscription.
                    Some(Live::Transient { .. }) => continue,
                    // Only the hub's end closes it: subscribe again and re-read.
                    None => self.subscription = self.state.hub.subscribe(&self.user, Wants::Notices).await,
                },
            }
            match self.task_changes().await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) => {
                    // The next notice re-reads from the same point.
                    tracing::warn!(error = %e, "could not read events for an MCP subscription");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// Reads the events since the last look; true if any changed a task.
    async fn task_changes(&mut self) -> todo_common::Result<bool> {
        let mut any = false;
        loop {
            let batch = events::after(&self.state.pool, &self.user, self.seen, None, BATCH).await?;
            if let Some(last) = batch.last() {
                self.seen = last.seq;
            }
            any |= batch.iter().any(|e| e.kind.starts_with("task."));
            if (batch.len() as i64) < BATCH {
                return Ok(any);
            }
        }
    }
}
