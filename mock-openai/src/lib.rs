//! `mock-openai`: a real HTTP server speaking the OpenAI chat-completions
//! protocol, answered by the built-in offline assistant
//! ([`todo_assistant`]), with switchable misbehaviour and queued
//! failures, for tests and benchmarks.
//!
//! Routes:
//! - `POST /v1/chat/completions` (also `/chat/completions`), streaming or not
//! - `GET /v1/models`
//! - `POST /_mock/config`, `GET /_mock/config`: latency, [`Behaviour`] and
//!   rate limits ([`MockConfig`])
//! - `POST /_mock/fail`: queue [`Failure`]s (one object or an array)
//! - `GET /_mock/stats`: [`Stats`]
//! - `POST /_mock/reset`: back to a fresh state
//!
//! A test in the same process can also script a model's next replies
//! ([`MockState::script`]): what a real model may do that the offline
//! assistant never does (several changes of one task in one call).
//!
//! Real servers' ways with long answers are there too (issue 11): a model
//! that rambles until the output limit ([`Behaviour::Ramble`]), servers that
//! read only one of the two limit fields ([`LimitFields`]), answers cut at
//! the limit with `finish_reason: "length"` (mid-argument for tool calls),
//! tool arguments streamed a character at a time, a stream that stalls
//! after N chunks ([`Failure::stall_after_chunks`]) and a late first byte
//! ([`Failure::hang_ms`]).
//!
//! Rate limits work like OpenAI's: with `rpm` and/or `tpm` set, each limit is
//! a token bucket holding a minute's worth that refills continuously; a
//! completion request that does not fit gets a 429 (`rate_limit_exceeded`)
//! with `retry-after-ms`/`retry-after`, and every completion response carries
//! the `x-ratelimit-*` headers of the limits that are set.

mod faults;
mod limit;
mod wire;

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use todo_common::llm::{Message, Reply, Role, ToolCall, Usage};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::io::ReaderStream;
use uuid::Uuid;

pub use faults::LimitFields;
use limit::{Limits, Refusal, Snapshot, format_duration};
use wire::{ChatRequest, Header};

/// How the mock answers well-formed completion requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// The offline assistant's answer, unchanged.
    #[default]
    Normal,
    /// Tool calls keep their name but get broken JSON (`{"title": `) as
    /// arguments. Text answers are unchanged.
    MalformedArgs,
    /// Tool calls are replaced by one call of `launch_rockets` with `{}`.
    /// Text answers are unchanged, so a conversation can still end.
    UnknownTool,
    /// Always a `list_tasks` call, never text: the agent must cap its rounds.
    LoopTools,
    /// Always the text "Sure, noted." without tool calls.
    PlainText,
    /// Text that goes on and on, until the output limit the request set
    /// (as [`MockConfig::reads_limit_from`] reads it) or, with none, for
    /// 16,384 tokens; either way it ends with `finish_reason: "length"`.
    Ramble,
    /// Tool calls written into the text as a ```` ```json ```` block of
    /// `{"name", "arguments"}` instead of `tool_calls`, as small local
    /// models do when the server does not parse their format.
    ToolCallsAsText,
}

