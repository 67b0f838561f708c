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

/// Appends `rows` to a conversation of `user` in one statement, under the
/// conversation's row lock, numbering them with the next per-conversation
/// seqs (gapless, in commit order); with `queue`, the turn's outbox record
/// is written by the same statement. Returns the rows stored, in order: a
/// row whose unique key (a turn's round, tool result or final answer) is
/// already taken is skipped, so a caller that gets fewer rows back than it
/// sent lost a race and must roll back. Nothing is stored when the
/// conversation is not the user's (or is gone).
pub(crate) async fn append(
    tx: &mut Transaction<'_, Postgres>,
    conversation_id: Uuid,
    user: &UserId,
    rows: &[NewRow<'_>],
    queue: Option<&TurnJob>,
) -> Result<Appended> {
    let stored = sqlx::query!(
        r#"WITH bumped AS (
            UPDATE conversations SET last_seq = last_seq + cardinality($3::uuid[]), updated_at = now()
            WHERE id = $1 AND user_id = $2 RETURNING last_seq),
         appended AS (
            INSERT INTO messages (id, conversation_id, user_id, seq, role, content, status,
                reply_to, round, is_final, tool_calls, tool_call_id, tool_name, metadata, request_id,
                idempotency_key, completed_at)
            SELECT r.id, $1, $2, bumped.last_seq - cardinality($3::uuid[]) + r.n, r.role, r.content,
                r.status, r.reply_to, r.round, r.is_final, r.tool_calls, r.tool_call_id, r.tool_name,
                r.metadata, r.request_id, r.idempotency_key,
                CASE WHEN r.status = 'completed' THEN now() END
            FROM bumped, UNNEST($3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::int4[],
                $9::bool[], $10::jsonb[], $11::text[], $12::text[], $13::jsonb[], $14::text[], $15::text[])
                WITH ORDINALITY AS r(id, role, content, status, reply_to, round, is_final, tool_calls,
                    tool_call_id, tool_name, metadata, request_id, idempotency_key, n)
            ON CONFLICT DO NOTHING
            RETURNING id, conversation_id, seq, role, content, status, tool_calls, tool_call_id,
                tool_name, reply_to, is_final, metadata, error, idempotency_key, created_at),
         queued AS (
            INSERT INTO outbox (message_id, payload, next_attempt_at)
            SELECT appended.id, $16, now() + $17::interval FROM appended
            WHERE $16::jsonb IS NOT NULL
            RETURNING id)
         SELECT a.id AS "id!", a.conversation_id AS "conversation_id!", a.seq AS "seq!",
            a.role AS "role!: MessageRole", a.content AS "content!",
            a.status AS "status!: MessageStatus", a.tool_calls AS "tool_calls?: Json<Value>",
            a.tool_call_id AS "tool_call_id?", a.tool_name AS "tool_name?",
            a.reply_to AS "reply_to?", a.is_final AS "is_final!",
            a.metadata AS "metadata!: Json<Value>", a.error AS "error?",
            a.idempotency_key AS "idempotency_key?", a.created_at AS "created_at!",
            (SELECT id FROM queued) AS "outbox_id?"
         FROM appended a ORDER BY a.seq"#,
        conversation_id,
        user.as_str(),
        &rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.role.as_str()).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.content).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.reply_to).collect::<Vec<_>>() as &[Option<Uuid>],
        &rows.iter().map(|r| r.round).collect::<Vec<_>>() as &[Option<i32>],
        &rows.iter().map(|r| r.is_final).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.tool_calls.clone()).collect::<Vec<_>>() as &[Option<Value>],
        &rows.iter().map(|r| r.tool_call_id).collect::<Vec<_>>() as &[Option<&str>],
        &rows.iter().map(|r| r.tool_name).collect::<Vec<_>>() as &[Option<&str>],
        &rows.iter().map(|r| r.metadata.clone()).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.request_id).collect::<Vec<_>>() as &[Option<&str>],
        &rows.iter().map(|r| r.idempotency_key).collect::<Vec<_>>() as &[Option<&str>],
        queue.map(Json) as _,
        super::outbox::GRACE as _,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(Appended {
        outbox_id: stored.first().and_then(|r| r.outbox_id),
        messages: stored
            .into_iter()
            .map(|r| ChatMessage {
                id: r.id,
                conversation_id: r.conversation_id,
                seq: r.seq,
                role: r.role,
                content: r.content,
                status: r.status,
                tool_calls: r.tool_calls,
                tool_call_id: r.tool_call_id,
                tool_name: r.tool_name,
                reply_to: r.reply_to,
                is_final: r.is_final,
                metadata: r.metadata,
                error: r.error,
                idempotency_key: r.idempotency_key,
                created_at: r.created_at,
            })
            .collect(),
    })
}

