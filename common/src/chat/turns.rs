//! The worker's side of chat: claiming a turn, persisting each step, and
//! ending it exactly once.
//!
//! Ordering: a user message can be claimed only when every earlier user
//! message of its conversation is finished (completed or failed). Claiming is
//! one UPDATE whose WHERE clause checks that, plus an expired-or-absent
//! lease; PostgreSQL's row lock makes two claimers of the same message
//! serialize, and the second sees the new lease and fails. So per
//! conversation exactly one turn, the oldest unfinished one, can run at a
//! time, in the order the messages were sent, however many workers compete.
//!
//! Exactly-once effects: every step is stored under a unique key before the
//! next begins: the model's reply per (turn, round), each tool's effect
//! together with its result per (turn, tool call id) in one transaction, the
//! final answer per turn. A worker that resumes a turn (after a crash or an
//! expired lease) replays stored steps instead of repeating them. Appends
//! take the conversation's row lock, so "check, then insert" cannot race.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::messages::{NewRow, append};
use crate::domain::{MessageRole, MessageStatus, UserId};
use crate::error::Result;
use crate::events::{Event, MessageEnded, MessageProcessing, ToolCalled};
use crate::llm::{Message, Reply, Role, ToolCall};
use crate::queue::{Broker, TurnJob};
use crate::tools;
use crate::work::Work;

/// A claimed turn: the user message being answered.
#[derive(Debug, Clone)]
pub struct Turn {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub user_id: UserId,
    pub seq: i64,
    pub content: String,
    /// How many times this turn has been claimed, this time included.
    pub attempts: i32,
    pub request_id: Option<String>,
    /// `<worker>.<claim id>`, unique per claim: a lease is never shared,
    /// even within one process.
    pub lease_owner: String,
    /// When the user sent it (queue wait = claim time - this).
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug)]
pub enum Claim {
    Claimed(Turn),
    /// Completed or failed already: nothing to do (a duplicate delivery).
    Finished,
    /// A live lease is held on this very turn: this delivery is a
    /// duplicate of one being answered (see docs/architecture.md, "Duplicate
    /// deliveries"). Try again later in case that claim gives it back.
    Running,
    /// An earlier message of the conversation is unfinished, or the user
    /// already has their share of turns running: try again later.
    Blocked,
    /// The message no longer exists (conversation deleted).
    Missing,
}

/// SQL condition on user message `m`: no live lease on it, and no earlier
/// user message of its conversation unfinished. The one definition of "this
/// turn may start now", for claiming and for the dead-letter check.
macro_rules! idle_head {
    () => {
        "(m.lease_until IS NULL OR m.lease_until < now()) \
         AND NOT EXISTS (SELECT 1 FROM messages e \
             WHERE e.conversation_id = m.conversation_id AND e.role = 'user' \
               AND e.seq < m.seq AND e.status IN ('queued', 'processing'))"
    };
}

/// Claims `message_id` for `lease`. `per_user` caps how many turns of one
/// user run at once (fair share: one user's burst cannot occupy every worker
/// and the whole model allowance while others wait). `worker` names the
/// claiming process in the lease owner (`<worker>.<claim id>`), so an
/// operator, or the chaos bench, can tell which process holds a turn.
pub async fn claim(
    pool: &PgPool,
    live: &Arc<Broker>,
    message_id: Uuid,
    worker: &str,
    lease: Duration,
    per_user: i64,
) -> Result<Claim> {
    let owner = format!("{worker}.{}", Uuid::new_v4().simple());
    let mut work = Work::begin(pool, live).await?;
    let tx = work.tx();
    type Claimed = (
        Uuid,
        UserId,
        i64,
        String,
        i32,
        Option<String>,
        chrono::DateTime<chrono::Utc>,
    );
    let row: Option<Claimed> = sqlx::query_as(concat!(
        "UPDATE messages m SET status = 'processing', lease_owner = $2, \
                lease_until = now() + $3, attempts = attempts + 1, updated_at = now() \
             WHERE m.id = $1 AND m.role = 'user' AND m.status IN ('queued', 'processing') \
               AND ",
        idle_head!(),
        " AND (SELECT count(*) FROM messages p \
                WHERE p.user_id = m.user_id AND p.role = 'user' AND p.status = 'processing' \
                  AND p.id <> m.id AND p.lease_until > now()) < $4 \
             RETURNING conversation_id, user_id, seq, content, attempts, request_id, created_at"
    ))
    .bind(message_id)
    .bind(&owner)
    .bind(lease)
    .bind(per_user)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((conversation_id, user_id, seq, content, attempts, request_id, created_at)) = row {
        work.record(
            &user_id,
            Event::MessageProcessing(MessageProcessing {
                message_id,
                conversation_id,
                attempt: attempts,
            }),
        );
        work.commit().await?;
        return Ok(Claim::Claimed(Turn {
            message_id,
            conversation_id,
            user_id,
            seq,
            content,
            attempts,
            request_id,
            lease_owner: owner,
            created_at,
        }));
    }
    drop(work);
    let status: Option<(MessageStatus, bool)> = sqlx::query_as(
        "SELECT status, COALESCE(lease_until > now(), false) FROM messages \
         WHERE id = $1 AND role = 'user'",
    )
    .bind(message_id)
    .fetch_optional(pool)
    .await?;
    Ok(match status {
        None => Claim::Missing,
        Some((status, _)) if status.is_finished() => Claim::Finished,
        Some((_, true)) => Claim::Running,
        Some((_, false)) => Claim::Blocked,
    })
}

