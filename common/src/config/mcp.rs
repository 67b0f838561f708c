//! The MCP server (Model Context Protocol): the task tools for MCP clients.

use super::{AllowedOrigins, Reader, parse};

#[derive(Debug, Clone)]
pub struct Mcp {
    /// `todo-api` also serves MCP on `host:port`.
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    /// The `Host` values the server answers (its DNS-rebinding defence).
    pub allowed_hosts: Vec<String>,
    /// Browser origins that may call it; empty refuses every request that
    /// carries an `Origin`.
    pub allowed_origins: Vec<String>,
    /// The endpoint as clients reach it, named in the OAuth metadata.
    pub public_url: Option<String>,
    /// Open MCP sessions one user may hold on one instance.
    pub max_sessions_per_user: usize,
    /// Open MCP sessions one instance holds.
    pub max_sessions: usize,
}

impl Mcp {
    pub fn read(r: &mut Reader) -> Self {
        r.section("mcp");
        let enabled = r
            .var(
                "MCP_ENABLED",
                "`todo-api` also serves MCP at `http://MCP_SERVER_HOST:MCP_SERVER_PORT/mcp`; `todo-api mcp` serves it alone.",
            )
            .bool(true);
        let host = r
            .var("MCP_SERVER_HOST", "Where the MCP server listens.")
            .string("0.0.0.0");
        let port = r
            .var("MCP_SERVER_PORT", "The MCP server's port.")
            .number(5555u16);
        let allowed_hosts = r
            .var(
                "MCP_ALLOWED_HOSTS",
                "Comma-separated `Host` values the MCP server answers (host names, or `host:port`): its defence against DNS rebinding. Add the public name when it sits behind a proxy.",
            )
            .parse(
                ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec(),
                |v| Ok(parse::list(v)),
            );
        let allowed_origins = r
            .var(
                "MCP_ALLOWED_ORIGINS",
                "Browser origins that may call the MCP server; empty refuses every request that carries an `Origin` header (desktop and IDE clients send none).",
            )
            .parse(Vec::new(), |v| {
                if parse::list(v).is_empty() {
                    return Ok(Vec::new());
                }
                match parse::origins(v)? {
                    AllowedOrigins::List(list) => Ok(list),
                    AllowedOrigins::Any => Err("list origins; * is not allowed here".into()),
                }
            });
        let public_url = r
            .var(
                "MCP_PUBLIC_URL",
                "The MCP endpoint as clients reach it (`https://mcp.example.com/mcp`), named in the OAuth protected-resource metadata; by default `http://<Host header>/mcp`.",
            )
            .parse(None, |v| parse::http_url(v).map(Some));
        let max_sessions_per_user = r
            .var(
                "MCP_MAX_SESSIONS_PER_USER",
                "Open MCP sessions one user may hold on one instance; another `initialize` gets 429 `too_many_sessions` with `Retry-After`. A session's place is freed when it is closed (`DELETE /mcp`), idle for 5 minutes, or its token is logged out or expires.",
            )
            .positive(20usize);
        let max_sessions = r
            .var(
                "MCP_MAX_SESSIONS",
                "Open MCP sessions one instance holds, all users together; more get the same 429. Each holds a task and, when subscribed, a live subscription.",
            )
            .positive(1000usize);
        Self {
            enabled,
            host,
            port,
            allowed_hosts,
            allowed_origins,
            public_url,
            max_sessions_per_user,
            max_sessions,
        }
    }
}
