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
//! next begins: a round (the model's tool-call reply per (turn, round), its
//! calls' effects, and their results per (turn, tool call id)) in one
//! transaction, the final answer per turn in another. A worker that resumes
//! a turn (after a crash or an expired lease) replays stored steps instead
//! of repeating them; one that finds its step's key taken by another worker
//! rolls back, effects included.
//!
//! So the worker's part of a turn is the claim (one statement, with its
//! event, the history and the stored steps), one transaction per round and
//! one for the end (issue 20; docs/benchmarks.md, "Statements per chat turn").

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::messages::{NewRow, append};
use crate::domain::{MessageRole, MessageStatus, TimeZone, UserId};
use crate::error::Result;
use crate::events::{Event, MessageEnded, MessageProcessing, Stored, ToolCalled};
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
    /// The user's time zone: where their "today" is.
    pub time_zone: TimeZone,
    /// Earlier turns of the conversation for the model (see [`Claimed`]).
    pub history: Vec<Message>,
    /// What earlier attempts at this turn stored (empty on a first try).
    pub progress: Progress,
}

#[derive(Debug)]
pub enum Claim {
    Claimed(Box<Turn>),
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
/// turn may start now", for claiming and for the dead-letter check: the
/// query macros take only literal SQL, so both spell it out, and a test
/// holds them to this text.
#[cfg(test)]
const IDLE_HEAD: &str = "(m.lease_until IS NULL OR m.lease_until < now())
               AND NOT EXISTS (SELECT 1 FROM messages e
                   WHERE e.conversation_id = m.conversation_id AND e.role = 'user'
                     AND e.seq < m.seq AND e.status IN ('queued', 'processing'))";

/// Claims `message_id` for `lease`. `per_user` caps how many turns of one
/// user run at once (fair share: one user's burst cannot occupy every worker
/// and the whole model allowance while others wait). `worker` names the
/// claiming process in the lease owner (`<worker>.<claim id>`), so an
/// operator, or the chaos bench, can tell which process holds a turn.
///
/// One statement: the claim, its `message.processing` event, and what the
/// turn needs to start (the newest `history` messages of the conversation
/// and this turn's stored steps), so a claim costs one round trip and no
/// transaction of its own (issue 20). Both reads are bounded by index: the
/// history walks back over the last `history` user messages and their
/// answers, whatever the conversation's length, and the steps come by
/// `reply_to` (issue 23: they were a scan of the whole table, and the
/// history a sort of the whole conversation, at every turn).
pub async fn claim(
    pool: &PgPool,
    live: &Arc<Broker>,
    message_id: Uuid,
    worker: &str,
    lease: Duration,
    per_user: i64,
    history: i64,
) -> Result<Claim> {
    let owner = format!("{worker}.{}", Uuid::new_v4().simple());
    // The event as `Event` spells it; the statement fills in the two fields
    // only it knows (checked in `claimed_event`).
    let template = Event::MessageProcessing(MessageProcessing {
        message_id,
        conversation_id: Uuid::nil(),
        attempt: 0,
    });
    let row = sqlx::query_as!(
        ClaimedRow,
        r#"WITH claimed AS (
            UPDATE messages m SET status = 'processing', lease_owner = $2,
                lease_until = now() + $3::interval, attempts = attempts + 1, updated_at = now()
             WHERE m.id = $1 AND m.role = 'user' AND m.status IN ('queued', 'processing')
               AND (m.lease_until IS NULL OR m.lease_until < now())
               AND NOT EXISTS (SELECT 1 FROM messages e
                   WHERE e.conversation_id = m.conversation_id AND e.role = 'user'
                     AND e.seq < m.seq AND e.status IN ('queued', 'processing'))
               AND (SELECT count(*) FROM messages p
                    WHERE p.user_id = m.user_id AND p.role = 'user' AND p.status = 'processing'
                      AND p.id <> m.id AND p.lease_until > now()) < $4
             RETURNING m.id, m.conversation_id, m.user_id, m.seq, m.content, m.attempts,
                m.request_id, m.created_at),
         bumped AS (
            UPDATE users u SET last_event_seq = u.last_event_seq + 1 FROM claimed
            WHERE u.id = claimed.user_id RETURNING u.last_event_seq, u.time_zone),
         stored AS (
            INSERT INTO events (user_id, seq, type, conversation_id, data)
            SELECT claimed.user_id, bumped.last_event_seq, $5, claimed.conversation_id,
                $6::jsonb || jsonb_build_object('conversation_id', claimed.conversation_id,
                    'attempt', claimed.attempts)
            FROM claimed, bumped
            RETURNING seq, type, conversation_id, data, created_at)
         SELECT c.conversation_id AS "conversation_id!", c.user_id AS "user_id!: UserId",
            c.seq AS "seq!", c.content AS "content!", c.attempts AS "attempts!",
            c.request_id AS "request_id?", c.created_at AS "created_at!",
            s.seq AS "event_seq!", s.type AS "event_type!", s.data AS "event_data!: Json<Value>",
            s.created_at AS "event_created_at!", b.time_zone AS "time_zone!: TimeZone",
            (SELECT COALESCE(jsonb_agg(jsonb_build_array(h.role, h.content, h.metadata)
                    ORDER BY h.turn_seq, h.is_final), '[]')
             FROM (SELECT x.role, x.content, x.metadata, t.seq AS turn_seq, x.is_final
                   FROM (SELECT p.id, p.seq FROM messages p
                         WHERE p.conversation_id = c.conversation_id AND p.role = 'user'
                           AND p.seq < c.seq
                         ORDER BY p.seq DESC LIMIT $7) t
                   CROSS JOIN LATERAL (
                       SELECT q.role, q.content, q.metadata, false AS is_final
                       FROM messages q WHERE q.id = t.id
                       UNION ALL
                       SELECT a.role, a.content, a.metadata, true
                       FROM messages a WHERE a.reply_to = t.id AND a.is_final) x
                   ORDER BY turn_seq DESC, x.is_final DESC LIMIT $7) h)
                AS "history!: Json<Vec<(MessageRole, String, Value)>>",
            (SELECT COALESCE(jsonb_agg(jsonb_build_array(t.role, t.content, t.tool_calls, t.tool_call_id)
                    ORDER BY t.seq), '[]')
             FROM messages t WHERE t.reply_to = c.id AND NOT t.is_final) AS "steps!: Json<Vec<Step>>"
         FROM claimed c, stored s, bumped b"#,
        message_id,
        &owner,
        lease as _,
        per_user,
        template.kind(),
        template.data(),
        history,
    )
    .fetch_optional(pool)
    .await?;
    if let Some(row) = row {
        let stored = claimed_event(&row, message_id);
        live.notify(&row.user_id, std::slice::from_ref(&stored))
            .await;
        return Ok(Claim::Claimed(Box::new(Turn {
            message_id,
            conversation_id: row.conversation_id,
            user_id: row.user_id,
            seq: row.seq,
            content: row.content,
            attempts: row.attempts,
            request_id: row.request_id,
            lease_owner: owner,
            created_at: row.created_at,
            time_zone: row.time_zone,
            history: row
                .history
                .0
                .into_iter()
                .map(|(role, content, metadata)| match role {
                    MessageRole::User => Message::user(content),
                    _ => Message::assistant(in_history(content, &metadata)),
                })
                .collect(),
            progress: Progress::from_steps(row.steps.0),
        })));
    }
    let status = sqlx::query!(
        r#"SELECT status AS "status: MessageStatus", COALESCE(lease_until > now(), false) AS "leased!"
         FROM messages WHERE id = $1 AND role = 'user'"#,
        message_id,
    )
    .fetch_optional(pool)
    .await?
    .map(|s| (s.status, s.leased));
    Ok(match status {
        None => Claim::Missing,
        Some((status, _)) if status.is_finished() => Claim::Finished,
        Some((_, true)) => Claim::Running,
        Some((_, false)) => Claim::Blocked,
    })
}