/// Where one held lease stands after a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Still ours and running: extended.
    Renewed,
    /// Ended by this very claim (its answer is committed): nothing to renew,
    /// and nothing lost. The worker may still be announcing it.
    Finished,
    /// No longer ours: its lease ran out and it was re-driven or claimed
    /// again, or the message is gone (conversation deleted).
    Lost,
}

/// Extends the leases of one worker's turns, given as (message, owner), in
/// one statement (a second only when some lease was not renewed): the
/// worker's heartbeat. Says for each owner whether its lease was renewed,
/// its turn finished under it, or it was lost.
pub async fn renew_all(
    pool: &PgPool,
    held: &[(Uuid, String)],
    lease: Duration,
) -> Result<Vec<(String, LeaseState)>> {
    let (ids, owners): (Vec<Uuid>, Vec<String>) = held.iter().cloned().unzip();
    // Owners are unique per claim, so matching both lists as sets is exact.
    let renewed: Vec<String> = sqlx::query_scalar(
        "UPDATE messages SET lease_until = now() + $3 \
         WHERE id = ANY($1) AND lease_owner = ANY($2) AND status = 'processing' \
         RETURNING lease_owner",
    )
    .bind(&ids)
    .bind(&owners)
    .bind(lease)
    .fetch_all(pool)
    .await?;
    let mut states: Vec<(String, LeaseState)> = owners
        .into_iter()
        .map(|owner| {
            let state = match renewed.contains(&owner) {
                true => LeaseState::Renewed,
                false => LeaseState::Lost,
            };
            (owner, state)
        })
        .collect();
    if states.iter().all(|(_, s)| *s == LeaseState::Renewed) {
        return Ok(states);
    }
    // Not renewed: answered under this claim (a finished turn keeps its last
    // owner, see `end`), or lost. Asked in a statement of its own: the UPDATE
    // above may have waited for the answer's COMMIT, which a later part of
    // the same statement would not have seen (issue 24).
    let finished: Vec<String> = sqlx::query_scalar(
        "SELECT lease_owner FROM messages \
         WHERE id = ANY($1) AND lease_owner = ANY($2) AND status IN ('completed', 'failed')",
    )
    .bind(&ids)
    .bind(states.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?;
    for (owner, state) in &mut states {
        if *state == LeaseState::Lost && finished.contains(owner) {
            *state = LeaseState::Finished;
        }
    }
    Ok(states)
}

/// Turns whose holder stopped renewing its lease (it died, or lost
/// PostgreSQL) and that nobody has re-driven yet, locked until `tx` ends.
/// The caller publishes each again, then [`forget_expired`] in the same
/// transaction: a publish that fails rolls back, and the next pass retries.
pub async fn take_expired(tx: &mut Transaction<'_, Postgres>, limit: i64) -> Result<Vec<TurnJob>> {
    let rows: Vec<(Uuid, Uuid, UserId, Option<String>)> = sqlx::query_as(
        "SELECT id, conversation_id, user_id, request_id FROM messages \
         WHERE role = 'user' AND status = 'processing' \
           AND lease_owner IS NOT NULL AND lease_until < now() \
         ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(job).collect())
}

/// Marks expired leases as re-driven (the owner is cleared, so each expired
/// lease is re-driven once, and a holder that comes back learns from its next
/// heartbeat that the turn is no longer its own).
pub async fn forget_expired(tx: &mut Transaction<'_, Postgres>, ids: &[Uuid]) -> Result<()> {
    sqlx::query(
        "UPDATE messages SET lease_owner = NULL, updated_at = now() \
         WHERE id = ANY($1) AND status = 'processing' AND lease_until < now()",
    )
    .bind(ids)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives the turn back (shutdown): another worker may take it at once.
pub async fn release(pool: &PgPool, turn: &Turn) -> Result<()> {
    sqlx::query(
        "UPDATE messages SET lease_until = NULL, lease_owner = NULL, updated_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
    )
    .bind(turn.message_id)
    .bind(&turn.lease_owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Earlier turns of the conversation for the model: user messages and final
/// answers (not intermediate tool traffic), the newest `limit`, oldest first.
/// Answers the worker wrote itself (see [`in_history`]) go in as one line.
pub async fn history(pool: &PgPool, turn: &Turn, limit: i64) -> Result<Vec<Message>> {
    let rows: Vec<(MessageRole, String, Value)> = sqlx::query_as(
        "SELECT role, content, metadata FROM ( \
            SELECT m.role, m.content, m.metadata, COALESCE(u.seq, m.seq) AS turn_seq, m.is_final \
            FROM messages m LEFT JOIN messages u ON u.id = m.reply_to \
            WHERE m.conversation_id = $1 \
              AND ((m.role = 'user' AND m.seq < $2) OR (m.is_final AND u.seq < $2)) \
            ORDER BY turn_seq DESC, m.is_final DESC LIMIT $3) h \
         ORDER BY turn_seq, is_final",
    )
    .bind(turn.conversation_id)
    .bind(turn.seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(role, content, metadata)| match role {
            MessageRole::User => Message::user(content),
            _ => Message::assistant(in_history(content, &metadata)),
        })
        .collect())
}

/// An answer as later requests show it to the model. A failure notice, a
/// tool-round wrap-up or an answer cut at the output limit was not the
/// model's answer: fed back verbatim, small models copy its form (a run on
/// llama.cpp wrote wrap-up-shaped summaries of changes it never made), and
/// a cut ramble fills the context. The user still sees them in full.
fn in_history(content: String, metadata: &Value) -> String {
    let flag = |key: &str| metadata[key].as_bool() == Some(true);
    if flag("failed") {
        "(No answer: this request failed.)".into()
    } else if flag("wrapped_up") {
        "(Stopped after too many tool calls; the task list may have changed: look it up.)".into()
    } else if flag("truncated") {
        "(The answer was cut off at the length limit.)".into()
    } else {
        content
    }
}

/// What this turn has stored so far: the model's tool-call rounds, in
/// order, and the results recorded per tool call id.
#[derive(Debug, Default)]
pub struct Progress {
    pub rounds: Vec<(String, Vec<ToolCall>)>,
    pub results: HashMap<String, String>,
}

impl Progress {
    /// This turn's part of the model's context: each round followed by its results.
    pub fn messages(&self) -> Vec<Message> {
        let mut out = Vec::new();
        for (content, calls) in &self.rounds {
            out.push(Message {
                role: Role::Assistant,
                content: content.clone(),
                tool_calls: calls.clone(),
                tool_call_id: None,
            });
            for call in calls {
                if let Some(result) = self.results.get(&call.id) {
                    out.push(Message::tool_result(&call.id, result));
                }
            }
        }
        out
    }

    /// Tool calls of stored rounds that have no result yet (a crash between steps).
    pub fn pending_calls(&self) -> Vec<ToolCall> {
        self.rounds
            .iter()
            .flat_map(|(_, calls)| calls.iter())
            .filter(|c| !self.results.contains_key(&c.id))
            .cloned()
            .collect()
    }
}

pub async fn progress(pool: &PgPool, turn: &Turn) -> Result<Progress> {
    /// role, content, tool_calls, tool_call_id
    type StepRow = (
        MessageRole,
        String,
        Option<Json<Vec<ToolCall>>>,
        Option<String>,
    );
    let rows: Vec<StepRow> = sqlx::query_as(
        "SELECT role, content, tool_calls, tool_call_id FROM messages \
         WHERE reply_to = $1 AND NOT is_final ORDER BY seq",
    )
    .bind(turn.message_id)
    .fetch_all(pool)
    .await?;
    let mut progress = Progress::default();
    for (role, content, calls, call_id) in rows {
        match (role, calls, call_id) {
            (MessageRole::Assistant, Some(Json(calls)), _) => {
                progress.rounds.push((content, calls))
            }
            (MessageRole::Tool, _, Some(id)) => {
                progress.results.insert(id, content);
            }
            _ => {}
        }
    }
    Ok(progress)
}

/// Locks the conversation row: every append to it serialises behind this.
async fn lock_conversation(tx: &mut Transaction<'_, Postgres>, turn: &Turn) -> Result<()> {
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(turn.conversation_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores the model's tool-call reply for `round` and returns the calls to
/// run: ours, or those of a worker that stored this round first (its calls
/// win, so two workers never run two different sets of calls).
pub async fn record_round(
    pool: &PgPool,
    turn: &Turn,
    round: i32,
    reply: &Reply,
    metadata: Value,
) -> Result<Vec<ToolCall>> {
    let mut tx = pool.begin().await?;
    lock_conversation(&mut tx, turn).await?;
    let stored: Option<Json<Vec<ToolCall>>> =
        sqlx::query_scalar("SELECT tool_calls FROM messages WHERE reply_to = $1 AND round = $2")
            .bind(turn.message_id)
            .bind(round)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
    if let Some(Json(calls)) = stored {
        return Ok(calls);
    }
    let content = reply.content.clone().unwrap_or_default();
    let mut row = NewRow::new(&turn.user_id, MessageRole::Assistant, &content);
    row.reply_to = Some(turn.message_id);
    row.round = Some(round);
    row.tool_calls = Some(serde_json::to_value(&reply.tool_calls).unwrap_or(Value::Array(vec![])));
    row.metadata = metadata;
    append(&mut tx, turn.conversation_id, row).await?;
    tx.commit().await?;
    Ok(reply.tool_calls.clone())
}

/// Runs one tool call exactly once: its effect and its recorded result
/// commit together; a call already recorded returns the stored result.
/// After the commit the user's live streams are woken (the task change and
/// `tool.called` are theirs to read).
pub async fn run_tool(
    pool: &PgPool,
    live: &Arc<Broker>,
    turn: &Turn,
    call: &ToolCall,
) -> Result<String> {
    let mut work = Work::begin(pool, live).await?;
    lock_conversation(work.tx(), turn).await?;
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT content FROM messages WHERE reply_to = $1 AND role = 'tool' AND tool_call_id = $2",
    )
    .bind(turn.message_id)
    .bind(&call.id)
    .fetch_optional(work.conn())
    .await?;
    if let Some(result) = stored {
        return Ok(result);
    }
    let result = tools::execute(&mut work, &turn.user_id, &call.name, &call.arguments).await?;
    let text = result.to_string();
    let mut row = NewRow::new(&turn.user_id, MessageRole::Tool, &text);
    row.reply_to = Some(turn.message_id);
    row.tool_call_id = Some(&call.id);
    row.tool_name = Some(&call.name);
    append(work.tx(), turn.conversation_id, row).await?;
    let arguments = serde_json::from_str::<Value>(&call.arguments)
        .unwrap_or_else(|_| Value::String(call.arguments.clone()));
    work.record(
        &turn.user_id,
        Event::ToolCalled(ToolCalled {
            message_id: turn.message_id,
            conversation_id: turn.conversation_id,
            tool_call_id: call.id.clone(),
            name: call.name.clone(),
            arguments,
            result,
        }),
    );
    work.commit().await?;
    Ok(text)
}

/// Stores the final answer and completes the user message, together. False
/// when the turn had already ended (another worker got there first).
pub async fn finish(
    pool: &PgPool,
    live: &Arc<Broker>,
    turn: &Turn,
    text: &str,
    metadata: Value,
) -> Result<bool> {
    end(pool, live, turn.message_id, text, metadata, None).await
}

/// Ends the turn as failed, with an assistant message that says so in plain
/// words. Works from the message id alone (dead-lettered jobs).
pub async fn fail(
    pool: &PgPool,
    live: &Arc<Broker>,
    message_id: Uuid,
    reason: &str,
) -> Result<bool> {
    let text = format!("Sorry, I couldn't answer that message: {reason}. Please try again.");
    end(
        pool,
        live,
        message_id,
        &text,
        json!({ "failed": true }),
        Some(reason),
    )
    .await
}

async fn end(
    pool: &PgPool,
    live: &Arc<Broker>,
    message_id: Uuid,
    text: &str,
    metadata: Value,
    error: Option<&str>,
) -> Result<bool> {
    let mut work = Work::begin(pool, live).await?;
    let tx = work.tx();
    let found: Option<(Uuid, UserId)> = sqlx::query_as(
        "SELECT c.id, m.user_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.id = $1 AND m.role = 'user' FOR UPDATE OF c",
    )
    .bind(message_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((conversation_id, user)) = found else {
        return Ok(false);
    };
    let ended: bool =
        sqlx::query_scalar("SELECT status IN ('completed', 'failed') FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_one(&mut **tx)
            .await?;
    if ended {
        return Ok(false);
    }
    let mut row = NewRow::new(&user, MessageRole::Assistant, text);
    row.reply_to = Some(message_id);
    row.is_final = true;
    row.metadata = metadata;
    let answer = append(tx, conversation_id, row).await?;
    sqlx::query(
        // The owner stays: the claim that ended the turn is on record, and
        // its heartbeat can tell "finished" from "lost" (renew_all).
        "UPDATE messages SET status = $2, error = $3, completed_at = now(), updated_at = now(), \
            lease_until = NULL WHERE id = $1",
    )
    .bind(message_id)
    .bind(if error.is_some() {
        MessageStatus::Failed
    } else {
        MessageStatus::Completed
    })
    .bind(error)
    .execute(&mut **tx)
    .await?;
    let ended = MessageEnded {
        message_id,
        conversation_id,
        reason: error.map(str::to_owned),
        message: answer,
    };
    work.record(
        &user,
        match error {
            None => Event::MessageCompleted(ended),
            Some(_) => Event::MessageFailed(ended),
        },
    );
    work.commit().await?;
    Ok(true)
}

/// The conversation's oldest unfinished user message that was sent before
/// `ended` (a turn just finished) was answered: one whose delivery found
/// that turn running and was parked. A message sent after it has its own
/// delivery on the way and is left to it; claiming it here as well only made
/// that delivery a duplicate (issue 24).
pub async fn next_in_conversation(
    pool: &PgPool,
    conversation_id: Uuid,
    ended: Uuid,
) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM messages WHERE conversation_id = $1 AND role = 'user' \
           AND status IN ('queued', 'processing') \
           AND created_at < (SELECT completed_at FROM messages WHERE id = $2) \
         ORDER BY seq LIMIT 1",
    )
    .bind(conversation_id)
    .bind(ended)
    .fetch_optional(pool)
    .await?)
}

/// For a turn RabbitMQ gave up on: Some(true) when it is its conversation's
/// oldest unfinished turn and nobody holds a live lease on it (so ending it
/// keeps the order and stops no running work), Some(false) when it must
/// wait, None when it is finished or gone.
pub async fn is_idle_head(pool: &PgPool, message_id: Uuid) -> Result<Option<bool>> {
    Ok(sqlx::query_scalar(concat!(
        "SELECT ",
        idle_head!(),
        " FROM messages m WHERE m.id = $1 AND m.role = 'user' \
           AND m.status IN ('queued', 'processing')",
    ))
    .bind(message_id)
    .fetch_optional(pool)
    .await?)
}

/// Unfinished turns nobody has touched for `idle` and whose lease (if any)
/// expired: their queue message was lost (e.g. dead-lettered). Each one
/// returned is marked touched, so a sweep re-drives it once per `idle`.
pub async fn stale(pool: &PgPool, idle: Duration, limit: i64) -> Result<Vec<TurnJob>> {
    let rows: Vec<(Uuid, Uuid, UserId, Option<String>)> = sqlx::query_as(
        "UPDATE messages SET updated_at = now() WHERE id IN ( \
            SELECT id FROM messages WHERE role = 'user' AND status IN ('queued', 'processing') \
              AND updated_at < now() - $1 AND (lease_until IS NULL OR lease_until < now()) \
            ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING id, conversation_id, user_id, request_id",
    )
    .bind(idle)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(job).collect())
}

/// A fresh queue message for a turn being re-driven.
fn job(
    (message_id, conversation_id, user_id, request_id): (Uuid, Uuid, UserId, Option<String>),
) -> TurnJob {
    TurnJob {
        v: TurnJob::VERSION,
        message_id,
        conversation_id,
        user_id,
        request_id,
        deferrals: 0,
    }
}