/// Settings that apply to every completion request until changed. Setting
/// a new configuration replaces all of it (omitted fields take their
/// defaults) and takes effect for the next request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockConfig {
    /// Sleep this long before answering.
    #[serde(default)]
    pub latency_ms: u64,
    /// Pause between the chunks of a streamed answer, as a model writing at
    /// a human-visible pace does (0: as fast as the connection goes).
    #[serde(default)]
    pub chunk_delay_ms: u64,
    /// How to answer (the American spelling `behavior` is accepted too).
    #[serde(default, alias = "behavior")]
    pub behaviour: Behaviour,
    /// Requests per minute; `None` (the default) is unlimited. Each
    /// completion request costs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens per minute; `None` (the default) is unlimited. A completion
    /// request reserves its estimated prompt tokens plus `max_tokens`
    /// (`max_completion_tokens`), corrected to the real completion size once
    /// answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Which request fields set the output limit. An answer longer than
    /// the limit is cut there, mid-word or mid-argument, with
    /// `finish_reason: "length"`, as real servers do.
    #[serde(default, skip_serializing_if = "LimitFields::is_either")]
    pub reads_limit_from: LimitFields,
    /// Characters of tool-call arguments per streamed chunk (0: 16). 1
    /// splits them as finely as a slow local model streams them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tool_args_chunk_chars: u32,
    /// The context window: a request whose estimated prompt plus output
    /// limit exceeds it is refused with OpenAI's 400
    /// `context_length_exceeded` (llama.cpp refuses the same way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl MockConfig {
    /// Problems that make the configuration meaningless, for the admin API.
    fn check(&self) -> Result<(), String> {
        for (name, limit) in [
            ("rpm", self.rpm),
            ("tpm", self.tpm),
            ("context_tokens", self.context_tokens),
        ] {
            if limit == Some(0) {
                return Err(format!(
                    "{name} must be at least 1 (leave it out or null for no limit)"
                ));
            }
        }
        Ok(())
    }
}

/// The next `count` completion requests fail (or are slow) this way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// HTTP status to answer with (400-599). `None` with `hang_ms`: a slow
    /// success.
    #[serde(default)]
    pub status: Option<u16>,
    /// How many consecutive requests this applies to (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// Sent as `retry-after-ms` and (rounded up to seconds) `retry-after`.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// The error `code`, e.g. `rate_limit_exceeded` or `insufficient_quota`.
    #[serde(default)]
    pub code: Option<String>,
    /// Sleep this long before answering (to trip client timeouts).
    #[serde(default)]
    pub hang_ms: Option<u64>,
    /// A streamed answer sends this many chunks, then falls silent with
    /// the connection open (a stalled model) until the client gives up.
    /// Without `stream`, nothing is sent at all.
    #[serde(default)]
    pub stall_after_chunks: Option<u32>,
}

fn one() -> u32 {
    1
}

impl Default for Failure {
    fn default() -> Self {
        Self {
            status: None,
            count: 1,
            retry_after_ms: None,
            code: None,
            hang_ms: None,
            stall_after_chunks: None,
        }
    }
}

impl Failure {
    /// One failure with this HTTP status.
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    /// One slow success: answer normally after `ms`.
    pub fn hang(ms: u64) -> Self {
        Self {
            hang_ms: Some(ms),
            ..Self::default()
        }
    }

    /// Applies to the next `count` requests.
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Adds `retry-after-ms`/`retry-after` headers.
    pub fn retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// One stalled answer: `chunks` streamed chunks, then silence.
    pub fn stall_after(chunks: u32) -> Self {
        Self {
            stall_after_chunks: Some(chunks),
            ..Self::default()
        }
    }

    /// Sets the error `code` (e.g. `insufficient_quota`).
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Problems that make the entry meaningless, for the admin API.
    fn check(&self) -> Result<(), String> {
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(format!("status must be 400-599, not {status}"));
        }
        if self.status.is_none() && self.hang_ms.is_none() && self.stall_after_chunks.is_none() {
            return Err("a failure needs a status, a hang_ms or a stall_after_chunks".to_string());
        }
        if self.status.is_some() && self.stall_after_chunks.is_some() {
            return Err("a stall is a successful answer: it takes no status".to_string());
        }
        Ok(())
    }
}

/// What the mock has seen since it started (or was reset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Completion requests received, whatever their outcome.
    pub requests: u64,
    /// Completion responses by HTTP status ("200", "429", ...).
    pub by_status: BTreeMap<String, u64>,
    /// The body of the last completion request (null when it was not JSON).
    pub last_request: Option<Value>,
    /// Requests refused with 429 because of `rpm`/`tpm` (also counted in
    /// `by_status`; injected 429s are not counted here).
    #[serde(default)]
    pub rate_limited: u64,
    /// Completion requests being answered right now (from arrival until the
    /// response starts, so the configured latency is inside).
    #[serde(default)]
    pub in_flight: u64,
    /// The most completion requests ever in flight at once: how many turns a
    /// worker really held against a slow model (issue 11).
    #[serde(default)]
    pub peak_in_flight: u64,
}