/// What `append` stored.
pub(crate) struct Appended {
    pub messages: Vec<ChatMessage>,
    /// The outbox record, when a turn was queued with the rows.
    pub outbox_id: Option<i64>,
}

impl Appended {
    /// Every row sent was stored (none lost a race for its unique key).
    pub fn all(&self, rows: &[NewRow<'_>]) -> bool {
        self.messages.len() == rows.len()
    }
}

/// The fields of a new message row; see `append`.
pub(crate) struct NewRow<'a> {
    pub id: Uuid,
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
    pub(crate) fn new(role: MessageRole, content: &'a str) -> Self {
        Self {
            id: Uuid::now_v7(),
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
/// the last 60 s (see `take_slot`).
pub async fn post(
    work: &mut Work,
    user: &UserId,
    new: NewPost<'_>,
    per_minute: u32,
) -> Result<Posted> {
    let tx = work.tx();
    // Taking the slot locks the user's window: one user's posts go one
    // after the other from here, so a retry racing its original waits for
    // it and finds it below.
    let slot = take_slot(tx, user, per_minute).await?;
    if let Some(key) = new.idempotency_key
        && let Some(job) = replay(tx, user, key, &new).await?
    {
        // A replay is not a new post: it takes no slot, and is answered
        // even when the window is full.
        if slot.is_ok() {
            give_back_slot(tx, user).await?;
        }
        return Ok(Posted {
            job,
            outbox_id: None,
        });
    }
    slot?;
    let (conversation_id, created) = match new.conversation_id {
        Some(id) => (id, None),
        None => {
            let conversation = sqlx::query_as!(
                Conversation,
                r#"INSERT INTO conversations (id, user_id, title) VALUES ($1, $2, $3)
                 RETURNING id, title, created_at, updated_at, NULL::text AS last_message"#,
                Uuid::now_v7(),
                user.as_str(),
                title_from(new.text),
            )
            .fetch_one(&mut **tx)
            .await?;
            (conversation.id, Some(conversation))
        }
    };
    let mut row = NewRow::new(MessageRole::User, new.text);
    row.status = MessageStatus::Queued;
    row.request_id = new.request_id;
    row.idempotency_key = new.idempotency_key.map(IdempotencyKey::as_str);
    // The message's id is made here, so the job naming it goes into the
    // same statement as the message (its outbox record).
    row.id = Uuid::now_v7();
    let job = TurnJob {
        v: TurnJob::VERSION,
        message_id: row.id,
        conversation_id,
        user_id: user.clone(),
        request_id: new.request_id.map(str::to_owned),
        deferrals: 0,
    };
    let appended = append(tx, conversation_id, user, &[row], Some(&job)).await?;
    let (Some(message), Some(outbox_id)) =
        (appended.messages.into_iter().next(), appended.outbox_id)
    else {
        // Nothing stored: the conversation is not this user's.
        return Err(super::conversations::not_found(conversation_id));
    };
    if let Some(conversation) = created {
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
    let stored = sqlx::query!(
        "SELECT id, conversation_id, content, request_id FROM messages
         WHERE user_id = $1 AND idempotency_key = $2",
        user.as_str(),
        key.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let (message_id, conversation_id, content, request_id) = (
        stored.id,
        stored.conversation_id,
        stored.content,
        stored.request_id,
    );
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

/// Takes one of `user`'s `per_minute` posts in the last 60 s (a sliding
/// window, kept in PostgreSQL so every replica agrees): one statement, an
/// upsert of the user's window row. Its row lock serialises one user's
/// posts, and its condition is checked again on the newest row after that
/// lock is granted, so parallel posts are counted one after the other and a
/// burst cannot slip past the limit (issue 10). The window is its own table,
/// not `messages` (deleting a conversation must not give its posts back) nor
/// the users row (every writer locks a conversation row before the user row,
/// and a post that locked the user row first could deadlock with a worker
/// answering in the same conversation). clock_timestamp(), not now(): the
/// statement may have waited for the lock. A rolled-back post takes no slot.
///
/// The inner Err is the refusal (TooManyRequests), the outer one a database error.
async fn take_slot(
    tx: &mut Transaction<'_, Postgres>,
    user: &UserId,
    per_minute: u32,
) -> Result<Result<()>> {
    let taken = sqlx::query_scalar!(
        r#"INSERT INTO chat_post_windows AS w (user_id, posted)
         VALUES ($1, ARRAY[clock_timestamp()])
         ON CONFLICT (user_id) DO UPDATE
         SET posted = ARRAY(SELECT t FROM unnest(w.posted) t
                            WHERE t > clock_timestamp() - interval '60 seconds' ORDER BY t)
                      || clock_timestamp()
         WHERE (SELECT count(*) FROM unnest(w.posted) t
                WHERE t > clock_timestamp() - interval '60 seconds') < $2
         RETURNING true AS "taken!""#,
        user.as_str(),
        i64::from(per_minute),
    )
    .fetch_optional(&mut **tx)
    .await?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    // Full: when the oldest post in the window leaves it.
    let oldest: Option<DateTime<Utc>> = sqlx::query_scalar!(
        "SELECT min(t) FROM chat_post_windows, unnest(posted) t
         WHERE user_id = $1 AND t > clock_timestamp() - interval '60 seconds'",
        user.as_str(),
    )
    .fetch_one(&mut **tx)
    .await?;
    let wait = oldest
        .map(|t| (t + chrono::Duration::seconds(60) - Utc::now()).num_milliseconds())
        .unwrap_or(1000)
        .max(1000);
    Ok(Err(Error::TooManyRequests {
        retry_after: Duration::from_millis(wait as u64 + 999),
    }))
}

/// Undoes `take_slot` in the same transaction (the post was a replay): the
/// newest time in the window is the one it added, under the row lock.
async fn give_back_slot(tx: &mut Transaction<'_, Postgres>, user: &UserId) -> Result<()> {
    sqlx::query!(
        "UPDATE chat_post_windows SET posted = posted[1:cardinality(posted) - 1] WHERE user_id = $1",
        user.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
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
    Ok(sqlx::query_as!(
        ChatMessage,
        r#"SELECT id, conversation_id, seq, role AS "role: MessageRole", content,
                status AS "status: MessageStatus", tool_calls AS "tool_calls: Json<Value>",
                tool_call_id, tool_name, reply_to, is_final, metadata AS "metadata: Json<Value>",
                error, idempotency_key, created_at
             FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"#,
        conversation_id,
        after,
        limit,
    )
    .fetch_all(pool)
    .await?)
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

    /// A turn just posted.
    pub fn queued(conversation_id: Uuid, message_id: Uuid) -> Self {
        Self {
            conversation_id,
            message_id,
            status: MessageStatus::Queued,
            response: None,
            tool_calls: Vec::new(),
            error: None,
            metadata: None,
        }
    }
}

/// The finished turn that `event` (its `message.completed` or
/// `message.failed`) ended: the answer from the event, the tool calls read.
/// None for any other event.
pub async fn ended_view(pool: &PgPool, event: &Event) -> Result<Option<TurnView>> {
    let (status, ended) = match event {
        Event::MessageCompleted(ended) => (MessageStatus::Completed, ended),
        Event::MessageFailed(ended) => (MessageStatus::Failed, ended),
        _ => return Ok(None),
    };
    Ok(Some(TurnView {
        conversation_id: ended.conversation_id,
        message_id: ended.message_id,
        status,
        response: Some(ended.message.content.clone()),
        tool_calls: tool_calls_of(pool, ended.message_id).await?,
        error: ended.reason.clone(),
        metadata: Some(ended.message.metadata.0.clone()),
    }))
}

/// The state of the turn started by user message `message_id`.
pub async fn turn(pool: &PgPool, user: &UserId, message_id: Uuid) -> Result<TurnView> {
    let row = sqlx::query!(
        r#"SELECT conversation_id, status AS "status: MessageStatus", error FROM messages
         WHERE id = $1 AND user_id = $2 AND role = 'user'"#,
        message_id,
        user.as_str(),
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound(format!("message {message_id}")))?;
    let (conversation_id, status, error) = (row.conversation_id, row.status, row.error);
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
    let answer = sqlx::query!(
        r#"SELECT content, metadata AS "metadata: Json<Value>" FROM messages
         WHERE reply_to = $1 AND is_final"#,
        message_id,
    )
    .fetch_optional(pool)
    .await?;
    if let Some(answer) = answer {
        view.response = Some(answer.content);
        view.metadata = Some(answer.metadata.0);
    }
    view.tool_calls = tool_calls_of(pool, message_id).await?;
    Ok(view)
}

/// The turn's tool calls, in order, each with its recorded result.
async fn tool_calls_of(pool: &PgPool, message_id: Uuid) -> Result<Vec<ToolCallView>> {
    let rows = sqlx::query!(
        r#"SELECT t.tool_name AS "name!", c.call ->> 'arguments' AS arguments, t.content AS result
         FROM messages t
         LEFT JOIN LATERAL (
            SELECT call FROM messages a, jsonb_array_elements(a.tool_calls) AS call
            WHERE a.reply_to = t.reply_to AND a.round IS NOT NULL AND call ->> 'id' = t.tool_call_id
            LIMIT 1) c ON true
         WHERE t.reply_to = $1 AND t.role = 'tool' ORDER BY t.seq"#,
        message_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.name, row.arguments, row.result))
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
