//! Chat completions over HTTP with async-openai's request types, sent by our
//! own client so we see status and headers (Retry-After, error codes) and
//! keep retries in one place. Responses are read leniently: servers that
//! speak "OpenAI-compatible" differ in small ways.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::limiter::{self, Limiter};
use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestSystemMessageContent, ChatCompletionRequestToolMessage,
    ChatCompletionRequestToolMessageContent, ChatCompletionRequestUserMessage,
    ChatCompletionRequestUserMessageContent, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionTools, CreateChatCompletionRequest, FunctionCall, FunctionObject,
};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use todo_common::config::Model as ModelConfig;
use todo_common::config::Secret;
use todo_common::llm::{Message, Reply, Role, ToolCall, Usage};
use todo_common::metric;
use todo_common::tools::ToolDefinition;
use tokio::sync::mpsc::UnboundedSender;

use super::ModelError;

const DEFAULT_BASE: &str = "https://api.openai.com/v1";

/// A streamed answer longer than this many characters per token of the
/// output limit is cut by us: the server ignored the limit (it reads the
/// other field, or none). Twice the usual four characters a token, so a
/// server that honours the limit always stops first.
const CHARS_PER_TOKEN_CAP: usize = 8;

pub struct OpenAiClient {
    http: reqwest::Client,
    url: String,
    key: Option<Secret>,
    model: String,
    /// Learns limits from headers and pauses everyone on a 429.
    limiter: Option<Limiter>,
    /// OPENAI_MAX_OUTPUT_TOKENS, sent in `limit_field` with every request.
    max_output_tokens: u32,
    limit_field: &'static str,
    timeouts: Timeouts,
}

/// The three clocks of one request (see docs/models.md): until the first
/// byte of the answer, between two pieces of it, and the whole call.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    first_byte: Duration,
    idle: Duration,
    total: Duration,
}