/// What the claim statement returns.
struct ClaimedRow {
    conversation_id: Uuid,
    user_id: UserId,
    seq: i64,
    content: String,
    attempts: i32,
    request_id: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    event_seq: i64,
    event_type: String,
    event_data: Json<Value>,
    event_created_at: chrono::DateTime<chrono::Utc>,
    time_zone: TimeZone,
    /// `[role, content, metadata]`, oldest first.
    history: Json<Vec<(MessageRole, String, Value)>>,
    /// `[role, content, tool_calls, tool_call_id]`, in order.
    steps: Json<Vec<Step>>,
}

/// The claim's `message.processing` as stored. The statement wrote part of
/// it; in debug builds (every test) it is checked to be exactly the event
/// `Event` makes.
fn claimed_event(row: &ClaimedRow, message_id: Uuid) -> Stored {
    let stored = Stored {
        seq: row.event_seq,
        kind: row.event_type.clone(),
        conversation_id: Some(row.conversation_id),
        data: row.event_data.clone(),
        created_at: row.event_created_at,
    };
    debug_assert_eq!(
        stored.event().map(|e| e.data()),
        Some(
            Event::MessageProcessing(MessageProcessing {
                message_id,
                conversation_id: row.conversation_id,
                attempt: row.attempts,
            })
            .data()
        ),
        "the claim stored a message.processing unlike the event's own"
    );
    stored
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
    let renewed: Vec<String> = sqlx::query_scalar!(
        r#"UPDATE messages SET lease_until = now() + $3::interval
         WHERE id = ANY($1) AND lease_owner = ANY($2) AND status = 'processing'
         RETURNING lease_owner AS "lease_owner!""#,
        &ids,
        &owners,
        lease as _,
    )
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
    let finished: Vec<String> = sqlx::query_scalar!(
        r#"SELECT lease_owner AS "lease_owner!" FROM messages
         WHERE id = ANY($1) AND lease_owner = ANY($2) AND status IN ('completed', 'failed')"#,
        &ids,
        &states.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>() as &[&str],
    )
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
    Ok(sqlx::query_as!(
        Redriven,
        r#"SELECT id, conversation_id, user_id AS "user_id: UserId", request_id FROM messages
         WHERE role = 'user' AND status = 'processing'
           AND lease_owner IS NOT NULL AND lease_until < now()
         ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED"#,
        limit,
    )
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(Redriven::job)
    .collect())
}

