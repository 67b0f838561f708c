//! Durable events: every change a user should see live (tasks, messages,
//! conversations) writes one in the same transaction, numbered per user
//! without gaps in commit order (see the events migration for why).
//!
//! PostgreSQL is the source of truth. After commit the writer sends a
//! "user U has news" notice through RabbitMQ; each API instance then reads
//! the user's events after the last one it read (`api/src/live`). Order, gaps, duplicates and
//! resume are all answered by that one query, whatever order notices arrive in.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{ChatMessage, Conversation, Task, TaskId, UserId};
use crate::error::Result;

/// Everything a user's live clients are told, one variant per event type.
/// This is the only way an event exists: it is what changes record, what
/// the worker publishes while it streams, what the API's hub decodes, and
/// what the API document describes (`GET /api/{user_id}/events`). On the
/// wire `type` names the variant and `data` holds its payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// A task was created (by REST, chat or MCP).
    #[serde(rename = "task.created")]
    TaskCreated(Task),
    /// A task changed.
    #[serde(rename = "task.updated")]
    TaskUpdated(Task),
    /// A task was deleted; `data` is what it was.
    #[serde(rename = "task.deleted")]
    TaskDeleted(Task),
    /// An occurrence of a recurring task was done; `task` has moved to its next one.
    #[serde(rename = "task.completed")]
    TaskCompleted(TaskCompleted),
    /// A task's reminder came due; its message is in the user's latest conversation.
    #[serde(rename = "reminder.due")]
    ReminderDue(ReminderDue),
    /// A chat message started a conversation.
    #[serde(rename = "conversation.created")]
    ConversationCreated(Conversation),
    /// A conversation was deleted.
    #[serde(rename = "conversation.deleted")]
    ConversationDeleted(ConversationDeleted),
    /// A user message was stored.
    #[serde(rename = "message.created")]
    MessageCreated(ChatMessage),
    /// A worker took the turn.
    #[serde(rename = "message.processing")]
    MessageProcessing(MessageProcessing),
    /// The assistant ran a task tool.
    #[serde(rename = "tool.called")]
    ToolCalled(ToolCalled),
    /// The final answer.
    #[serde(rename = "message.completed")]
    MessageCompleted(MessageEnded),
    /// The turn failed; `reason` says why.
    #[serde(rename = "message.failed")]
    MessageFailed(MessageEnded),
    /// A piece of the answer as the model writes it (transient).
    #[serde(rename = "message.delta")]
    MessageDelta(MessageDelta),
    /// The turn waits for the model's rate limit (transient).
    #[serde(rename = "message.queued")]
    MessageQueued(MessageQueued),
    /// Drop the text streamed so far: the answer streams anew (transient).
    #[serde(rename = "message.restarted")]
    MessageRestarted(MessageRestarted),
}

/// Every event type: (`type`, its payload's schema name, durable, what it means).
pub const KINDS: [(&str, &str, bool, &str); 15] = [
    (
        "task.created",
        "Task",
        true,
        "A task was created (by REST, chat or MCP).",
    ),
    ("task.updated", "Task", true, "A task changed."),
    (
        "task.deleted",
        "Task",
        true,
        "A task was deleted; `data` is what it was.",
    ),
    (
        "task.completed",
        "TaskCompleted",
        true,
        "An occurrence of a recurring task was done; `task` has moved to its next one.",
    ),
    (
        "reminder.due",
        "ReminderDue",
        true,
        "A task's reminder came due; its message is in the user's latest conversation.",
    ),
    (
        "conversation.created",
        "Conversation",
        true,
        "A chat message started a conversation.",
    ),
    (
        "conversation.deleted",
        "ConversationDeleted",
        true,
        "A conversation was deleted.",
    ),
    (
        "message.created",
        "ChatMessage",
        true,
        "A user message was stored.",
    ),
    (
        "message.processing",
        "MessageProcessing",
        true,
        "A worker took the turn.",
    ),
    (
        "tool.called",
        "ToolCalled",
        true,
        "The assistant ran a task tool.",
    ),
    (
        "message.completed",
        "MessageEnded",
        true,
        "The final answer.",
    ),
    (
        "message.failed",
        "MessageEnded",
        true,
        "The turn failed; `reason` says why.",
    ),
    (
        "message.delta",
        "MessageDelta",
        false,
        "A piece of the answer as the model writes it.",
    ),
    (
        "message.queued",
        "MessageQueued",
        false,
        "The turn waits for the model's rate limit.",
    ),
    (
        "message.restarted",
        "MessageRestarted",
        false,
        "Drop the text streamed so far: the answer streams anew.",
    ),
];