#[derive(Debug, Default)]
struct Inner {
    config: MockConfig,
    failures: VecDeque<Failure>,
    /// Replies to give before the offline assistant's, in order.
    scripted: VecDeque<Reply>,
    stats: Stats,
    limits: Limits,
}

impl Inner {
    fn with_config(config: MockConfig) -> Self {
        let mut inner = Self::default();
        inner.set_config(config);
        inner
    }

    fn set_config(&mut self, config: MockConfig) {
        self.config = config;
        self.limits
            .configure(config.rpm, config.tpm, Instant::now());
    }

    fn record(&mut self, status: StatusCode) {
        *self
            .stats
            .by_status
            .entry(status.as_u16().to_string())
            .or_default() += 1;
    }
}

/// The mock's shared, mutable state; clones share it. Tests drive it
/// in-process with these methods or over HTTP with the admin API.
#[derive(Debug, Clone, Default)]
pub struct MockState {
    inner: Arc<Mutex<Inner>>,
    /// The configuration it started with, restored by [`MockState::reset`].
    initial: MockConfig,
}

impl MockState {
    /// Normal behaviour, no latency, no rate limits, no failures queued.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts with `config` (and comes back to it on reset), e.g. rate
    /// limits from the environment.
    pub fn with_config(config: MockConfig) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner::with_config(config))),
            initial: config,
        }
    }

    /// A panicking holder cannot leave the state half-written in a way that
    /// matters here, so a poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the configuration. Rate limits take effect at once: a limit
    /// that is unchanged keeps its bucket, a new one starts full, a changed
    /// one keeps what was used in the rolling minute (so shrinking it can
    /// refuse the very next request).
    pub fn set_config(&self, config: MockConfig) {
        self.lock().set_config(config);
    }

    /// The configuration in effect.
    pub fn config(&self) -> MockConfig {
        self.lock().config
    }

    /// Queues a failure behind those already queued; `count: 0` is a no-op.
    pub fn push_failure(&self, failure: Failure) {
        if failure.count > 0 {
            self.lock().failures.push_back(failure);
        }
    }

    /// Queues `reply` as the answer to a coming completion request (one
    /// each, in order, before the offline assistant answers again). The
    /// configured misbehaviour still applies to it.
    pub fn script(&self, reply: Reply) {
        self.lock().scripted.push_back(reply);
    }

    fn next_scripted(&self) -> Option<Reply> {
        self.lock().scripted.pop_front()
    }

    /// How many failing requests are still queued.
    pub fn pending_failures(&self) -> u64 {
        self.lock()
            .failures
            .iter()
            .map(|f| u64::from(f.count))
            .sum()
    }

    /// A snapshot of what has been seen so far.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Clears queued failures and scripted replies, stats and rate-limit
    /// usage, and restores the initial configuration (the default unless
    /// made with [`MockState::with_config`]).
    pub fn reset(&self) {
        *self.lock() = Inner::with_config(self.initial);
    }

    /// Counts a request and takes the failure (if any) meant for it, both at
    /// arrival so concurrent requests consume the queue in order.
    fn arrive(&self, body: Option<&Value>) -> (MockConfig, Option<Failure>) {
        let mut inner = self.lock();
        inner.stats.requests += 1;
        inner.stats.last_request = body.cloned();
        let failure = match inner.failures.front_mut() {
            Some(front) if front.count > 1 => {
                front.count -= 1;
                Some(front.clone())
            }
            Some(_) => inner.failures.pop_front(),
            None => None,
        };
        (inner.config, failure)
    }

    fn record(&self, status: StatusCode) {
        self.lock().record(status);
    }

    /// Counts a completion request in flight until the guard is dropped.
    fn busy(&self) -> Busy {
        let mut inner = self.lock();
        inner.stats.in_flight += 1;
        inner.stats.peak_in_flight = inner.stats.peak_in_flight.max(inner.stats.in_flight);
        Busy(self.clone())
    }

    /// The rate limits' state, nothing taken.
    fn limits(&self) -> Snapshot {
        self.lock().limits.snapshot(Instant::now())
    }

    /// Takes one request and `tokens` tokens from the rate limits, or
    /// counts the refusal (a 429) and takes nothing.
    fn admit(&self, tokens: u64) -> Result<Snapshot, Refusal> {
        let mut inner = self.lock();
        let admitted = inner.limits.admit(tokens, Instant::now());
        if admitted.is_err() {
            inner.stats.rate_limited += 1;
            inner.record(StatusCode::TOO_MANY_REQUESTS);
        }
        admitted
    }

    fn correct_tokens(&self, reserved: u64, actual: u64) {
        self.lock()
            .limits
            .correct_tokens(reserved, actual, Instant::now());
    }
}

