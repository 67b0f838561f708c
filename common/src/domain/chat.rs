//! What a conversation and its messages look like to clients.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

/// A conversation as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Conversation {
    pub id: Uuid,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The newest user message or final answer, for list previews.
    #[sqlx(default)]
    pub last_message: Option<String>,
}

/// A stored message as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ChatMessage {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    #[schema(value_type = MessageRole)]
    pub role: String,
    pub content: String,
    #[schema(value_type = MessageStatus)]
    pub status: String,
    /// Assistant messages that asked for tools: `[{id, name, arguments}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub tool_calls: Option<Json<Value>>,
    pub tool_call_id: Option<String>,
    pub tool_name: Option<String>,
    /// Assistant and tool messages: the user message they answer.
    pub reply_to: Option<Uuid>,
    pub is_final: bool,
    #[schema(value_type = Object)]
    pub metadata: Json<Value>,
    pub error: Option<String>,
    /// User messages: the `Idempotency-Key` they were posted with, so a
    /// client can tell its own messages when they come back as events.
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

// The values the `messages` table allows for `role` and `status` (its CHECK
// constraints), for the API's document; the columns stay strings in code.
/// Who wrote a message.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum MessageRole {
    User,
    Assistant,
    Tool,
}

/// Where a message (for a user message: its turn) stands.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum MessageStatus {
    Queued,
    Processing,
    Completed,
    Failed,
}