/// Marks expired leases as re-driven (the owner is cleared, so each expired
/// lease is re-driven once, and a holder that comes back learns from its next
/// heartbeat that the turn is no longer its own).
pub async fn forget_expired(tx: &mut Transaction<'_, Postgres>, ids: &[Uuid]) -> Result<()> {
    sqlx::query!(
        "UPDATE messages SET lease_owner = NULL, updated_at = now()
         WHERE id = ANY($1) AND status = 'processing' AND lease_until < now()",
        ids,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives the turn back (shutdown): another worker may take it at once.
pub async fn release(pool: &PgPool, turn: &Turn) -> Result<()> {
    sqlx::query!(
        "UPDATE messages SET lease_until = NULL, lease_owner = NULL, updated_at = now()
         WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
        turn.message_id,
        &turn.lease_owner,
    )
    .execute(pool)
    .await?;
    Ok(())
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
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub rounds: Vec<(String, Vec<ToolCall>)>,
    pub results: HashMap<String, String>,
}

/// A stored step of a turn: role, content, tool calls, tool call id.
type Step = (MessageRole, String, Option<Vec<ToolCall>>, Option<String>);

impl Progress {
    fn from_steps(steps: Vec<Step>) -> Self {
        let mut progress = Self::default();
        for (role, content, calls, call_id) in steps {
            match (role, calls, call_id) {
                (MessageRole::Assistant, Some(calls), _) => progress.rounds.push((content, calls)),
                (MessageRole::Tool, _, Some(id)) => {
                    progress.results.insert(id, content);
                }
                _ => {}
            }
        }
        progress
    }

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

/// What this turn has stored so far, read anew (after another worker
/// stored a round this one was running).
pub async fn progress(pool: &PgPool, turn: &Turn) -> Result<Progress> {
    let steps = sqlx::query_scalar!(
        r#"SELECT COALESCE(jsonb_agg(jsonb_build_array(role, content, tool_calls, tool_call_id)
            ORDER BY seq), '[]') AS "steps!: Json<Vec<Step>>"
         FROM messages WHERE reply_to = $1 AND NOT is_final"#,
        turn.message_id,
    )
    .fetch_one(pool)
    .await?;
    Ok(Progress::from_steps(steps.0))
}

/// A tool-call reply of the model, to store with its calls' results.
pub struct NewRound<'a> {
    pub round: i32,
    pub reply: &'a Reply,
    pub metadata: Value,
}

/// How running a round went.
#[derive(Debug)]
pub enum Ran {
    /// Stored with these results (tool call id, result), in call order.
    Stored(Vec<(String, String)>),
    /// Another worker stored this round (or these results) first: its
    /// effects stand, ours were rolled back. Read the progress anew.
    Taken,
}

