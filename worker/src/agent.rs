//! The agent loop of one turn: system prompt, recent history, the user's
//! message and this turn's stored steps go to the model; requested tools
//! run (each exactly once); repeat until the model answers in words or
//! MAX_TOOL_ROUNDS is reached. A resumed turn picks up where the last
//! attempt stopped, from what it stored.

use std::sync::Arc;
use todo_common::error::ErrorChain;

use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use todo_common::WorkerConfig;
use todo_common::chat::turns::{self, Ended, Turn};

use crate::limiter;
use todo_common::events::{Event, MessageDelta, MessageQueued, MessageRestarted};
use todo_common::llm::{Message, Reply};
use todo_common::queue::Broker;
use todo_common::tools::{self, Tool, ToolDefinition};
use tokio_util::sync::CancellationToken;

use crate::clock::UserNow;
use crate::context;
use crate::lease::Leases;
use crate::model::{self, Model, ModelError, backoff};
use crate::prompt;
use todo_common::config::AssistantMode;
use todo_common::metric;

/// How long a turn keeps waiting through rate-limit 429s before it fails.
const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(600);
/// Waits longer than this are announced to the user (message.queued).
const QUEUED_NOTICE_AFTER: Duration = Duration::from_secs(2);

pub struct Agent {
    pub pool: PgPool,
    pub model: Model,
    pub config: Arc<WorkerConfig>,
    /// Live notices after each committed step; deltas while the model streams.
    pub broker: Arc<Broker>,
    /// The leases of this process's turns, renewed by its heartbeat.
    pub leases: Arc<Leases>,
    /// ASSISTANT_MODE, resolved.
    mode: AssistantMode,
    tools: Vec<ToolDefinition>,
    /// Size of the tool schemas, part of every prompt's token estimate.
    tools_chars: usize,
}

/// How one model call (with its retries) ended.
enum Called {
    Reply(Reply),
    /// Stopped for shutdown.
    Aborted,
    /// The model failed for good (retries used up, quota, a refusal).
    Failed(ModelError),
}

/// How a turn run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Final answer stored: by us (Some), or by a worker that got there first.
    Answered(Option<Ended>),
    /// Ended as failed, with a message saying why (stored by us: Some).
    Failed(Option<Ended>),
    /// Another worker took the turn over (our lease expired).
    LeaseLost,
    /// Our lease could not be renewed in time (PostgreSQL unreachable or
    /// too slow): stopped before it ran out, so another worker can take over.
    LeaseExpired,
    /// Stopped for shutdown; the turn is released for another worker.
    Interrupted,
}

impl Agent {
    pub fn new(
        pool: PgPool,
        model: Model,
        config: Arc<WorkerConfig>,
        broker: Arc<Broker>,
        leases: Arc<Leases>,
    ) -> Self {
        Self {
            pool,
            model,
            mode: config.model.mode,
            config,
            broker,
            leases,
            tools_chars: tools::definitions()
                .iter()
                .map(|t| t.parameters.to_string().len() + t.description.len())
                .sum(),
            tools: tools::definitions(),
        }
    }

    /// `offline`: the built-in assistant answered this turn (no model, or
    /// a message it fully understood in hybrid mode).
    fn metadata(&self, rounds: usize, offline: bool) -> Value {
        let by = if offline { "offline" } else { "model" };
        let model = if offline {
            "offline"
        } else {
            self.model.name()
        };
        json!({ "offline": offline, "answered_by": by, "model": model, "rounds": rounds })
    }

    /// Whether the offline assistant answers `turn`: always without a
    /// model; in hybrid mode, when it fully understands the message.
    fn answers_offline(&self, turn: &Turn, now: &UserNow) -> bool {
        self.model.is_offline()
            || (self.mode == AssistantMode::Hybrid
                && todo_assistant::confident(&turn.content, now.local().naive_local()))
    }

    /// Stores the final answer; counts who gave it when it was ours to store.
    async fn answer(
        &self,
        turn: &Turn,
        text: &str,
        metadata: Value,
    ) -> todo_common::Result<Outcome> {
        let by = if metadata["offline"] == Value::Bool(true) {
            "offline"
        } else {
            "model"
        };
        let ended = turns::finish(&self.pool, &self.broker, turn, text, metadata).await?;
        if ended.is_some() {
            metrics::counter!(metric::TURNS_ANSWERED_TOTAL, "by" => by).increment(1);
        }
        Ok(Outcome::Answered(ended))
    }

