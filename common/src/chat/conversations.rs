//! Conversations: listing, reading, deleting, always scoped by user.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

pub use crate::domain::Conversation;
use crate::domain::UserId;
use crate::error::{Error, Result};
use crate::events::{ConversationDeleted, Event};
use crate::paging;
use crate::work::Work;

pub(crate) fn not_found(id: Uuid) -> Error {
    Error::NotFound(format!("conversation {id}"))
}

/// One page of conversations, most recently active first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ConversationPage)]
pub struct Page {
    pub conversations: Vec<Conversation>,
    /// Pass back as `cursor` for the next page; None on the last one.
    pub next_cursor: Option<String>,
}

/// Where the previous page ended (keyset: a conversation created meanwhile
/// never shifts a page).
#[derive(Serialize, Deserialize)]
struct Cursor {
    u: DateTime<Utc>,
    i: Uuid,
}

/// Most recently active first, with a preview of the last message.
pub async fn list(pool: &PgPool, user: &UserId, limit: i64, cursor: Option<&str>) -> Result<Page> {
    let after: Option<Cursor> = cursor.map(paging::decode).transpose()?;
    let mut rows = sqlx::query_as!(
        Conversation,
        r#"SELECT c.id, c.title, c.created_at, c.updated_at,
            (SELECT left(m.content, 200) FROM messages m
              WHERE m.conversation_id = c.id AND (m.role = 'user' OR m.is_final)
              ORDER BY m.seq DESC LIMIT 1) AS last_message
         FROM conversations c WHERE c.user_id = $1
           AND ($2::timestamptz IS NULL OR c.updated_at < $2 OR (c.updated_at = $2 AND c.id > $3))
         ORDER BY c.updated_at DESC, c.id LIMIT $4"#,
        user.as_str(),
        after.as_ref().map(|c| c.u),
        after.as_ref().map(|c| c.i),
        limit + 1,
    )
    .fetch_all(pool)
    .await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|c| {
            paging::encode(&Cursor {
                u: c.updated_at,
                i: c.id,
            })
        })
    } else {
        None
    };
    Ok(Page {
        conversations: rows,
        next_cursor,
    })
}

pub async fn get<'c>(db: impl PgExecutor<'c>, user: &UserId, id: Uuid) -> Result<Conversation> {
    sqlx::query_as!(
        Conversation,
        r#"SELECT c.id, c.title, c.created_at, c.updated_at,
            (SELECT left(m.content, 200) FROM messages m
              WHERE m.conversation_id = c.id AND (m.role = 'user' OR m.is_final)
              ORDER BY m.seq DESC LIMIT 1) AS last_message
         FROM conversations c WHERE c.id = $1 AND c.user_id = $2"#,
        id,
        user.as_str(),
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found(id))
}

/// Deletes the conversation and its messages. Turns still queued for it are
/// dropped by the worker when it finds the message gone.
pub async fn delete(work: &mut Work, user: &UserId, id: Uuid) -> Result<()> {
    let deleted = sqlx::query!(
        "DELETE FROM conversations WHERE id = $1 AND user_id = $2",
        id,
        user.as_str(),
    )
    .execute(work.conn())
    .await?
    .rows_affected();
    if deleted == 0 {
        return Err(not_found(id));
    }
    work.record(user, Event::ConversationDeleted(ConversationDeleted { id }));
    Ok(())
}
