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
    pub role: MessageRole,
    pub content: String,
    pub status: MessageStatus,
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

/// Who wrote a message (the `messages.role` column's CHECK values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    User,
    Assistant,
    Tool,
}

/// Where a message (for a user message: its turn) stands (the
/// `messages.status` column's CHECK values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Queued,
    Processing,
    Completed,
    Failed,
}

impl MessageStatus {
    /// The turn ended, answered or not.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// A text column holding one of an enum's lower-case names.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl sqlx::Decode<'_, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'_>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                match <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)? {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(concat!("not a ", stringify!($name), ": {}"), other).into()),
                }
            }
        }
    };
}

text_enum!(MessageRole { User => "user", Assistant => "assistant", Tool => "tool" });
text_enum!(MessageStatus {
    Queued => "queued",
    Processing => "processing",
    Completed => "completed",
    Failed => "failed",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_and_the_column_spell_roles_and_statuses_alike() {
        for role in [MessageRole::User, MessageRole::Assistant, MessageRole::Tool] {
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        for status in [
            MessageStatus::Queued,
            MessageStatus::Processing,
            MessageStatus::Completed,
            MessageStatus::Failed,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(
                status.is_finished(),
                matches!(status, MessageStatus::Completed | MessageStatus::Failed)
            );
        }
    }
}