/// One completion request in flight (see [`Stats::in_flight`]).
struct Busy(MockState);

impl Drop for Busy {
    fn drop(&mut self) {
        // Saturating: a reset while requests were in flight zeroed the count.
        let mut inner = self.0.lock();
        inner.stats.in_flight = inner.stats.in_flight.saturating_sub(1);
    }
}

/// Serves the mock on `listener` until the listener fails.
pub async fn serve(listener: TcpListener, state: MockState) -> std::io::Result<()> {
    axum::serve(nodelay(listener), router(state)).await
}

/// Streamed answers are many small writes; with Nagle's algorithm each one
/// after the first waits for the client's delayed ACK (up to 40 ms), which
/// real servers do not impose.
fn nodelay(listener: TcpListener) -> impl axum::serve::Listener<Addr = std::net::SocketAddr> {
    listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    })
}

/// Serves the mock until `shutdown` completes, then drains connections.
pub async fn serve_with_shutdown<F>(
    listener: TcpListener,
    state: MockState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(nodelay(listener), router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Long conversations are sent whole on every round.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// No test needs to wait longer; it also keeps timer arithmetic in range.
const MAX_SLEEP_MS: u64 = 24 * 60 * 60 * 1000;

/// The routes, for embedding the mock in another server or test.
pub fn router(state: MockState) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/chat/completions", post(completions))
        .route("/v1/models", get(models))
        .route("/models", get(models))
        .route("/_mock/config", post(set_config).get(get_config))
        .route("/_mock/fail", post(fail))
        .route("/_mock/stats", get(stats))
        .route("/_mock/reset", post(reset))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn completions(State(state): State<MockState>, body: Bytes) -> Response {
    let _busy = state.busy();
    let parsed = serde_json::from_slice::<Value>(&body);
    let (config, failure) = state.arrive(parsed.as_ref().ok());
    let wait = config
        .latency_ms
        .saturating_add(failure.as_ref().and_then(|f| f.hang_ms).unwrap_or(0));

    if let Some(failure) = &failure
        && let Some(status) = failure.status.and_then(|s| StatusCode::from_u16(s).ok())
        && (status.is_client_error() || status.is_server_error())
    {
        state.record(status);
        sleep(wait).await;
        tracing::debug!(status = status.as_u16(), "injected failure");
        return with_limits(failure_response(failure, status), &state.limits());
    }

    let request = match parsed
        .map_err(|e| format!("We could not parse the JSON body of your request: {e}."))
        .and_then(|body| wire::parse_request(&body))
    {
        Ok(request) => request,
        Err(message) => {
            state.record(StatusCode::BAD_REQUEST);
            sleep(wait).await;
            return with_limits(invalid_request(&message), &state.limits());
        }
    };

    // Rate limits, like OpenAI: the prompt estimate plus the most the
    // completion may use, corrected below once the real size is known.
    let reserved = request.max_tokens.unwrap_or(0);
    let prompt = wire::prompt_tokens(&request.messages);
    let estimate = prompt.saturating_add(reserved);
    if let Some(window) = config.context_tokens
        && estimate > window
    {
        state.record(StatusCode::BAD_REQUEST);
        sleep(wait).await;
        let message = format!(
            "This model's maximum context length is {window} tokens. However, you requested \
             {estimate} tokens ({prompt} in the messages, {reserved} in the completion). \
             Please reduce the length of the messages or completion."
        );
        return with_limits(
            invalid_request_coded(&message, Some("context_length_exceeded")),
            &state.limits(),
        );
    }
    let limits = match state.admit(estimate) {
        Ok(limits) => limits,
        Err(refusal) => {
            tracing::debug!(kind = refusal.kind.name(), "rate limited");
            return rate_limited(&refusal, &request.model);
        }
    };

    let reply = state
        .next_scripted()
        .unwrap_or_else(|| as_a_model(&request.messages));
    let reply = faults::apply_limit(
        misbehave(config.behaviour, reply),
        config.reads_limit_from.limit(&request),
    );
    let usage = wire::estimate_usage(&request.messages, &reply);
    state.correct_tokens(reserved, u64::from(usage.completion_tokens));
    state.record(StatusCode::OK);
    sleep(wait).await;
    with_limits(
        answer(
            &request,
            &reply,
            usage,
            Pacing {
                chunk_delay_ms: config.chunk_delay_ms,
                arg_chunk_chars: match config.tool_args_chunk_chars {
                    0 => 16,
                    n => n as usize,
                },
                stall_after_chunks: failure.as_ref().and_then(|f| f.stall_after_chunks),
            },
        ),
        &limits,
    )
}

/// Adds the `x-ratelimit-*` headers of the limits that are set.
fn with_limits(mut response: Response, limits: &Snapshot) -> Response {
    limits.apply(response.headers_mut());
    response
}

/// OpenAI's 429 for a request the rate limits refuse.
fn rate_limited(refusal: &Refusal, model: &str) -> Response {
    let kind = refusal.kind;
    let message = match refusal.retry_after_ms {
        Some(ms) => format!(
            "Rate limit reached for {} for model {model} on the mock server: Limit {}, \
             Used {}, Requested {}. Please try again in {}.",
            kind.per_minute(),
            refusal.limit,
            refusal.used,
            refusal.requested,
            format_duration(ms),
        ),
        None => format!(
            "Request too large for {} for model {model} on the mock server: Limit {}, \
             Requested {}. The input or output tokens must be reduced in order to run \
             successfully.",
            kind.per_minute(),
            refusal.limit,
            refusal.requested,
        ),
    };
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        wire::error_body(&message, kind.name(), Some("rate_limit_exceeded")),
    );
    if let Some(ms) = refusal.retry_after_ms {
        retry_headers(&mut response, ms);
    }
    with_limits(response, &refusal.snapshot)
}

fn retry_headers(response: &mut Response, ms: u64) {
    let headers = response.headers_mut();
    headers.insert("retry-after-ms", HeaderValue::from(ms));
    headers.insert(header::RETRY_AFTER, HeaderValue::from(ms.div_ceil(1000)));
}

async fn sleep(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms.min(MAX_SLEEP_MS))).await;
    }
}