impl OpenAiClient {
    pub fn new(config: &ModelConfig, limiter: Option<Limiter>) -> Self {
        let base = config
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE)
            .trim_end_matches('/');
        Self {
            // No overall timeout here: a steady stream may take minutes;
            // `Timeouts` watches the request instead.
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client with static settings"),
            url: format!("{base}/chat/completions"),
            key: config.api_key.clone(),
            model: config.name.clone(),
            limiter,
            max_output_tokens: config.max_output_tokens,
            limit_field: config.output_limit_field(),
            timeouts: Timeouts {
                first_byte: config.first_byte_timeout,
                idle: config.idle_timeout,
                total: config.timeout,
            },
        }
    }

    /// The output limit every request carries (the limiter reserves it).
    pub fn max_output_tokens(&self) -> u32 {
        self.max_output_tokens
    }

    pub fn limiter(&self) -> Option<&Limiter> {
        self.limiter.as_ref()
    }

    /// Reads x-ratelimit-* headers: learn the limits, publish what remains,
    /// and pause everyone when a limit is used up until its reset.
    async fn observe(&self, headers: &HeaderMap) {
        let Some(limiter) = &self.limiter else { return };
        for (kind, key) in [("requests", limiter::REQUESTS), ("tokens", limiter::TOKENS)] {
            let number =
                |name: String| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
            if let Some(limit) = number(format!("x-ratelimit-limit-{kind}")) {
                let _ = limiter.learn(key, limit).await;
                metrics::gauge!(metric::OPENAI_RATELIMIT_LIMIT, "kind" => kind).set(limit);
            }
            if let Some(remaining) = number(format!("x-ratelimit-remaining-{kind}")) {
                metrics::gauge!(metric::OPENAI_RATELIMIT_REMAINING, "kind" => kind).set(remaining);
                let reset = headers
                    .get(format!("x-ratelimit-reset-{kind}"))
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_reset);
                if remaining < 1.0
                    && let Some(reset) = reset
                {
                    let _ = limiter.pause(reset).await;
                }
            }
        }
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// One chat completion. With `deltas`, the answer is streamed and each
    /// piece of text is sent there as it arrives (not for tool-call rounds).
    pub async fn complete(
        &self,
        messages: &[Message],
        tools: &[ToolDefinition],
        deltas: Option<&UnboundedSender<String>>,
    ) -> Result<Reply, ModelError> {
        let mut request = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: messages.iter().map(to_wire).collect(),
            tools: (!tools.is_empty()).then(|| tools.iter().map(tool_to_wire).collect()),
            stream: deltas.is_some().then_some(true),
            stream_options: deltas.is_some().then_some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        // One field, never both: OpenAI refuses the pair (docs/models.md).
        if self.limit_field == "max_tokens" {
            // Deprecated by OpenAI, but the field every local server reads.
            #[allow(deprecated)]
            {
                request.max_tokens = Some(self.max_output_tokens);
            }
        } else {
            request.max_completion_tokens = Some(self.max_output_tokens);
        }
        let mut req = self.http.post(&self.url).json(&request);
        if let Some(key) = &self.key {
            req = req.bearer_auth(key.expose());
        }
        let started = std::time::Instant::now();
        let mut clock = Clock::start(self.timeouts);
        let response = match tokio::time::timeout_at(clock.deadline(), req.send()).await {
            Err(_) => return Err(clock.expired()),
            Ok(sent) => sent.map_err(|e| ModelError::Retryable {
                reason: format!("could not reach the model ({})", e.without_url()),
                retry_after: None,
                rate_limited: false,
            })?,
        };
        let mut body = Body {
            response,
            clock: &mut clock,
        };
        let status = body.response.status();
        let headers = body.response.headers().clone();
        self.observe(&headers).await;
        let streamed = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if status.is_success()
            && streamed
            && let Some(deltas) = deltas
        {
            let cap = (self.max_output_tokens as usize).saturating_mul(CHARS_PER_TOKEN_CAP);
            let reply = read_stream(body, deltas, cap).await;
            metrics::histogram!(metric::OPENAI_REQUEST_DURATION_SECONDS)
                .record(started.elapsed().as_secs_f64());
            metrics::counter!(metric::OPENAI_REQUESTS_TOTAL, "status" => status.as_u16().to_string())
                .increment(1);
            return reply;
        }
        // Servers that ignore `stream` answer with plain JSON: read that.
        let mut bytes = Vec::new();
        while let Some(piece) = body.next().await? {
            bytes.extend_from_slice(&piece);
        }
        let body = String::from_utf8_lossy(&bytes);
        metrics::histogram!(metric::OPENAI_REQUEST_DURATION_SECONDS)
            .record(started.elapsed().as_secs_f64());
        metrics::counter!(metric::OPENAI_REQUESTS_TOTAL, "status" => status.as_u16().to_string())
            .increment(1);
        if !status.is_success() {
            let error = classify(status, &headers, &body);
            if let (
                ModelError::Retryable {
                    rate_limited: true,
                    retry_after,
                    ..
                },
                Some(limiter),
            ) = (&error, &self.limiter)
            {
                // One worker's 429 holds back all of them, until the server's reset.
                let _ = limiter
                    .pause(retry_after.unwrap_or(Duration::from_secs(1)))
                    .await;
            }
            return Err(error);
        }
        let value: Value = serde_json::from_str(&body).map_err(|_| ModelError::Retryable {
            reason: "the model answered with something that is not JSON".into(),
            retry_after: None,
            rate_limited: false,
        })?;
        parse_reply(&value)
    }
}

/// Which clock ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    FirstByte,
    Idle,
    Total,
}

/// The deadlines of one request: the first byte must come within
/// `first_byte` of the start, every later piece within `idle` of the one
/// before, and all of it within `total`. A model that keeps streaming is
/// only ever stopped by `total`.
struct Clock {
    timeouts: Timeouts,
    ceiling: tokio::time::Instant,
    next: tokio::time::Instant,
    started_answering: bool,
}