    pub async fn run(
        &self,
        turn: &Turn,
        abort: &CancellationToken,
    ) -> todo_common::Result<Outcome> {
        if turn.attempts > self.config.chat.turn_max_attempts as i32 {
            let ended = turns::fail(
                &self.pool,
                &self.broker,
                turn.message_id,
                "it failed several times in a row",
            )
            .await?;
            return Ok(Outcome::Failed(ended));
        }
        let history = &turn.history;
        let mut progress = turn.progress.clone();
        // A previous attempt may have stopped between a round and its tools
        // (a build that stored rounds on their own).
        let pending = progress.pending_calls();
        if !pending.is_empty() {
            progress =
                match turns::run_round(&self.pool, &self.broker, turn, None, &pending).await? {
                    turns::Ran::Stored(results) => {
                        progress.results.extend(results);
                        progress
                    }
                    turns::Ran::Taken => turns::progress(&self.pool, turn).await?,
                };
        }
        // Decided once per run: the whole turn is answered by one of them.
        // The clock too: the turn's rounds then send the model one prefix.
        let now = UserNow::of(turn.time_zone);
        let offline = self.answers_offline(turn, &now);
        // The offline assistant reads the user's words alone.
        let user = Message::user(match offline {
            true => turn.content.clone(),
            false => prompt::with_clock(&turn.content, &now),
        });
        loop {
            let rounds = progress.rounds.len();
            if rounds >= self.config.chat.max_tool_rounds as usize {
                let text = wrap_up(self.config.chat.max_tool_rounds, &progress.messages());
                let mut metadata = self.metadata(rounds, offline);
                metadata["wrapped_up"] = Value::Bool(true);
                return self.answer(turn, &text, metadata).await;
            }

            let system = Message::system(prompt::system());
            let own = progress.messages();
            let earlier = self.history_that_fits(history, [&system, &user].into_iter().chain(&own));
            let mut messages = Vec::with_capacity(earlier.len() + 2 + own.len());
            messages.push(system);
            messages.extend(earlier.iter().cloned());
            messages.push(user.clone());
            messages.extend(own);

            let called = if offline {
                Called::Reply(model::offline_reply(&messages, &now))
            } else {
                self.call_model(&messages, &now, turn, abort).await?
            };
            let mut reply = match called {
                Called::Reply(reply) => reply,
                Called::Aborted => return Ok(Outcome::Interrupted),
                Called::Failed(e) => {
                    let reason = match &e {
                        ModelError::QuotaExceeded => {
                            "the assistant's model has no quota left".to_string()
                        }
                        ModelError::Retryable { .. } => {
                            "the assistant's model is not answering right now".to_string()
                        }
                        ModelError::Fatal(_) => {
                            "the assistant's model refused the request".to_string()
                        }
                    };
                    tracing::warn!(error = %e.chain(), message_id = %turn.message_id, "turn failed at the model");
                    let ended =
                        turns::fail(&self.pool, &self.broker, turn.message_id, &reason).await?;
                    return Ok(Outcome::Failed(ended));
                }
            };
            if reply.truncated {
                // Cut by the output limit: a normal answer, not an error (a
                // retry would be cut the same way). Tool calls in it may end
                // mid-argument, so none of them runs.
                metrics::counter!(metric::OPENAI_ANSWERS_CUT_TOTAL).increment(1);
                let text = cut_short(reply.content.as_deref(), !reply.tool_calls.is_empty());
                let mut metadata = self.metadata(rounds, offline);
                metadata["truncated"] = Value::Bool(true);
                return self.answer(turn, &text, metadata).await;
            }
            if reply.tool_calls.is_empty()
                && let Some(calls) = reply.content.as_deref().and_then(|text| {
                    tools::calls_written_as_text(text, &format!("text_{}_", rounds + 1))
                })
            {
                // A call the server did not parse out of the model's text:
                // run it, and take back the JSON the user saw stream in.
                metrics::counter!(metric::TOOL_CALLS_WRITTEN_AS_TEXT_TOTAL).increment(1);
                self.announce_restart(turn).await;
                reply.content = None;
                reply.tool_calls = calls;
            }
            if reply.tool_calls.is_empty() {
                // Words, not tools: the final answer (also when a tool was expected).
                let text = reply
                    .content
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "Done.".to_string());
                return self
                    .answer(turn, &text, self.metadata(rounds, offline))
                    .await;
            }
            let round = turns::NewRound {
                round: i32::try_from(rounds + 1).unwrap_or(i32::MAX),
                reply: &reply,
                metadata: self.metadata(rounds + 1, offline),
            };
            let calls = reply.tool_calls.clone();
            match turns::run_round(&self.pool, &self.broker, turn, Some(round), &calls).await? {
                turns::Ran::Stored(results) => {
                    for call in &calls {
                        let tool =
                            Tool::from_name(&call.name).map_or("unknown", Tool::metric_label);
                        metrics::counter!(metric::TOOL_CALLS_TOTAL, "tool" => tool).increment(1);
                    }
                    progress
                        .rounds
                        .push((reply.content.clone().unwrap_or_default(), calls));
                    progress.results.extend(results);
                }
                turns::Ran::Taken => {
                    // Another worker stored this round first: go on from its.
                    let stored = turns::progress(&self.pool, turn).await?;
                    if stored.rounds.len() <= rounds {
                        // Nothing of it is there: the turn is gone.
                        return Err(todo_common::Error::NotFound(format!(
                            "message {}",
                            turn.message_id
                        )));
                    }
                    progress = stored;
                }
            }
        }
    }

    /// Live clients drop the answer text streamed so far: what follows
    /// starts the answer again.
    async fn announce_restart(&self, turn: &Turn) {
        let restarted = Event::MessageRestarted(MessageRestarted {
            message_id: turn.message_id,
            conversation_id: turn.conversation_id,
        });
        self.broker
            .publish_transient(&turn.user_id, &restarted)
            .await;
    }

    /// The newest history that fits the model's context window beside the
    /// messages of this turn, the tool schemas and the output limit.
    fn history_that_fits<'h, 'm>(
        &self,
        history: &'h [Message],
        this_turn: impl IntoIterator<Item = &'m Message>,
    ) -> &'h [Message] {
        let Some(window) = self.config.model.context_tokens else {
            return history;
        };
        let budget = (window as usize).saturating_sub(
            context::tokens(this_turn)
                + context::tool_tokens(self.tools_chars)
                + self.model.max_output_tokens() as usize,
        );
        let kept = context::fit(history, budget);
        if kept.len() < history.len() {
            metrics::counter!(metric::CHAT_HISTORY_TRIMMED_TOTAL).increment(1);
            tracing::debug!(
                left_out = history.len() - kept.len(),
                kept = kept.len(),
                "history trimmed to the model's context window"
            );
        }
        kept
    }

    /// One model call with the retry policy.
    ///
    /// Before every request the worker reserves a slot in the shared limiter
    /// and sleeps until it (the delivery stays unacked meanwhile, so the rest
    /// stays queued in RabbitMQ). Rate-limit 429s pause every worker and are
    /// retried without using up OPENAI_MAX_ATTEMPTS, for up to RATE_LIMIT_PATIENCE;
    /// other transient failures back off and count. The limiter lives in
    /// PostgreSQL: when it cannot be reached that is the database's trouble
    /// (Err: the turn is released and resumes later), never the model's.
    async fn call_model(
        &self,
        messages: &[Message],
        now: &UserNow,
        turn: &Turn,
        abort: &CancellationToken,
    ) -> todo_common::Result<Called> {
        let prompt_chars =
            messages.iter().map(|m| m.content.len()).sum::<usize>() + self.tools_chars;
        // Like OpenAI's own limiter: the prompt plus the most the answer may
        // use, corrected from `usage` afterwards.
        let estimate = limiter::estimate_tokens(prompt_chars, self.model.max_output_tokens());
        let patience = Instant::now() + RATE_LIMIT_PATIENCE;
        let mut failures = 0;
        loop {
            if let Some(limiter) = self.model.limiter() {
                let slot = limiter.reserve(estimate).await?;
                metrics::histogram!(metric::OPENAI_RATELIMIT_WAIT_SECONDS)
                    .record(slot.wait.as_secs_f64());
                if slot.wait > QUEUED_NOTICE_AFTER {
                    let queued = Event::MessageQueued(MessageQueued {
                        message_id: turn.message_id,
                        conversation_id: turn.conversation_id,
                        expected_wait_ms: slot.wait.as_millis() as u64,
                    });
                    self.broker.publish_transient(&turn.user_id, &queued).await;
                }
                if !self.wait(slot.wait, abort).await {
                    return Ok(Called::Aborted);
                }
            }
            let (result, streamed) = self.request(messages, now, turn, abort).await;
            // A retry writes the answer from its start: clients drop the
            // text this attempt streamed (message.restarted), or they would
            // show it twice.
            let restart = async || {
                if streamed {
                    self.announce_restart(turn).await;
                }
            };
            match result {
                None => return Ok(Called::Aborted),
                Some(Ok(reply)) => {
                    if let Some(usage) = reply.usage {
                        metrics::counter!(metric::OPENAI_TOKENS_TOTAL, "kind" => "prompt")
                            .increment(u64::from(usage.prompt_tokens));
                        metrics::counter!(metric::OPENAI_TOKENS_TOTAL, "kind" => "completion")
                            .increment(u64::from(usage.completion_tokens));
                        if let Some(limiter) = self.model.limiter() {
                            let _ = limiter
                                .correct_tokens(
                                    estimate,
                                    usage.prompt_tokens + usage.completion_tokens,
                                )
                                .await;
                        }
                    }
                    return Ok(Called::Reply(reply));
                }
                // The limiter is paused for everyone; queue up again behind it.
                Some(Err(ModelError::Retryable {
                    rate_limited: true, ..
                })) if self.model.limiter().is_some() && Instant::now() < patience => {
                    restart().await;
                }
                Some(Err(ModelError::Retryable {
                    reason,
                    retry_after,
                    ..
                })) if failures + 1 < self.config.model.max_attempts => {
                    failures += 1;
                    let wait = backoff(failures, retry_after);
                    tracing::info!(%reason, failures, wait_ms = wait.as_millis() as u64, "model call failed; retrying");
                    metrics::counter!(metric::OPENAI_RETRIES_TOTAL).increment(1);
                    restart().await;
                    if !self.wait(wait, abort).await {
                        return Ok(Called::Aborted);
                    }
                }
                Some(Err(e)) => return Ok(Called::Failed(e)),
            }
        }
    }

    /// Sleeps for `wait` (the heartbeat keeps the lease meanwhile); false if aborted.
    async fn wait(&self, wait: Duration, abort: &CancellationToken) -> bool {
        tokio::select! {
            _ = abort.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }

    /// One request; text streams to the user's live clients as message.delta
    /// while the model writes (the stored answer carries the whole text).
    /// None when aborted; the flag says whether any text was streamed.
    async fn request(
        &self,
        messages: &[Message],
        now: &UserNow,
        turn: &Turn,
        abort: &CancellationToken,
    ) -> (Option<Result<Reply, ModelError>>, bool) {
        let (deltas, mut pieces) = tokio::sync::mpsc::unbounded_channel::<String>();
        let forward = {
            let broker = self.broker.clone();
            let user = turn.user_id.clone();
            let (message_id, conversation_id) = (turn.message_id, turn.conversation_id);
            tokio::spawn(async move {
                let mut streamed = false;
                while let Some(mut delta) = pieces.recv().await {
                    streamed = true;
                    // Pieces that arrived while the last one was published go
                    // out together: one publish per burst, not per token.
                    while let Ok(more) = pieces.try_recv() {
                        delta.push_str(&more);
                    }
                    let piece = Event::MessageDelta(MessageDelta {
                        message_id,
                        conversation_id,
                        delta,
                    });
                    broker.publish_transient(&user, &piece).await;
                }
                streamed
            })
        };
        let result = tokio::select! {
            _ = abort.cancelled() => None,
            r = self.model.complete_once(messages, &self.tools, Some(&deltas), now) => Some(r),
        };
        drop(deltas);
        // Deltas go out before the step that follows is announced.
        let streamed = forward.await.unwrap_or(true);
        (result, streamed)
    }
}