fn call_id() -> String {
    let hex = Uuid::new_v4().simple().to_string();
    format!("call_{}", hex.get(..24).unwrap_or(&hex))
}

/// What the offline assistant answers, reading the user's words and their
/// clock from the stamped message as a model would (UTC now without one).
fn as_a_model(messages: &[Message]) -> Reply {
    let mut messages = messages.to_vec();
    let mut now = Utc::now().naive_utc();
    if let Some(last) = messages.iter_mut().rev().find(|m| m.role == Role::User)
        && let Some((words, at)) = todo_common::llm::read_stamp(&last.content)
    {
        now = at;
        last.content = words.to_string();
    }
    todo_assistant::respond_at(&messages, now)
}

/// Applies the configured misbehaviour to the offline assistant's reply.
fn misbehave(behaviour: Behaviour, reply: Reply) -> Reply {
    let one_call = |name: &str, arguments: &str| Reply {
        content: None,
        tool_calls: vec![ToolCall {
            id: call_id(),
            name: name.to_string(),
            arguments: arguments.to_string(),
        }],
        ..Reply::default()
    };
    match behaviour {
        Behaviour::Normal => reply,
        Behaviour::MalformedArgs => Reply {
            tool_calls: reply
                .tool_calls
                .into_iter()
                .map(|call| ToolCall {
                    arguments: "{\"title\": ".to_string(),
                    ..call
                })
                .collect(),
            ..reply
        },
        Behaviour::UnknownTool if reply.tool_calls.is_empty() => reply,
        Behaviour::UnknownTool => one_call("launch_rockets", "{}"),
        Behaviour::LoopTools => one_call("list_tasks", "{\"status\":\"pending\"}"),
        Behaviour::PlainText => Reply {
            content: Some("Sure, noted.".to_string()),
            ..Reply::default()
        },
        Behaviour::Ramble => Reply {
            content: Some(faults::ramble(faults::RAMBLE_MAX_TOKENS)),
            // A model that never stops has used up its context.
            truncated: true,
            ..Reply::default()
        },
        Behaviour::ToolCallsAsText if reply.tool_calls.is_empty() => reply,
        Behaviour::ToolCallsAsText => {
            let calls: Vec<Value> = reply
                .tool_calls
                .iter()
                .map(|c| {
                    let arguments: Value =
                        serde_json::from_str(&c.arguments).unwrap_or(Value::Null);
                    serde_json::json!({"name": c.name, "arguments": arguments})
                })
                .collect();
            let body = match calls.as_slice() {
                [one] => one.to_string(),
                _ => Value::Array(calls).to_string(),
            };
            Reply {
                content: Some(format!("```json\n{body}\n```")),
                ..Reply::default()
            }
        }
    }
}