impl Clock {
    fn start(timeouts: Timeouts) -> Self {
        let now = tokio::time::Instant::now();
        let ceiling = now + timeouts.total;
        Self {
            timeouts,
            ceiling,
            next: (now + timeouts.first_byte).min(ceiling),
            started_answering: false,
        }
    }

    /// When the request gives up if nothing more arrives.
    fn deadline(&self) -> tokio::time::Instant {
        self.next
    }

    /// Something arrived: the idle clock starts again.
    fn alive(&mut self) {
        self.started_answering = true;
        self.next = (tokio::time::Instant::now() + self.timeouts.idle).min(self.ceiling);
    }

    fn expiry(&self) -> Expiry {
        if self.next >= self.ceiling {
            Expiry::Total
        } else if self.started_answering {
            Expiry::Idle
        } else {
            Expiry::FirstByte
        }
    }

    /// The deadline passed: a retryable error that says which clock ran out.
    fn expired(&self) -> ModelError {
        let secs = |d: Duration| d.as_secs();
        let (kind, reason) = match self.expiry() {
            Expiry::FirstByte => (
                "first_byte",
                format!(
                    "the model did not start answering within {} s",
                    secs(self.timeouts.first_byte)
                ),
            ),
            Expiry::Idle => (
                "idle",
                format!(
                    "the model's stream stalled (nothing for {} s)",
                    secs(self.timeouts.idle)
                ),
            ),
            Expiry::Total => (
                "total",
                format!(
                    "the model's answer took longer than {} s",
                    secs(self.timeouts.total)
                ),
            ),
        };
        metrics::counter!(metric::OPENAI_TIMEOUTS_TOTAL, "kind" => kind).increment(1);
        ModelError::Retryable {
            reason,
            retry_after: None,
            rate_limited: false,
        }
    }
}

/// A response body read piece by piece under the request's clock.
struct Body<'a> {
    response: reqwest::Response,
    clock: &'a mut Clock,
}

impl Body<'_> {
    /// The next piece; None at the end of the body.
    async fn next(&mut self) -> Result<Option<Vec<u8>>, ModelError> {
        match tokio::time::timeout_at(self.clock.deadline(), self.response.chunk()).await {
            Err(_) => Err(self.clock.expired()),
            Ok(Err(e)) => Err(ModelError::Retryable {
                reason: format!("the model's stream broke off ({})", e.without_url()),
                retry_after: None,
                rate_limited: false,
            }),
            Ok(Ok(piece)) => {
                if piece.is_some() {
                    self.clock.alive();
                }
                Ok(piece.map(|bytes| bytes.to_vec()))
            }
        }
    }
}