impl Event {
    /// The `type` (the SSE `event:` name).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TaskCreated(_) => "task.created",
            Self::TaskUpdated(_) => "task.updated",
            Self::TaskDeleted(_) => "task.deleted",
            Self::TaskCompleted(_) => "task.completed",
            Self::ReminderDue(_) => "reminder.due",
            Self::ConversationCreated(_) => "conversation.created",
            Self::ConversationDeleted(_) => "conversation.deleted",
            Self::MessageCreated(_) => "message.created",
            Self::MessageProcessing(_) => "message.processing",
            Self::ToolCalled(_) => "tool.called",
            Self::MessageCompleted(_) => "message.completed",
            Self::MessageFailed(_) => "message.failed",
            Self::MessageDelta(_) => "message.delta",
            Self::MessageQueued(_) => "message.queued",
            Self::MessageRestarted(_) => "message.restarted",
        }
    }

    /// Stored and numbered (replayed after `Last-Event-ID`), or transient.
    pub fn is_durable(&self) -> bool {
        !matches!(
            self,
            Self::MessageDelta(_) | Self::MessageQueued(_) | Self::MessageRestarted(_)
        )
    }

    /// The conversation it belongs to (task events belong to none).
    pub fn conversation_id(&self) -> Option<Uuid> {
        match self {
            Self::TaskCreated(_)
            | Self::TaskUpdated(_)
            | Self::TaskDeleted(_)
            | Self::TaskCompleted(_) => None,
            Self::ReminderDue(r) => Some(r.message.conversation_id),
            Self::ConversationCreated(c) => Some(c.id),
            Self::ConversationDeleted(c) => Some(c.id),
            Self::MessageCreated(m) => Some(m.conversation_id),
            Self::MessageProcessing(m) => Some(m.conversation_id),
            Self::ToolCalled(t) => Some(t.conversation_id),
            Self::MessageCompleted(m) | Self::MessageFailed(m) => Some(m.conversation_id),
            Self::MessageDelta(m) => Some(m.conversation_id),
            Self::MessageQueued(m) => Some(m.conversation_id),
            Self::MessageRestarted(m) => Some(m.conversation_id),
        }
    }

    /// The turn (user message) it ends, for `message.completed` / `message.failed`.
    pub fn ends_turn(&self) -> Option<Uuid> {
        match self {
            Self::MessageCompleted(m) | Self::MessageFailed(m) => Some(m.message_id),
            _ => None,
        }
    }

    /// A task changed, counting a reminder that fired (its `fired_at`).
    pub fn is_task_change(&self) -> bool {
        matches!(
            self,
            Self::TaskCreated(_)
                | Self::TaskUpdated(_)
                | Self::TaskDeleted(_)
                | Self::TaskCompleted(_)
                | Self::ReminderDue(_)
        )
    }

    /// The payload as JSON (the SSE `data:`, the `events.data` column).
    pub fn data(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut tagged)) => tagged.remove("data").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// An event from its stored parts.
    pub fn from_parts(kind: &str, data: Value) -> Option<Self> {
        serde_json::from_value(serde_json::json!({ "type": kind, "data": data })).ok()
    }
}

/// `conversation.deleted`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationDeleted {
    pub id: Uuid,
}

/// `message.processing`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageProcessing {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    /// 1 for the first try.
    pub attempt: i32,
}

/// `task.completed`: the occurrence that was done, and the task as it
/// moved to its next one (kept in `task_completions`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskCompleted {
    pub task: Task,
    /// The day the done occurrence was due.
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
    /// Its time, for a task due at one.
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: DateTime<Utc>,
}

/// `reminder.due`: a task's reminder fired. Several of one task that came
/// due together (missed while everything was down) are one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReminderDue {
    pub task_id: TaskId,
    pub title: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    pub due_at: Option<DateTime<Utc>>,
    /// When it was meant to fire (the latest, for several at once).
    pub at: DateTime<Utc>,
    pub fired_at: DateTime<Utc>,
    /// Fired more than a minute after its time.
    pub late: bool,
    /// How many of the task's reminders this stands for.
    pub reminders: usize,
    /// The assistant message it left in the user's latest conversation.
    pub message: ChatMessage,
}

/// `tool.called`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ToolCalled {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub tool_call_id: String,
    /// The tool, e.g. `add_task`.
    pub name: String,
    #[schema(value_type = Object)]
    pub arguments: Value,
    #[schema(value_type = Object)]
    pub result: Value,
}

/// `message.completed` and `message.failed`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageEnded {
    /// The user message this answers.
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    /// `message.failed` only (null on `message.completed`).
    #[serde(default)]
    pub reason: Option<String>,
    /// The stored final answer.
    pub message: ChatMessage,
}

/// `message.delta`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageDelta {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    /// Text to append to the answer shown so far.
    pub delta: String,
}

/// `message.queued`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageQueued {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub expected_wait_ms: u64,
}

/// `message.restarted`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageRestarted {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
}

/// A stored event as read back: its number, and its parts as stored.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Stored {
    pub seq: i64,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub conversation_id: Option<Uuid>,
    pub data: Json<Value>,
    pub created_at: DateTime<Utc>,
}

impl Stored {
    /// The typed event (None only for a type this build does not know).
    pub fn event(&self) -> Option<Event> {
        Event::from_parts(&self.kind, self.data.0.clone())
    }
}

