//! The API's HTTP listener: address, proxies, CORS, the web app and live streams.

use std::time::Duration;

use super::parse::{self, port};
use super::{AllowedOrigins, IpNet, Reader};

#[derive(Debug, Clone)]
pub struct Http {
    pub host: String,
    pub port: u16,
    /// The proxies (IPs or CIDRs) in front of the API. The client address
    /// (sign-up and login throttling) is the right-most X-Forwarded-For entry
    /// that is not one of them, read only when the socket peer is one of them.
    pub trusted_proxies: Vec<IpNet>,
    pub allowed_origins: AllowedOrigins,
    pub cors_allow_credentials: bool,
    pub cors_allow_methods: Vec<String>,
    /// Serve the web app embedded at build time (`web/dist`) at `/`.
    pub web_enabled: bool,
    /// Open event streams one user may hold on one API instance.
    pub sse_max_streams_per_user: usize,
    /// Open event streams one API instance serves at once.
    pub sse_max_streams: usize,
    /// How long durable events are kept for SSE resume.
    pub event_retention: Duration,
    /// How often the background probe checks PostgreSQL.
    pub health_check_interval: Duration,
    /// A background loop this late (beyond its period) is reported stalled by /health.
    pub background_stall: Duration,
    /// Serve /metrics on this port instead of the API port (unset in
    /// production: a preflight failure, issue 19).
    pub metrics_port: Option<u16>,
}

impl Http {
    pub fn read(r: &mut Reader) -> Self {
        r.section("http");
        let host = r
            .var("API_HOST", "Where the API listens.")
            .string("0.0.0.0");
        let port_number = r.var("API_PORT", "The API's port.").number(8000u16);
        // Removed (issue 10): it trusted the first X-Forwarded-For entry,
        // which a client behind an appending proxy writes itself.
        if r.var(
            "TRUST_FORWARDED_FOR",
            "Removed: it took the first `X-Forwarded-For` entry, which the client controls behind an appending proxy. `true` stops the start-up with a message to use `TRUSTED_PROXIES`; `false` is accepted and ignored.",
        ).bool(false) {
            r.problem(
                "TRUST_FORWARDED_FOR is no longer supported (it trusted the client-controlled first \
                 X-Forwarded-For entry); list the proxies in front of the API in TRUSTED_PROXIES \
                 instead, e.g. TRUSTED_PROXIES=10.0.0.0/8",
            );
        }
        let trusted_proxies = r.var(
            "TRUSTED_PROXIES",
            "Comma-separated IPs or CIDRs of the load balancers / reverse proxies in front of the API, e.g. `10.0.0.0/8,192.168.1.7`. The client address used for throttling is the socket peer, unless the peer is one of these: then the right-most `X-Forwarded-For` entry that is not one of these. Unset: `X-Forwarded-For` is never read, so behind a proxy every client would share the proxy's address.",
        ).parse(Vec::new(), parse::networks);
        let allowed_origins = r
            .var(
                "ALLOWED_ORIGINS",
                "Comma-separated browser origins, or `*`.",
            )
            .parse(
                AllowedOrigins::List(vec![
                    "http://localhost:3000".into(),
                    "http://127.0.0.1:3000".into(),
                    "http://localhost:8000".into(),
                    "http://127.0.0.1:8000".into(),
                ]),
                parse::origins,
            );
        let cors_allow_credentials = r.var(
            "CORS_ALLOW_CREDENTIALS",
            "`Access-Control-Allow-Credentials`. With `ALLOWED_ORIGINS=*` production refuses to start; elsewhere credentials are dropped for CORS.",
        ).bool(true);
        if r.is_production() && allowed_origins == AllowedOrigins::Any && cors_allow_credentials {
            r.problem(
                "ALLOWED_ORIGINS=* together with CORS_ALLOW_CREDENTIALS=true lets any site act as the user; list the origins",
            );
        }
        let cors_allow_methods = r.var(
            "CORS_ALLOW_METHODS",
            "The checklist's value omits `PATCH`; keep it, or browsers cannot call `PATCH .../complete` cross-origin.",
        ).parse(
            ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .map(String::from)
                .to_vec(),
            parse::methods,
        );
        let web_enabled = r.var(
            "WEB_ENABLED",
            "Serve the web app at `/` (the files of `web/dist`, embedded when `todo-api` is built; run `scripts/web.sh build` first). Without a build, `GET /` answers 503 `web_not_built`. `false`: `/` is a 404, as for an API-only deployment.",
        ).bool(true);
        let sse_max_streams_per_user = r.var(
            "SSE_MAX_STREAMS_PER_USER",
            "Open event streams one user may hold on one API instance (tabs, devices); more get 429 `too_many_streams` with `Retry-After`. Each stream costs a query per change of its user.",
        ).positive(20usize);
        let sse_max_streams = r.var(
            "SSE_MAX_STREAMS",
            "Open event streams one API instance serves; more get the same 429. The SSE benchmark held 9,000 on one instance.",
        ).positive(10_000usize);
        let event_retention = r.var(
            "EVENT_RETENTION",
            "How long events are kept for SSE resume (`7d`, `36h`, `90m`, or seconds). A client further behind gets a `resync` event.",
        ).parse(Duration::from_secs(7 * 24 * 3600), parse::duration);
        let health_check_interval = Duration::from_secs(r.var(
            "HEALTH_CHECK_INTERVAL_SECONDS",
            "How often the background probe checks PostgreSQL and updates the `database_up` / `database_latency_seconds` gauges. `GET /health` reads a faster probe of its own (every 250 ms, at most 1 s old; `?deep=true` asks now).",
        ).positive(60u64));
        let background_stall = Duration::from_secs(r.var(
            "BACKGROUND_STALL_SECONDS",
            "A background loop whose round is this late (beyond its own period: 0.5 s for the outbox relay, 2 s for the revocation sync, twice `HEALTH_CHECK_INTERVAL_SECONDS` for the health probe) is listed in `GET /health` `stalled_loops`, which then answers 503 so a load balancer takes the instance out. A loop that ends stops the process (exit 1) instead.",
        ).positive(60u64));
        let metrics_port = r.var(
            "METRICS_PORT",
            "Serve `GET /metrics` on this port (on `API_HOST`) instead of the API port; the API port then answers 404 there. Keep the port off the public load balancer and let only Prometheus reach it. Unset: `/metrics` is on the API port, public wherever the API is, and it names every route with its traffic and error rates, the open streams, the database pool and the process's resources; `todo-api preflight` fails that in production (a warning elsewhere).",
        ).parse(None, port);
        if metrics_port == Some(port_number) {
            r.problem(
                "METRICS_PORT must differ from API_PORT (unset it to serve /metrics on the API port)",
            );
        }
        Self {
            host,
            port: port_number,
            trusted_proxies,
            allowed_origins,
            cors_allow_credentials,
            cors_allow_methods,
            web_enabled,
            sse_max_streams_per_user,
            sse_max_streams,
            event_retention,
            health_check_interval,
            background_stall,
            metrics_port,
        }
    }
}