/// How a streamed answer goes out.
struct Pacing {
    chunk_delay_ms: u64,
    arg_chunk_chars: usize,
    /// Stop writing after this many chunks and hold the connection open.
    stall_after_chunks: Option<u32>,
}

/// How long a stalled answer keeps its connection open at most.
const STALL_MS: u64 = 10 * 60 * 1000;

fn answer(request: &ChatRequest, reply: &Reply, usage: Usage, pacing: Pacing) -> Response {
    let id = format!("chatcmpl-{}", Uuid::new_v4().simple());
    let header = Header {
        id: &id,
        created: Utc::now().timestamp(),
        model: &request.model,
    };
    let Pacing {
        chunk_delay_ms,
        arg_chunk_chars,
        stall_after_chunks,
    } = pacing;
    if !request.stream && stall_after_chunks.is_none() {
        return json_response(StatusCode::OK, wire::completion(&header, reply, usage));
    }
    let mut events = if request.stream {
        wire::stream_events(
            &header,
            reply,
            request.include_usage.then_some(usage),
            arg_chunk_chars,
        )
    } else {
        Vec::new()
    };
    if let Some(chunks) = stall_after_chunks {
        events.truncate(chunks as usize);
    }
    // The events go through a pipe so the client receives them as a real
    // chunked stream rather than one body.
    let (mut writer, reader) = tokio::io::duplex(16 * 1024);
    tokio::spawn(async move {
        for event in events {
            if writer.write_all(event.as_bytes()).await.is_err() {
                return; // the client went away
            }
            if chunk_delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(chunk_delay_ms)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
        if stall_after_chunks.is_some() {
            // Silence with the connection open, until the client leaves (an
            // empty write fails once the response is dropped).
            let until = Instant::now() + Duration::from_millis(STALL_MS);
            while Instant::now() < until && writer.write(&[]).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(ReaderStream::new(reader)),
    )
        .into_response()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn invalid_request(message: &str) -> Response {
    invalid_request_coded(message, None)
}

/// OpenAI's 400, with the `code` some refusals carry.
fn invalid_request_coded(message: &str, code: Option<&str>) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        wire::error_body(message, "invalid_request_error", code),
    )
}

fn failure_response(failure: &Failure, status: StatusCode) -> Response {
    let code = failure.code.as_deref();
    let body = match status.as_u16() {
        429 if code == Some("insufficient_quota") => wire::error_body(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            Some("insufficient_quota"),
        ),
        429 => {
            let wait = failure
                .retry_after_ms
                .map_or_else(|| "1s".to_string(), |ms| format!("{ms}ms"));
            wire::error_body(
                &format!(
                    "Rate limit reached for requests on the mock server: Limit 1, Used 1, \
                     Requested 1. Please try again in {wait}."
                ),
                "requests",
                Some(code.unwrap_or("rate_limit_exceeded")),
            )
        }
        401 => wire::error_body(
            "Incorrect API key provided. You can find your API key at \
             https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Some(code.unwrap_or("invalid_api_key")),
        ),
        404 => wire::error_body(
            "The model does not exist or you do not have access to it.",
            "invalid_request_error",
            Some(code.unwrap_or("model_not_found")),
        ),
        s if s >= 500 => wire::error_body(
            "The server had an error while processing your request.",
            "server_error",
            code,
        ),
        s => wire::error_body(
            &format!("The mock was told to fail this request with status {s}."),
            "invalid_request_error",
            code,
        ),
    };
    let mut response = json_response(status, body);
    if let Some(ms) = failure.retry_after_ms {
        retry_headers(&mut response, ms);
    }
    response
}

async fn models() -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "object": "list",
            "data": [{"id": "mock-gpt", "object": "model", "created": 0, "owned_by": "mock-openai"}],
        }),
    )
}

