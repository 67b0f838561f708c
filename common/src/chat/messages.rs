//! The API's side of chat: accepting a message (with its outbox record, in
//! one transaction), the per-user rate limit, and reading messages back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::MAX_MESSAGE_CHARS;
pub use crate::domain::ChatMessage;
use crate::domain::text::bounded;
use crate::domain::{Conversation, MessageRole, MessageStatus};
use crate::domain::{IdempotencyKey, UserId};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::queue::TurnJob;
use crate::work::Work;

const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, role, content, status, tool_calls, \
     tool_call_id, tool_name, reply_to, is_final, metadata, error, idempotency_key, created_at";

/// A chat message to store, as the client sent it.
#[derive(Debug, Clone, Copy)]
pub struct NewPost<'a> {
    /// Continue this conversation; None starts one.
    pub conversation_id: Option<Uuid>,
    /// Already checked by `parse_text`.
    pub text: &'a str,
    pub request_id: Option<&'a str>,
    pub idempotency_key: Option<&'a IdempotencyKey>,
}

/// What `post` stored and must now be published.
#[derive(Debug, Clone)]
pub struct Posted {
    pub job: TurnJob,
    /// The outbox record to clear once the job is published; None when the
    /// post replayed an earlier one with the same Idempotency-Key (stored
    /// and handed to the workers then).
    pub outbox_id: Option<i64>,
}

impl Posted {
    pub fn replayed(&self) -> bool {
        self.outbox_id.is_none()
    }
}

/// 1..=4000 characters after trimming; newlines allowed.
pub fn parse_text(raw: &str) -> Result<String> {
    bounded("message", raw, 1, MAX_MESSAGE_CHARS, true)
}

/// A conversation title from its first message: the first line, shortened.
fn title_from(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() <= 60 {
        line.to_string()
    } else {
        format!("{}…", line.chars().take(59).collect::<String>().trim_end())
    }
}

/// Appends a message to a conversation under its row lock, allocating the
/// next per-conversation seq (gapless, in commit order); returns the row.
pub(crate) async fn append(
    tx: &mut Transaction<'_, Postgres>,
    conversation_id: Uuid,
    row: NewRow<'_>,
) -> Result<ChatMessage> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() \
         WHERE id = $1 RETURNING last_seq",
    )
    .bind(conversation_id)
    .fetch_one(&mut **tx)
    .await?;
    let id = Uuid::now_v7();
    let message = sqlx::query_as::<_, ChatMessage>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO messages (id, conversation_id, user_id, seq, role, content, status, \
            reply_to, round, is_final, tool_calls, tool_call_id, tool_name, metadata, request_id, \
            idempotency_key, completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
            CASE WHEN $7 = 'completed' THEN now() END) \
         RETURNING {MESSAGE_COLUMNS}"
    )))
    .bind(id)
    .bind(conversation_id)
    .bind(row.user)
    .bind(seq)
    .bind(row.role)
    .bind(row.content)
    .bind(row.status)
    .bind(row.reply_to)
    .bind(row.round)
    .bind(row.is_final)
    .bind(row.tool_calls.map(Json))
    .bind(row.tool_call_id)
    .bind(row.tool_name)
    .bind(Json(row.metadata))
    .bind(row.request_id)
    .bind(row.idempotency_key)
    .fetch_one(&mut **tx)
    .await?;
    Ok(message)
}

/// The fields of a new message row; see `append`.
pub(crate) struct NewRow<'a> {
    pub user: &'a UserId,
    pub role: MessageRole,
    pub content: &'a str,
    pub status: MessageStatus,
    pub reply_to: Option<Uuid>,
    pub round: Option<i32>,
    pub is_final: bool,
    pub tool_calls: Option<Value>,
    pub tool_call_id: Option<&'a str>,
    pub tool_name: Option<&'a str>,
    pub metadata: Value,
    pub request_id: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
}

impl<'a> NewRow<'a> {
    pub(crate) fn new(user: &'a UserId, role: MessageRole, content: &'a str) -> Self {
        Self {
            user,
            role,
            content,
            status: MessageStatus::Completed,
            reply_to: None,
            round: None,
            is_final: false,
            tool_calls: None,
            tool_call_id: None,
            tool_name: None,
            metadata: Value::Object(Default::default()),
            request_id: None,
            idempotency_key: None,
        }
    }
}