/// The answer when the model hit the output limit: what it wrote, and a
/// note that says so (also what did not happen, when a tool call was cut).
fn cut_short(content: Option<&str>, tool_call_cut: bool) -> String {
    let said = content.map(str::trim_end).filter(|c| !c.trim().is_empty());
    let note = match (said.is_some(), tool_call_cut) {
        (_, true) => {
            "(My answer was cut short while I was preparing a change to your tasks, \
             so nothing was changed. Try asking for less at once.)"
        }
        (true, false) => "(My answer was cut short: it reached the length limit for one answer.)",
        (false, false) => {
            "(My answer was cut short before I could say anything. Try asking for less at once.)"
        }
    };
    match said {
        Some(text) => format!("{text}\n\n{note}"),
        None => note.to_string(),
    }
}

/// The answer when the model keeps calling tools: say so, and what was done.
fn wrap_up(max_rounds: u32, steps: &[Message]) -> String {
    let mut lines = vec![format!(
        "I stopped after {max_rounds} rounds of tool use without finishing. What I did:"
    )];
    for m in steps.iter().filter(|m| m.tool_call_id.is_some()) {
        let v: Value = serde_json::from_str(&m.content).unwrap_or(Value::Null);
        let line = if let Some(err) = v["error"].as_str() {
            format!("- failed: {err}")
        } else if let (Some(status), Some(title)) = (v["status"].as_str(), v["title"].as_str()) {
            format!("- {status} \"{title}\" (task {})", v["task_id"])
        } else if let Some(list) = v.as_array() {
            format!("- looked at {} task(s)", list.len())
        } else {
            continue;
        };
        lines.push(line);
    }
    if lines.len() == 1 {
        lines.push("- nothing yet".into());
    }
    lines.join("\n")
}