async fn set_config(State(state): State<MockState>, body: Bytes) -> Response {
    match serde_json::from_slice::<MockConfig>(&body)
        .map_err(|e| e.to_string())
        .and_then(|config| config.check().map(|()| config))
    {
        Ok(config) => {
            state.set_config(config);
            json_response(StatusCode::OK, json!(config))
        }
        Err(e) => invalid_request(&format!("Invalid mock config: {e}.")),
    }
}

async fn get_config(State(state): State<MockState>) -> Response {
    json_response(StatusCode::OK, json!(state.config()))
}

/// One failure object or an array of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum FailureBody {
    One(Failure),
    Many(Vec<Failure>),
}

async fn fail(State(state): State<MockState>, body: Bytes) -> Response {
    let failures = match serde_json::from_slice::<FailureBody>(&body) {
        Ok(FailureBody::One(failure)) => vec![failure],
        Ok(FailureBody::Many(failures)) => failures,
        Err(_) => {
            // The untagged error says nothing useful; try again for a reason.
            let reason = serde_json::from_slice::<Failure>(&body)
                .err()
                .map_or_else(|| "expected an object".to_string(), |e| e.to_string());
            return invalid_request(&format!("Invalid mock failure: {reason}."));
        }
    };
    if let Some(problem) = failures.iter().find_map(|f| f.check().err()) {
        return invalid_request(&format!("Invalid mock failure: {problem}."));
    }
    for failure in failures {
        state.push_failure(failure);
    }
    json_response(StatusCode::OK, json!({"queued": state.pending_failures()}))
}

async fn stats(State(state): State<MockState>) -> Response {
    json_response(StatusCode::OK, json!(state.stats()))
}

async fn reset(State(state): State<MockState>) -> Response {
    state.reset();
    json_response(StatusCode::OK, json!({"reset": true}))
}

async fn not_found(method: Method, uri: Uri) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        wire::error_body(
            &format!("Invalid URL ({method} {})", uri.path()),
            "invalid_request_error",
            None,
        ),
    )
}