/// Stores a user's message and its outbox record in one transaction; a new
/// conversation is started when `conversation_id` is None. Publishing
/// happens after commit (the caller, or the relay).
///
/// Err(TooManyRequests) when `user` already sent `per_minute` messages in
/// the last 60 s (a sliding window, counted in PostgreSQL so every replica
/// agrees). The count is taken in the same transaction as the insert, under
/// a per-user lock, so parallel posts are counted one after the other and a
/// burst cannot slip past the limit (issue 10).
pub async fn post(
    work: &mut Work,
    user: &UserId,
    new: NewPost<'_>,
    per_minute: u32,
) -> Result<Posted> {
    let tx = work.tx();
    lock_posts(tx, user).await?;
    // After the lock: a retry racing its original waits for it and finds it.
    if let Some(key) = new.idempotency_key
        && let Some(job) = replay(tx, user, key, &new).await?
    {
        return Ok(Posted {
            job,
            outbox_id: None,
        });
    }
    check_rate(tx, user, per_minute).await?;
    let (conversation, new_conversation) = match new.conversation_id {
        Some(id) => (super::conversations::get(&mut **tx, user, id).await?, false),
        None => {
            let conversation = sqlx::query_as::<_, Conversation>(
                "INSERT INTO conversations (id, user_id, title) VALUES ($1, $2, $3) \
                 RETURNING id, title, created_at, updated_at",
            )
            .bind(Uuid::now_v7())
            .bind(user)
            .bind(title_from(new.text))
            .fetch_one(&mut **tx)
            .await?;
            (conversation, true)
        }
    };
    let conversation_id = conversation.id;
    let mut row = NewRow::new(user, MessageRole::User, new.text);
    row.status = MessageStatus::Queued;
    row.request_id = new.request_id;
    row.idempotency_key = new.idempotency_key.map(IdempotencyKey::as_str);
    let message = append(tx, conversation_id, row).await?;
    let message_id = message.id;
    let job = TurnJob {
        v: TurnJob::VERSION,
        message_id,
        conversation_id,
        user_id: user.clone(),
        request_id: new.request_id.map(str::to_owned),
        deferrals: 0,
    };
    let outbox_id = super::outbox::insert(tx, &job).await?;
    if new_conversation {
        work.record(user, Event::ConversationCreated(conversation));
    }
    work.record(user, Event::MessageCreated(message));
    Ok(Posted {
        job,
        outbox_id: Some(outbox_id),
    })
}