/// Runs `calls` and stores them, with their results and (for a new round)
/// the model's reply that asked for them, in one transaction: each call's
/// effect happens exactly once, however often the turn is resumed, because
/// it commits only together with its recorded result, and a worker that
/// finds the round or a result already stored (a unique key) rolls back.
/// `round` is None for calls of a stored round that have no results yet (a
/// turn begun by a build that stored rounds on their own).
pub async fn run_round(
    pool: &PgPool,
    live: &Arc<Broker>,
    turn: &Turn,
    round: Option<NewRound<'_>>,
    calls: &[ToolCall],
) -> Result<Ran> {
    let mut work = Work::begin(pool, live).await?;
    work.know_zone(&turn.user_id, turn.time_zone);
    let mut results = Vec::with_capacity(calls.len());
    // Each result row keeps what reverts its call (for undo, issue 22).
    let mut records = Vec::with_capacity(calls.len());
    for call in calls {
        let at = tools::InTurn {
            conversation_id: turn.conversation_id,
            message_id: turn.message_id,
            earlier: &records,
        };
        let done =
            tools::execute(&mut work, &turn.user_id, at, &call.name, &call.arguments).await?;
        results.push(done.result);
        records.push(done.record);
    }
    let texts: Vec<String> = results.iter().map(Value::to_string).collect();
    let mut rows = Vec::with_capacity(calls.len() + 1);
    if let Some(round) = &round {
        let mut row = NewRow::new(
            MessageRole::Assistant,
            round.reply.content.as_deref().unwrap_or_default(),
        );
        row.reply_to = Some(turn.message_id);
        row.round = Some(round.round);
        row.tool_calls =
            Some(serde_json::to_value(&round.reply.tool_calls).unwrap_or(Value::Array(vec![])));
        row.metadata = round.metadata.clone();
        rows.push(row);
    }
    for ((call, text), record) in calls.iter().zip(&texts).zip(records) {
        let mut row = NewRow::new(MessageRole::Tool, text);
        row.reply_to = Some(turn.message_id);
        row.tool_call_id = Some(&call.id);
        row.tool_name = Some(&call.name);
        row.metadata = record;
        rows.push(row);
    }
    let appended = append(work.tx(), turn.conversation_id, &turn.user_id, &rows, None).await?;
    if !appended.all(&rows) {
        // Dropping the work rolls back our calls' effects.
        return Ok(Ran::Taken);
    }
    for (call, result) in calls.iter().zip(results) {
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
    }
    work.commit().await?;
    Ok(Ran::Stored(
        calls.iter().map(|c| c.id.clone()).zip(texts).collect(),
    ))
}

/// A turn this worker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// The conversation's oldest unfinished user message sent before this
    /// turn ended, if any: one whose delivery found this turn running and
    /// was parked, to answer now rather than when it comes back. A message
    /// sent after it has its own delivery on the way and is left to it
    /// (claiming it here as well only made that delivery a duplicate, issue 24).
    pub next: Option<Uuid>,
}

/// Stores the final answer and completes the user message, together. None
/// when the turn had already ended (another worker got there first).
pub async fn finish(
    pool: &PgPool,
    live: &Arc<Broker>,
    turn: &Turn,
    text: &str,
    metadata: Value,
) -> Result<Option<Ended>> {
    let to = (turn.message_id, turn.conversation_id, turn.user_id.clone());
    end(pool, live, to, text, metadata, None).await
}

/// Ends the turn as failed, with an assistant message that says so in plain
/// words. Works from the message id alone (dead-lettered jobs).
pub async fn fail(
    pool: &PgPool,
    live: &Arc<Broker>,
    message_id: Uuid,
    reason: &str,
) -> Result<Option<Ended>> {
    let found = sqlx::query!(
        r#"SELECT conversation_id, user_id AS "user_id: UserId" FROM messages
         WHERE id = $1 AND role = 'user'"#,
        message_id,
    )
    .fetch_optional(pool)
    .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let (conversation_id, user) = (found.conversation_id, found.user_id);
    let text = format!("Sorry, I couldn't answer that message: {reason}. Please try again.");
    let to = (message_id, conversation_id, user);
    end(
        pool,
        live,
        to,
        &text,
        json!({ "failed": true }),
        Some(reason),
    )
    .await
}