/// Reads an OpenAI-style SSE stream of `chat.completion.chunk`s into a
/// Reply, sending content pieces to `deltas` unless the round calls tools.
/// `finish_reason: "length"` marks the reply truncated; so does passing
/// `cap` characters, where we stop reading a server that ignores the limit.
async fn read_stream(
    mut body: Body<'_>,
    deltas: &UnboundedSender<String>,
    cap: usize,
) -> Result<Reply, ModelError> {
    let cut = |what: &str| ModelError::Retryable {
        reason: format!("the model's stream {what}"),
        retry_after: None,
        rate_limited: false,
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut content = String::new();
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    let mut tool_round = false;
    let mut usage = None;
    let mut done = false;
    let mut finished = false;
    let mut truncated = false;
    // Characters written so far (text and tool arguments), against `cap`.
    let mut written = 0usize;
    while !done {
        let Some(bytes) = body.next().await? else {
            break;
        };
        pending.extend_from_slice(&bytes);
        // Only whole lines are decoded, so a character split across chunks stays intact.
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end().strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if data == "[DONE]" {
                done = true;
                break;
            }
            let Ok(chunk) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
                usage = Some(Usage {
                    prompt_tokens: u["prompt_tokens"].as_u64().unwrap_or(0) as u32,
                    completion_tokens: u["completion_tokens"].as_u64().unwrap_or(0) as u32,
                });
            }
            for choice in chunk["choices"].as_array().into_iter().flatten() {
                match choice["finish_reason"].as_str() {
                    Some("length") => (finished, truncated) = (true, true),
                    Some(_) => finished = true,
                    None => {}
                }
                let delta = &choice["delta"];
                if let Some(parts) = delta["tool_calls"].as_array() {
                    tool_round = true;
                    for (i, part) in parts.iter().enumerate() {
                        let index = part["index"].as_u64().unwrap_or(i as u64);
                        let entry = calls.entry(index).or_default();
                        if let Some(id) = part["id"].as_str() {
                            entry.0 = id.to_string();
                        }
                        if let Some(name) = part["function"]["name"].as_str() {
                            entry.1.push_str(name);
                        }
                        match &part["function"]["arguments"] {
                            Value::String(a) => {
                                written += a.chars().count();
                                entry.2.push_str(a);
                            }
                            Value::Null => {}
                            other => entry.2.push_str(&other.to_string()),
                        }
                    }
                }
                if let Some(text) = delta["content"].as_str() {
                    written += text.chars().count();
                    content.push_str(text);
                    // Tool rounds are not streamed as text.
                    if !tool_round && !text.is_empty() {
                        let _ = deltas.send(text.to_string());
                    }
                }
            }
            if written > cap {
                // Far past the limit: the server did not apply it. Stop
                // reading (dropping the response closes the connection, so
                // the server stops writing) and keep what came, as if cut.
                tracing::info!(
                    chars = written,
                    "the model ignored the output limit; its answer was cut"
                );
                metrics::counter!(metric::OPENAI_OUTPUT_CUT_TOTAL).increment(1);
                (done, truncated) = (true, true);
                break;
            }
        }
    }
    if !done && !finished {
        // Neither [DONE] nor a finish_reason: the connection ended early.
        return Err(cut(if content.is_empty() && calls.is_empty() {
            "ended before an answer"
        } else {
            "ended before the answer was complete"
        }));
    }
    let tool_calls = calls
        .into_iter()
        .filter(|(_, (_, name, _))| !name.trim().is_empty())
        .map(|(i, (id, name, arguments))| ToolCall {
            id: if id.is_empty() {
                format!("call_{i}_{}", uuid::Uuid::new_v4().simple())
            } else {
                id
            },
            name: name.trim().to_string(),
            arguments,
        })
        .collect();
    Ok(Reply {
        content: Some(content).filter(|c| !c.trim().is_empty()),
        tool_calls,
        usage,
        truncated,
    })
}

fn to_wire(m: &Message) -> ChatCompletionRequestMessage {
    match m.role {
        Role::System => ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
            content: ChatCompletionRequestSystemMessageContent::Text(m.content.clone()),
            name: None,
        }),
        Role::User => ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
            content: ChatCompletionRequestUserMessageContent::Text(m.content.clone()),
            name: None,
        }),
        Role::Assistant => {
            #[allow(deprecated)]
            let message = ChatCompletionRequestAssistantMessage {
                // Always a string, never null: llama.cpp's server rejects a
                // null content beside tool_calls.
                content: Some(ChatCompletionRequestAssistantMessageContent::Text(
                    m.content.clone(),
                )),
                tool_calls: (!m.tool_calls.is_empty()).then(|| {
                    m.tool_calls
                        .iter()
                        .map(|c| {
                            ChatCompletionMessageToolCalls::Function(
                                ChatCompletionMessageToolCall {
                                    id: c.id.clone(),
                                    function: FunctionCall {
                                        name: c.name.clone(),
                                        arguments: c.arguments.clone(),
                                    },
                                },
                            )
                        })
                        .collect()
                }),
                ..Default::default()
            };
            ChatCompletionRequestMessage::Assistant(message)
        }
        Role::Tool => ChatCompletionRequestMessage::Tool(ChatCompletionRequestToolMessage {
            content: ChatCompletionRequestToolMessageContent::Text(m.content.clone()),
            tool_call_id: m.tool_call_id.clone().unwrap_or_default(),
        }),
    }
}