/// The message stored earlier under this Idempotency-Key, if any. The same
/// key with another message (or another conversation) is the client's
/// mistake, refused rather than answered with the wrong turn.
async fn replay(
    tx: &mut Transaction<'_, Postgres>,
    user: &UserId,
    key: &IdempotencyKey,
    new: &NewPost<'_>,
) -> Result<Option<TurnJob>> {
    let stored: Option<(Uuid, Uuid, String, Option<String>)> = sqlx::query_as(
        "SELECT id, conversation_id, content, request_id FROM messages \
         WHERE user_id = $1 AND idempotency_key = $2",
    )
    .bind(user)
    .bind(key.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((message_id, conversation_id, content, request_id)) = stored else {
        return Ok(None);
    };
    if content != new.text || new.conversation_id.is_some_and(|c| c != conversation_id) {
        return Err(Error::IdempotencyKeyReused);
    }
    Ok(Some(TurnJob {
        v: TurnJob::VERSION,
        message_id,
        conversation_id,
        user_id: user.clone(),
        request_id,
        deferrals: 0,
    }))
}

/// Serialises one user's posts: a transaction-scoped advisory lock, so the
/// rate count and the Idempotency-Key lookup that follow see every post
/// committed before. Not the users row: every writer locks a conversation
/// row before the user row (events are stored last, at commit), and a post that
/// locked the user row first could deadlock with a worker answering in the
/// same conversation. Only posts take this lock, so it joins no cycle.
async fn lock_posts(tx: &mut Transaction<'_, Postgres>, user: &UserId) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('chat-post:' || $1, 0))")
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The rate check of `post`, inside its transaction, under `lock_posts`.
async fn check_rate(
    tx: &mut Transaction<'_, Postgres>,
    user: &UserId,
    per_minute: u32,
) -> Result<()> {
    // clock_timestamp(), not now(): the transaction may have waited for the
    // lock. chat_post_log (filled by a trigger on messages) and not messages:
    // deleting a conversation must not give its posts back. Rows past the
    // window are pruned here, so it holds at most a minute of posts per user.
    let (count, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "WITH pruned AS (DELETE FROM chat_post_log \
            WHERE user_id = $1 AND posted_at <= clock_timestamp() - interval '60 seconds') \
         SELECT count(*), min(posted_at) FROM chat_post_log \
         WHERE user_id = $1 AND posted_at > clock_timestamp() - interval '60 seconds'",
    )
    .bind(user)
    .fetch_one(&mut **tx)
    .await?;
    if count < i64::from(per_minute) {
        return Ok(());
    }
    let wait = oldest
        .map(|t| (t + chrono::Duration::seconds(60) - Utc::now()).num_milliseconds())
        .unwrap_or(1000)
        .max(1000);
    Err(Error::TooManyRequests {
        retry_after: Duration::from_millis(wait as u64 + 999),
    })
}

/// Messages of a conversation after `after` (a seq), oldest first.
pub async fn list(
    pool: &PgPool,
    user: &UserId,
    conversation_id: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<ChatMessage>> {
    super::conversations::get(pool, user, conversation_id).await?;
    Ok(
        sqlx::query_as::<_, ChatMessage>(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
         WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        )))
        .bind(conversation_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?,
    )
}

/// One tool call of a turn with its result, as the chat response shows it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ToolCallView {
    pub name: String,
    /// The arguments the model sent (a string when they were not JSON).
    #[schema(value_type = Value)]
    pub arguments: Value,
    /// What the tool answered.
    #[schema(value_type = Value)]
    pub result: Value,
}

/// Where a turn stands, in the shape of the chat response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TurnView {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub status: MessageStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    pub tool_calls: Vec<ToolCallView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

impl TurnView {
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }
}

/// The state of the turn started by user message `message_id`.
pub async fn turn(pool: &PgPool, user: &UserId, message_id: Uuid) -> Result<TurnView> {
    let row: Option<(Uuid, MessageStatus, Option<String>)> = sqlx::query_as(
        "SELECT conversation_id, status, error FROM messages \
         WHERE id = $1 AND user_id = $2 AND role = 'user'",
    )
    .bind(message_id)
    .bind(user)
    .fetch_optional(pool)
    .await?;
    let (conversation_id, status, error) =
        row.ok_or_else(|| Error::NotFound(format!("message {message_id}")))?;
    let mut view = TurnView {
        conversation_id,
        message_id,
        status,
        response: None,
        tool_calls: Vec::new(),
        error,
        metadata: None,
    };
    if !view.is_finished() {
        return Ok(view);
    }
    let answer: Option<(String, Json<Value>)> =
        sqlx::query_as("SELECT content, metadata FROM messages WHERE reply_to = $1 AND is_final")
            .bind(message_id)
            .fetch_optional(pool)
            .await?;
    if let Some((content, Json(metadata))) = answer {
        view.response = Some(content);
        view.metadata = Some(metadata);
    }
    view.tool_calls = tool_calls_of(pool, message_id).await?;
    Ok(view)
}

/// The turn's tool calls, in order, each with its recorded result.
async fn tool_calls_of(pool: &PgPool, message_id: Uuid) -> Result<Vec<ToolCallView>> {
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT t.tool_name, c.call ->> 'arguments', t.content \
         FROM messages t \
         LEFT JOIN LATERAL ( \
            SELECT call FROM messages a, jsonb_array_elements(a.tool_calls) AS call \
            WHERE a.reply_to = t.reply_to AND a.round IS NOT NULL AND call ->> 'id' = t.tool_call_id \
            LIMIT 1) c ON true \
         WHERE t.reply_to = $1 AND t.role = 'tool' ORDER BY t.seq",
    )
    .bind(message_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, arguments, result)| ToolCallView {
            name,
            arguments: arguments
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_else(|| Value::String(arguments.unwrap_or_default())),
            result: serde_json::from_str(&result).unwrap_or(Value::String(result)),
        })
        .collect())
}