/// Stores `events` of `user` in the caller's transaction, numbered after the
/// user's last, in one statement, and returns them as stored: the user's row
/// lock it takes is held to commit, so one user's event-writing transactions
/// commit in number order. The unit of work (`work::Work`) calls it as the
/// last write of its transaction (keeping the lock order row -> user everywhere).
pub(crate) async fn store(
    conn: &mut PgConnection,
    user: &UserId,
    events: &[Event],
) -> Result<Vec<Stored>> {
    let kinds: Vec<&str> = events.iter().map(Event::kind).collect();
    let conversations: Vec<Option<Uuid>> = events.iter().map(Event::conversation_id).collect();
    let data: Vec<Value> = events.iter().map(Event::data).collect();
    Ok(sqlx::query_as!(
        Stored,
        r#"WITH bumped AS (
            UPDATE users SET last_event_seq = last_event_seq + cardinality($2::text[])
            WHERE id = $1 RETURNING last_event_seq)
         INSERT INTO events (user_id, seq, type, conversation_id, data)
         SELECT $1, bumped.last_event_seq - cardinality($2::text[]) + e.n, e.kind, e.conversation, e.data
         FROM bumped, UNNEST($2::text[], $3::uuid[], $4::jsonb[]) WITH ORDINALITY AS e(kind, conversation, data, n)
         RETURNING seq, type AS kind, conversation_id, data AS "data: Json<Value>", created_at"#,
        user.as_str(),
        &kinds as &[&str],
        &conversations as &[Option<Uuid>],
        &data,
    )
    .fetch_all(conn)
    .await?)
}

/// Events after `after`, oldest first, at most `limit`, optionally of one conversation.
pub async fn after<'c>(
    db: impl PgExecutor<'c>,
    user: &UserId,
    after: i64,
    conversation: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Stored>> {
    Ok(sqlx::query_as!(
        Stored,
        r#"SELECT seq, type AS kind, conversation_id, data AS "data: Json<Value>", created_at
         FROM events
         WHERE user_id = $1 AND seq > $2 AND ($3::uuid IS NULL OR conversation_id = $3)
         ORDER BY seq LIMIT $4"#,
        user.as_str(),
        after,
        conversation,
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// `user`'s events of type `kind` after `after`, oldest first, at most `limit`.
pub async fn of_type_after<'c>(
    db: impl PgExecutor<'c>,
    user: &UserId,
    kind: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Stored>> {
    Ok(sqlx::query_as!(
        Stored,
        r#"SELECT seq, type AS kind, conversation_id, data AS "data: Json<Value>", created_at
         FROM events
         WHERE user_id = $1 AND type = $2 AND seq > $3
         ORDER BY seq LIMIT $4"#,
        user.as_str(),
        kind,
        after,
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// `user`'s newest `limit` events of type `kind`, newest first.
pub async fn latest_of_type<'c>(
    db: impl PgExecutor<'c>,
    user: &UserId,
    kind: &str,
    limit: i64,
) -> Result<Vec<Stored>> {
    Ok(sqlx::query_as!(
        Stored,
        r#"SELECT seq, type AS kind, conversation_id, data AS "data: Json<Value>", created_at
         FROM events
         WHERE user_id = $1 AND type = $2
         ORDER BY seq DESC LIMIT $3"#,
        user.as_str(),
        kind,
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// Where a user's stream stands: the newest id, and the oldest id still kept.
pub async fn bounds<'c>(db: impl PgExecutor<'c>, user: &UserId) -> Result<(i64, Option<i64>)> {
    Ok(sqlx::query!(
        r#"SELECT u.last_event_seq, (SELECT min(seq) FROM events e WHERE e.user_id = u.id) AS oldest
         FROM users u WHERE u.id = $1"#,
        user.as_str(),
    )
    .fetch_optional(db)
    .await?
    .map_or((0, None), |b| (b.last_event_seq, b.oldest)))
}

/// Each user's newest event id (users absent from the table are left out).
pub async fn newest_of<'c>(
    db: impl PgExecutor<'c>,
    users: &[UserId],
) -> Result<Vec<(UserId, i64)>> {
    Ok(sqlx::query_as!(
        NewestOf,
        r#"SELECT id AS "user: UserId", last_event_seq FROM users WHERE id = ANY($1)"#,
        &users.iter().map(UserId::as_str).collect::<Vec<_>>() as &[&str],
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|n| (n.user, n.last_event_seq))
    .collect())
}

struct NewestOf {
    user: UserId,
    last_event_seq: i64,
}

/// Deletes events older than `retention`, in batches; returns how many.
pub async fn prune<'c>(db: impl PgExecutor<'c>, retention: std::time::Duration) -> Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM events WHERE ctid IN (
            SELECT ctid FROM events WHERE created_at < now() - $1::interval LIMIT 10000)",
        retention as _,
    )
    .execute(db)
    .await?
    .rows_affected())
}
