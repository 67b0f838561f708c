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
        Self {
            enabled,
            host,
            port,
            allowed_hosts,
            allowed_origins,
            public_url,
        }
    }
}
