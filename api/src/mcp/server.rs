//! The MCP methods. One `TodoMcp` serves one session (protocol versions
//! with `initialize`) or one request (2026-07-28). The caller is the
//! identity the guard put on the HTTP request, never anything in the
//! message, and every tool runs through `tools::call_alone`: the same tools,
//! validation and results as the chat assistant, and the same events and
//! live notices as every other door.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use crate::auth::{Identity, TokenDigest};
use axum::http::request::Parts;
use parking_lot::Mutex;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Extensions,
    Implementation, InitializeRequestParams, InitializeResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ResourceUpdatedNotificationParam,
    ServerCapabilities, ServerConfig, SubscribeRequestParams, SubscriptionFilter, ToolAnnotations,
    UnsubscribeRequestParams,
};
// Logging is retired by SEP-2577 (protocol 2026-07-28); sessions of every
// client today still have it, and it is how they hear of a reminder.
#[allow(deprecated)]
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam, SetLevelRequestParams};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use todo_common::tools::{self, Output, Tool};
use tokio_util::sync::DropGuard;
use tracing::Instrument;

use super::resources::{self, LISTS, REMINDERS, Watch};
use crate::middleware::observe::REQUEST_ID;
use crate::state::AppState;
use todo_common::metric;

pub(super) struct TodoMcp {
    state: AppState,
    /// Resources this session subscribed to (`resources/subscribe`).
    subscribed: Arc<Mutex<HashSet<String>>>,
    /// Set while the session's watch runs; dropping the handler (the
    /// session ended) stops it. The watch clears it when it ends by itself
    /// (its token was logged out or expired), so a subscribe with a newer
    /// token starts another.
    watching: Arc<Mutex<Option<DropGuard>>>,
    /// The rank of the session's `logging/setLevel` (`notice` until set);
    /// reminders are sent at `notice`.
    level: Arc<AtomicU8>,
}

impl TodoMcp {
    pub(super) fn new(state: AppState) -> Self {
        Self {
            state,
            subscribed: Arc::default(),
            watching: Arc::default(),
            level: Arc::new(AtomicU8::new(NOTICE)),
        }
    }

    /// Starts the session's watch unless it runs: it sends resource updates
    /// for what the session subscribed to, and fired reminders as log
    /// messages. Started before the request is answered, so a change right
    /// after the answer is seen. It ends with this request's token (the
    /// guard closes the session when the opening token ends; they may differ).
    #[allow(deprecated)] // logging: see `set_level`
    async fn watch(&self, context: &RequestContext<RoleServer>) -> Result<(), McpError> {
        if self.watching.lock().is_some() {
            return Ok(());
        }
        let (who, digest) = credentials(&context.extensions)?;
        let mut watch = Watch::start(&self.state, &who, digest)
            .await
            .map_err(unavailable)?;
        let stop = self.state.shutdown.child_token();
        let mut watching = self.watching.lock();
        if watching.is_some() {
            return Ok(()); // a concurrent request got there first
        }
        *watching = Some(stop.clone().drop_guard());
        drop(watching);
        let subscribed = self.subscribed.clone();
        let level = self.level.clone();
        let peer = context.peer.clone();
        let slot = self.watching.clone();
        tokio::spawn(async move {
            'watch: while let Some(news) = watch.changed(&stop).await {
                if level.load(Ordering::Relaxed) <= NOTICE {
                    for reminder in &news.reminders {
                        let message = LoggingMessageNotificationParam::new(
                            LoggingLevel::Notice,
                            serde_json::to_value(reminder).unwrap_or_default(),
                        )
                        .with_logger("reminder.due");
                        if peer.notify_logging_message(message).await.is_err() {
                            break 'watch; // the session is gone
                        }
                    }
                }
                let uris: Vec<String> = subscribed.lock().iter().cloned().collect();
                for uri in uris.into_iter().filter(|uri| news.updates(uri)) {
                    let param = ResourceUpdatedNotificationParam::new(uri);
                    if peer.notify_resource_updated(param).await.is_err() {
                        break 'watch;
                    }
                }
            }
            slot.lock().take();
        });
        Ok(())
    }
}