fn tool_to_wire(t: &ToolDefinition) -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: t.name.to_string(),
            description: Some(t.description.to_string()),
            parameters: Some(t.parameters.clone()),
            strict: None,
        },
    })
}

/// Maps an error response to retry policy. `insufficient_quota` arrives as
/// a 429 too, but no wait will fix it.
fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> ModelError {
    let error: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = error["error"]["code"]
        .as_str()
        .or(error["error"]["type"].as_str())
        .unwrap_or("");
    let message = error["error"]["message"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    if code == "insufficient_quota" {
        metrics::counter!(metric::OPENAI_QUOTA_EXHAUSTED_TOTAL).increment(1);
        return ModelError::QuotaExceeded;
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        if status == StatusCode::TOO_MANY_REQUESTS {
            metrics::counter!(metric::OPENAI_RATE_LIMITED_TOTAL).increment(1);
        }
        return ModelError::Retryable {
            reason: format!(
                "the model is unavailable right now (HTTP {})",
                status.as_u16()
            ),
            retry_after: retry_after(headers),
            rate_limited: status == StatusCode::TOO_MANY_REQUESTS,
        };
    }
    ModelError::Fatal(format!(
        "the model refused the request (HTTP {}: {message})",
        status.as_u16()
    ))
}

/// An x-ratelimit-reset-* value: "1s", "6m0s", "12ms", "1m30.5s", "2h3m".
pub(crate) fn parse_reset(text: &str) -> Option<Duration> {
    let mut total = 0.0f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (number, tail) = rest.split_at(split);
        let value: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        total += value
            * match unit {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                _ => return None,
            };
        rest = next;
    }
    (total.is_finite() && total >= 0.0).then(|| Duration::from_secs_f64(total))
}