/// Appends the final answer (under the conversation's row lock, and unique
/// per turn: a second end stores nothing and rolls back) and completes the
/// user message, in one transaction.
async fn end(
    pool: &PgPool,
    live: &Arc<Broker>,
    (message_id, conversation_id, user): (Uuid, Uuid, UserId),
    text: &str,
    metadata: Value,
    error: Option<&str>,
) -> Result<Option<Ended>> {
    let mut work = Work::begin(pool, live).await?;
    let mut row = NewRow::new(MessageRole::Assistant, text);
    row.reply_to = Some(message_id);
    row.is_final = true;
    row.metadata = metadata;
    let Some(answer) = append(work.tx(), conversation_id, &user, &[row], None)
        .await?
        .messages
        .pop()
    else {
        // Answered already, or the conversation is gone.
        return Ok(None);
    };
    let status = match error {
        Some(_) => MessageStatus::Failed,
        None => MessageStatus::Completed,
    };
    // The owner stays: the claim that ended the turn is on record, and its
    // heartbeat can tell "finished" from "lost" (renew_all).
    let next: Option<Option<Uuid>> = sqlx::query_scalar!(
        "UPDATE messages SET status = $2, error = $3, completed_at = now(), updated_at = now(),
            lease_until = NULL WHERE id = $1 AND status IN ('queued', 'processing')
         RETURNING (SELECT n.id FROM messages n WHERE n.conversation_id = $4 AND n.role = 'user'
            AND n.status IN ('queued', 'processing') AND n.id <> $1 AND n.created_at < now()
            ORDER BY n.seq LIMIT 1)",
        message_id,
        status.as_str(),
        error,
        conversation_id,
    )
    .fetch_optional(work.conn())
    .await?;
    let Some(next) = next else {
        // Ended by a path that stored no answer: keep it as it was.
        return Ok(None);
    };
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
    Ok(Some(Ended { next }))
}

/// For a turn RabbitMQ gave up on: Some(true) when it is its conversation's
/// oldest unfinished turn and nobody holds a live lease on it (so ending it
/// keeps the order and stops no running work), Some(false) when it must
/// wait, None when it is finished or gone.
pub async fn is_idle_head(pool: &PgPool, message_id: Uuid) -> Result<Option<bool>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT (m.lease_until IS NULL OR m.lease_until < now())
               AND NOT EXISTS (SELECT 1 FROM messages e
                   WHERE e.conversation_id = m.conversation_id AND e.role = 'user'
                     AND e.seq < m.seq AND e.status IN ('queued', 'processing')) AS "idle!"
         FROM messages m WHERE m.id = $1 AND m.role = 'user'
           AND m.status IN ('queued', 'processing')"#,
        message_id,
    )
    .fetch_optional(pool)
    .await?)
}

/// Unfinished turns nobody has touched for `idle` and whose lease (if any)
/// expired: their queue message was lost (e.g. dead-lettered). Each one
/// returned is marked touched, so a sweep re-drives it once per `idle`.
pub async fn stale(pool: &PgPool, idle: Duration, limit: i64) -> Result<Vec<TurnJob>> {
    Ok(sqlx::query_as!(
        Redriven,
        r#"UPDATE messages SET updated_at = now() WHERE id IN (
            SELECT id FROM messages WHERE role = 'user' AND status IN ('queued', 'processing')
              AND updated_at < now() - $1::interval AND (lease_until IS NULL OR lease_until < now())
            ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id, conversation_id, user_id AS "user_id: UserId", request_id"#,
        idle as _,
        limit,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Redriven::job)
    .collect())
}

/// A turn being re-driven.
struct Redriven {
    id: Uuid,
    conversation_id: Uuid,
    user_id: UserId,
    request_id: Option<String>,
}

impl Redriven {
    /// A fresh queue message for it.
    fn job(self) -> TurnJob {
        TurnJob {
            v: TurnJob::VERSION,
            message_id: self.id,
            conversation_id: self.conversation_id,
            user_id: self.user_id,
            request_id: self.request_id,
            deferrals: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IDLE_HEAD;

    #[test]
    fn claiming_and_dead_lettering_ask_the_same_idle_head_question() {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let source = words(include_str!("turns.rs"));
        // The definition here, and the two statements.
        assert_eq!(source.matches(&words(IDLE_HEAD)).count(), 3);
    }
}