/// `notice`'s rank among the levels (debug = 0 ... emergency = 7).
#[allow(deprecated)]
const NOTICE: u8 = LoggingLevel::Notice as u8;

fn count(method: &'static str) {
    metrics::counter!(metric::MCP_REQUESTS_TOTAL, "method" => method).increment(1);
}

fn parts(extensions: &Extensions) -> Option<&Parts> {
    extensions.get::<Parts>()
}

/// The guard's verified identity for this request.
fn caller(extensions: &Extensions) -> Result<Identity, McpError> {
    parts(extensions)
        .and_then(|p| p.extensions.get::<Identity>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("request without a verified identity", None))
}

/// The caller and their token's digest: a subscription lives by that token.
fn credentials(extensions: &Extensions) -> Result<(Identity, TokenDigest), McpError> {
    let digest = parts(extensions)
        .and_then(|p| p.extensions.get::<TokenDigest>())
        .copied()
        .ok_or_else(|| McpError::internal_error("request without a verified token", None))?;
    Ok((caller(extensions)?, digest))
}

fn request_id(extensions: &Extensions) -> String {
    parts(extensions)
        .and_then(|p| p.headers.get(&REQUEST_ID))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn unavailable(e: todo_common::Error) -> McpError {
    tracing::error!(error = %e, "MCP request failed");
    McpError::internal_error("the task store is unavailable right now; try again", None)
}

/// The tools as MCP lists them, from the one typed list.
fn tool_list() -> Vec<rmcp::model::Tool> {
    Tool::MCP
        .into_iter()
        .map(|tool| {
            let schema = match tool.client_parameters() {
                Value::Object(schema) => schema,
                _ => serde_json::Map::new(),
            };
            let hints = tool.annotations();
            rmcp::model::Tool::new(tool.name(), tool.description(), Arc::new(schema))
                .with_annotations(
                    ToolAnnotations::new()
                        .read_only(hints.read_only)
                        .destructive(hints.destructive)
                        .idempotent(hints.idempotent)
                        // Only this user's task list, nothing outside.
                        .open_world(false),
                )
        })
        .collect()
}

impl ServerHandler for TodoMcp {
    #[allow(deprecated)] // logging: see `set_level`
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_logging()
                .build(),
        )
        .with_server_info(Implementation::new("todo-chat", todo_common::VERSION))
        .with_instructions(
            "Your Todo Chat task list: add, list, complete, update and delete tasks. \
             The resources tasks://all, tasks://pending and tasks://completed hold the lists, \
             tasks://reminders the reminders that fired. Subscribe to hear of changes; \
             with a logging level set, each reminder also arrives as a log message \
             from logger `reminder.due`.",
        )
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        count("initialize");
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        count("tools/list");
        Ok(ListToolsResult::with_all_items(tool_list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        count("tools/call");
        let who = caller(&context.extensions)?;
        // An unknown tool is a protocol error (-32602), as the spec has it;
        // everything that goes wrong inside a known tool is a result.
        let offered = Tool::from_name(&request.name).filter(|t| Tool::MCP.contains(t));
        let Some(tool) = offered else {
            metrics::counter!(metric::MCP_TOOL_CALLS_TOTAL, "tool" => "unknown", "outcome" => "unknown_tool")
                .increment(1);
            return Err(McpError::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            ));
        };
        let span = tracing::info_span!(
            "mcp_tool_call",
            request_id = %request_id(&context.extensions),
            tool = tool.name(),
            user_id = %who.user_id,
        );
        let arguments = request.arguments.map_or(Value::Null, Value::Object);
        let started = Instant::now();
        let output = tools::call_alone(&self.state.tasks, &who.user_id, tool, arguments)
            .instrument(span.clone())
            .await;
        let (outcome, result) = match output {
            Ok(output) => {
                let outcome = output.outcome_label();
                let result = match output {
                    Output::Done(value) => {
                        CallToolResult::success(vec![ContentBlock::text(value.to_string())])
                    }
                    Output::Refused(message) => {
                        CallToolResult::error(vec![ContentBlock::text(message)])
                    }
                };
                (outcome, result)
            }
            // Still a result: the client shows it, and may try again.
            Err(e) => {
                let _ = span.in_scope(|| unavailable(e));
                let text = "the task store is unavailable right now; try again";
                (
                    "failed",
                    CallToolResult::error(vec![ContentBlock::text(text)]),
                )
            }
        };
        metrics::counter!(metric::MCP_TOOL_CALLS_TOTAL, "tool" => tool.metric_label(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!(metric::MCP_TOOL_CALL_DURATION_SECONDS, "tool" => tool.metric_label())
            .record(started.elapsed().as_secs_f64());
        span.in_scope(|| tracing::info!(outcome, "tool called"));
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        count("resources/list");
        let (uri, name, description) = REMINDERS;
        Ok(ListResourcesResult::with_all_items(
            LISTS
                .iter()
                .map(|(uri, name, description, _)| (*uri, *name, *description))
                .chain([(uri, name, description)])
                .map(|(uri, name, description)| {
                    Resource::new(uri, name)
                        .with_description(description)
                        .with_mime_type("application/json")
                })
                .collect(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        count("resources/read");
        let who = caller(&context.extensions)?;
        let Some(read) = resources::read(&self.state, &who.user_id, &request.uri).await else {
            return Err(McpError::resource_not_found(
                format!("no resource `{}`", request.uri),
                None,
            ));
        };
        let text = read.map_err(unavailable)?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, request.uri).with_mime_type("application/json"),
        ])
        .into())
    }

    #[allow(deprecated)] // legacy-only by design: the protocol versions with sessions use it
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        count("resources/subscribe");
        if !resources::is_known(&request.uri) {
            return Err(McpError::resource_not_found(
                format!("no resource `{}`", request.uri),
                None,
            ));
        }
        self.subscribed.lock().insert(request.uri);
        self.watch(&context).await
    }

    /// Sessions only (2026-07-28 has no logging): a session that sets a
    /// level gets each fired reminder as `notifications/message` (logger
    /// `reminder.due`, level `notice`) unless the level is above that,
    /// whether or not it subscribed to a resource.
    #[allow(deprecated)] // SEP-2577 retires logging; every client today has it
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        count("logging/setLevel");
        self.level.store(request.level as u8, Ordering::Relaxed);
        self.watch(&context).await
    }
    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        count("resources/unsubscribe");
        self.subscribed.lock().remove(&request.uri);
        Ok(())
    }

    /// 2026-07-28: `subscriptions/listen` may name our task lists.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let uris = requested
            .resource_subscriptions
            .iter()
            .flatten()
            .filter(|uri| resources::is_known(uri))
            .cloned();
        Some(
            SubscriptionFilter::builder()
                .resource_subscriptions(uris)
                .build(),
        )
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        count("subscriptions/listen");
        let (who, digest) = credentials(&context.request_context().extensions)?;
        let uris = context
            .accepted()
            .resource_subscriptions
            .clone()
            .unwrap_or_default();
        // Ends with the request's token, like the session-bound kind.
        let mut watch = Watch::start(&self.state, &who, digest)
            .await
            .map_err(unavailable)?;
        let stop = self.state.shutdown.child_token();
        let sink = context.sink();
        loop {
            tokio::select! {
                _ = context.cancelled() => break,
                news = watch.changed(&stop) => {
                    let Some(news) = news else { break };
                    for uri in uris.iter().filter(|uri| news.updates(uri)) {
                        if sink.notify_resource_updated(uri.clone()).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