/// `retry-after-ms` (OpenAI, milliseconds) or `retry-after` (seconds).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let read = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    if let Some(ms) = read("retry-after-ms").filter(|v| v.is_finite() && *v >= 0.0) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    read("retry-after")
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Reads the first choice leniently: content may be null, a string or text
/// parts; tool arguments may be a string or an object.
fn parse_reply(value: &Value) -> Result<Reply, ModelError> {
    let message = &value["choices"][0]["message"];
    if message.is_null() {
        return Err(ModelError::Retryable {
            reason: "the model's answer had no message".into(),
            retry_after: None,
            rate_limited: false,
        });
    }
    let content = match &message["content"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join(""),
        ),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty());
    let tool_calls = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .enumerate()
                .filter_map(|(i, call)| {
                    let name = call["function"]["name"].as_str()?.trim().to_string();
                    let arguments = match &call["function"]["arguments"] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    let id = call["id"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        // Some servers omit ids; make one that is stable within the reply.
                        .unwrap_or_else(|| format!("call_{i}_{}", uuid::Uuid::new_v4().simple()));
                    Some(ToolCall {
                        id,
                        name,
                        arguments,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let usage = value.get("usage").and_then(|u| {
        Some(Usage {
            prompt_tokens: u["prompt_tokens"].as_u64()? as u32,
            completion_tokens: u["completion_tokens"].as_u64().unwrap_or(0) as u32,
        })
    });
    Ok(Reply {
        content,
        tool_calls,
        usage,
        truncated: value["choices"][0]["finish_reason"] == "length",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_parsing_of_replies() {
        let v = json!({"choices": [{"message": {"content": null, "tool_calls": [
            {"id": "", "function": {"name": " add_task ", "arguments": {"title": "x"}}}]}}]});
        let r = parse_reply(&v).unwrap();
        assert_eq!(r.content, None);
        assert_eq!(r.tool_calls[0].name, "add_task");
        assert_eq!(r.tool_calls[0].arguments, r#"{"title":"x"}"#);
        assert!(r.tool_calls[0].id.starts_with("call_0_"));
        let v = json!({"choices": [{"message": {"content": [{"type": "text", "text": "hi"}]}}]});
        assert_eq!(parse_reply(&v).unwrap().content.as_deref(), Some("hi"));
        assert!(parse_reply(&json!({"choices": []})).is_err());
    }

    #[test]
    fn finish_reason_length_marks_a_reply_truncated() {
        let v = json!({"choices": [{"message": {"content": "a long"}, "finish_reason": "length"}]});
        assert!(parse_reply(&v).unwrap().truncated);
        let v = json!({"choices": [{"message": {"content": "done"}, "finish_reason": "stop"}]});
        assert!(!parse_reply(&v).unwrap().truncated);
    }

    #[test]
    fn the_clock_says_which_deadline_ran_out() {
        let secs = Duration::from_secs;
        let timeouts = |first, idle, total| Timeouts {
            first_byte: secs(first),
            idle: secs(idle),
            total: secs(total),
        };
        let before = tokio::time::Instant::now();
        let mut clock = Clock::start(timeouts(60, 30, 300));
        assert!(clock.deadline() >= before + secs(60));
        assert!(clock.deadline() <= tokio::time::Instant::now() + secs(60));
        assert_eq!(clock.expiry(), Expiry::FirstByte);
        // A piece arrived: from now on the idle timeout applies.
        clock.alive();
        assert!(clock.deadline() <= tokio::time::Instant::now() + secs(30));
        assert_eq!(clock.expiry(), Expiry::Idle);
        // Neither goes past the ceiling.
        let mut clock = Clock::start(timeouts(60, 30, 10));
        assert_eq!(clock.expiry(), Expiry::Total);
        clock.alive();
        assert_eq!(clock.expiry(), Expiry::Total);
        let ModelError::Retryable { reason, .. } = clock.expired() else {
            panic!("timeouts are retryable");
        };
        assert!(reason.contains("10 s"), "{reason}");
    }

    #[test]
    fn quota_is_not_retryable_but_rate_limits_are() {
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", "1500".parse().unwrap());
        let e = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            r#"{"error":{"code":"rate_limit_exceeded"}}"#,
        );
        assert!(
            matches!(e, ModelError::Retryable { retry_after: Some(d), .. } if d == Duration::from_millis(1500))
        );
        let e = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            r#"{"error":{"code":"insufficient_quota"}}"#,
        );
        assert!(matches!(e, ModelError::QuotaExceeded));
        let e = classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), "{}");
        assert!(matches!(e, ModelError::Fatal(_)));
        let e = classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), "<html>");
        assert!(matches!(
            e,
            ModelError::Retryable {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn reset_durations_parse_like_openai_writes_them() {
        assert_eq!(parse_reset("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_reset("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_reset("12ms"), Some(Duration::from_millis(12)));
        assert_eq!(parse_reset("1m30.5s"), Some(Duration::from_millis(90_500)));
        assert_eq!(parse_reset("2h3m"), Some(Duration::from_secs(7380)));
        assert_eq!(parse_reset(""), None);
        assert_eq!(parse_reset("soon"), None);
        assert_eq!(parse_reset("5x"), None);
    }

    #[test]
    fn assistant_content_is_never_null_on_the_wire() {
        let mut m = Message::assistant("");
        m.tool_calls.push(ToolCall {
            id: "c1".into(),
            name: "list_tasks".into(),
            arguments: "{}".into(),
        });
        let wire = serde_json::to_value(to_wire(&m)).unwrap();
        assert_eq!(wire["content"], "");
        assert_eq!(wire["tool_calls"][0]["type"], "function");
    }
}
