//! Durable events: every change a user should see live (tasks, messages,
//! conversations) writes one in the same transaction, numbered per user
//! without gaps in commit order (see the events migration for why).
//!
//! PostgreSQL is the source of truth. After commit the writer sends a
//! "user U has news" notice through RabbitMQ; each SSE connection then reads
//! the user's events after the last id it sent. Order, gaps, duplicates and
//! resume are all answered by that one query, whatever order notices arrive in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::UserId;
use crate::error::Result;

/// Event types. `message.delta`, `message.queued` and `message.restarted` are
/// transient (never stored).
pub mod kind {
    pub const TASK_CREATED: &str = "task.created";
    pub const TASK_UPDATED: &str = "task.updated";
    pub const TASK_DELETED: &str = "task.deleted";
    pub const CONVERSATION_CREATED: &str = "conversation.created";
    pub const CONVERSATION_DELETED: &str = "conversation.deleted";
    pub const MESSAGE_CREATED: &str = "message.created";
    pub const MESSAGE_PROCESSING: &str = "message.processing";
    pub const TOOL_CALLED: &str = "tool.called";
    pub const MESSAGE_COMPLETED: &str = "message.completed";
    pub const MESSAGE_FAILED: &str = "message.failed";
    pub const MESSAGE_DELTA: &str = "message.delta";
    /// The turn waits for the model's rate limit: `{message_id, expected_wait_ms}`.
    pub const MESSAGE_QUEUED: &str = "message.queued";
    /// The model call is being tried again after a streamed attempt broke
    /// off: drop the text streamed so far for `{message_id}`, it streams anew.
    pub const MESSAGE_RESTARTED: &str = "message.restarted";
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub conversation_id: Option<Uuid>,
    pub data: Json<Value>,
    pub created_at: DateTime<Utc>,
}

/// Records an event inside the caller's transaction. Call it as the last
/// write of the transaction: it takes the user's row lock, which is then
/// held to commit (keeping the lock order row -> user everywhere).
pub async fn record(
    conn: &mut PgConnection,
    user: &UserId,
    kind: &str,
    conversation_id: Option<Uuid>,
    data: &impl Serialize,
) -> Result<i64> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE users SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq",
    )
    .bind(user)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO events (user_id, seq, type, conversation_id, data) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user)
    .bind(seq)
    .bind(kind)
    .bind(conversation_id)
    .bind(Json(serde_json::to_value(data).unwrap_or(Value::Null)))
    .execute(&mut *conn)
    .await?;
    Ok(seq)
}

/// Events after `after`, oldest first, at most `limit`, optionally of one conversation.
pub async fn after<'c>(
    db: impl PgExecutor<'c>,
    user: &UserId,
    after: i64,
    conversation: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Event>> {
    Ok(sqlx::query_as::<_, Event>(
        "SELECT seq, type, conversation_id, data, created_at FROM events \
         WHERE user_id = $1 AND seq > $2 AND ($3::uuid IS NULL OR conversation_id = $3) \
         ORDER BY seq LIMIT $4",
    )
    .bind(user)
    .bind(after)
    .bind(conversation)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Where a user's stream stands: the newest id, and the oldest id still kept.
pub async fn bounds<'c>(db: impl PgExecutor<'c>, user: &UserId) -> Result<(i64, Option<i64>)> {
    Ok(sqlx::query_as(
        "SELECT u.last_event_seq, (SELECT min(seq) FROM events e WHERE e.user_id = u.id) \
         FROM users u WHERE u.id = $1",
    )
    .bind(user)
    .fetch_optional(db)
    .await?
    .unwrap_or((0, None)))
}

/// Each user's newest event id (users absent from the table are left out).
pub async fn newest_of<'c>(
    db: impl PgExecutor<'c>,
    users: &[UserId],
) -> Result<Vec<(UserId, i64)>> {
    Ok(
        sqlx::query_as("SELECT id, last_event_seq FROM users WHERE id = ANY($1)")
            .bind(users)
            .fetch_all(db)
            .await?,
    )
}

/// Deletes events older than `retention`, in batches; returns how many.
pub async fn prune<'c>(db: impl PgExecutor<'c>, retention: std::time::Duration) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM events WHERE ctid IN ( \
            SELECT ctid FROM events WHERE created_at < now() - $1 LIMIT 10000)",
    )
    .bind(retention)
    .execute(db)
    .await?
    .rows_affected())
}
