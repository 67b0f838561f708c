//! The MCP server: the task tools and the user's task lists for any MCP
//! client (desktop assistants, IDE agents), over Streamable HTTP at
//! `http://MCP_SERVER_HOST:MCP_SERVER_PORT/mcp`, built on rmcp.
//!
//! - `guard.rs`: `Host`/`Origin` checks (DNS rebinding), bearer auth exactly
//!   as REST (401 + `WWW-Authenticate: Bearer resource_metadata=...`),
//!   sessions bound to their user, and the RFC 9728 metadata document.
//! - `server.rs`: the MCP methods; tools come from `todo_common::tools`, the
//!   one list the chat agent reads too.
//! - `resources.rs`: `tasks://all|pending|completed|reminders`, and the
//!   watch that turns the user's `task.*` and `reminder.due` events into
//!   `notifications/resources/updated` (and reminders into log messages).
//!
//! Sessions. Clients on protocol versions up to 2025-11-25 (every client
//! today) start with `initialize` and get an `Mcp-Session-Id`; rmcp keeps
//! the session in this process, and server-to-client notifications (our
//! resource updates) travel on that session's GET stream. Behind a load
//! balancer those clients need their requests routed by the
//! `Mcp-Session-Id` header (sticky sessions): the protocol ties a
//! subscription to the one stream that delivers it. Clients on 2026-07-28
//! have no sessions: every request stands alone, and a subscription is one
//! long `subscriptions/listen` request, so any replica serves any request.
//! Either way the updates themselves come from RabbitMQ's per-user notices,
//! which reach every instance, so a change made through any instance (REST,
//! chat, MCP) reaches a subscriber on any other.

mod guard;
mod resources;
mod server;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Revocations;
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::SessionId;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use todo_common::config::Mcp;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::extract::BODY_LIMIT;
use crate::middleware::observe;
use crate::state::AppState;
use guard::SessionOwners;
use todo_common::metric;

/// Binds MCP_SERVER_HOST:MCP_SERVER_PORT; the error names the address and
/// the variables, since a second API on one machine fails exactly here.
pub async fn bind(config: &Mcp) -> std::io::Result<TcpListener> {
    TcpListener::bind((config.host.as_str(), config.port))
        .await
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot listen for MCP on {}:{} (MCP_SERVER_HOST, MCP_SERVER_PORT; MCP_ENABLED=false turns it off): {e}",
                    config.host, config.port
                ),
            )
        })
}

/// Serves MCP on `listener` with an already running app state.
pub async fn serve_with(
    state: AppState,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(state, &shutdown);
    tracing::info!(address = %listener.local_addr()?, "MCP listening");
    // As for the API: without TCP_NODELAY each SSE-framed answer waits for
    // the client's delayed ACK (~40 ms per tool call).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// `/mcp` and the OAuth protected-resource metadata, behind the guard.
pub fn router(state: AppState, shutdown: &CancellationToken) -> Router {
    let sessions = Arc::new(LocalSessionManager::default());
    let owners = Arc::new(SessionOwners::new(&state.config.mcp));
    state.supervisor.watch(
        "mcp_sessions",
        spawn_session_sweep(
            sessions.clone(),
            owners.clone(),
            state.revocations.clone(),
            shutdown.clone(),
        ),
    );

    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(state.config.mcp.allowed_hosts.clone())
        .with_allowed_origins(
            state
                .config
                .mcp
                .allowed_origins
                .iter()
                .map(|o| explicit_port(o)),
        )
        .enforce_origin_validation();
    config.cancellation_token = shutdown.child_token();
    config.max_request_body_bytes = BODY_LIMIT;
    let handler_state = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(server::TodoMcp::new(handler_state.clone())),
        sessions,
        config,
    );

    let guard = guard::Guard::new(state, owners);
    Router::new()
        .nest_service("/mcp", service)
        .route(
            "/.well-known/oauth-protected-resource",
            get(guard::resource_metadata),
        )
        // RFC 9728 §3.1: the metadata of resource `/mcp` may also be asked for here.
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(guard::resource_metadata),
        )
        .route_layer(axum::middleware::from_fn(observe::tag_route))
        .layer(axum::middleware::from_fn_with_state(
            guard.clone(),
            guard::check,
        ))
        .layer(axum::middleware::from_fn(observe::observe))
        .with_state(guard)
}

/// Every 2 s (the revocation sync's pace): sessions whose opening token was
/// logged out or expired are closed, which ends their GET stream and drops
/// their handler (and its watch); sessions that ended otherwise (closed, or
/// expired after 5 idle minutes) lose their owner entry; `mcp_sessions`
/// follows the open ones.
fn spawn_session_sweep(
    sessions: Arc<LocalSessionManager>,
    owners: Arc<SessionOwners>,
    revocations: Arc<Revocations>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            for id in owners.take_ended(&revocations) {
                let id: SessionId = id.into();
                if let Err(e) = sessions.close_session(&id).await {
                    tracing::warn!(error = %e, "could not close an MCP session whose token ended");
                }
                metrics::counter!(metric::MCP_SESSIONS_ENDED_TOTAL, "reason" => "token")
                    .increment(1);
            }
            let open: Vec<String> = sessions
                .sessions
                .read()
                .await
                .keys()
                .map(|id| id.to_string())
                .collect();
            owners.retain(&open);
            metrics::gauge!(metric::MCP_SESSIONS).set(open.len() as f64);
        }
        metrics::gauge!(metric::MCP_SESSIONS).set(0.0);
    })
}

/// `https://a.example` -> `https://a.example:443`: rmcp reads an origin
/// without a port as "any port" (deprecated); ours means the default one.
fn explicit_port(origin: &str) -> String {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return origin.to_owned();
    };
    if authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        return origin.to_owned();
    }
    let port = if scheme == "https" { 443 } else { 80 };
    format!("{origin}:{port}")
}

#[cfg(test)]
mod tests {
    use super::explicit_port;

    #[test]
    fn origins_get_their_default_port() {
        assert_eq!(explicit_port("https://a.example"), "https://a.example:443");
        assert_eq!(explicit_port("http://a.example"), "http://a.example:80");
        assert_eq!(
            explicit_port("http://localhost:3000"),
            "http://localhost:3000"
        );
    }
}
