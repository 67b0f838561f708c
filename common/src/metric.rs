//! Every metric our processes emit, by name, in one place: the code uses
//! these constants, and the tests check the dashboards and alert rules
//! against [`ALL`] (a panel over a misspelt name shows "no data" forever).

// Chat posts and their hand-off (API).
/// Chat messages stored and queued.
pub const CHAT_MESSAGES_TOTAL: &str = "chat_messages_total";
/// Chat posts answered from an earlier post with the same Idempotency-Key.
pub const CHAT_POSTS_REPLAYED_TOTAL: &str = "chat_posts_replayed_total";
/// Turns left in the outbox for the relay (the broker was down or slow).
pub const OUTBOX_DEFERRED_TOTAL: &str = "outbox_deferred_total";
/// Outbox records the relay published.
pub const OUTBOX_RELAYED_TOTAL: &str = "outbox_relayed_total";
/// Stale turns the relay queued again.
pub const TURNS_REDRIVEN_TOTAL: &str = "turns_redriven_total";

// HTTP and the database (API; the pool gauges from the worker too).
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// 1 while /health reaches PostgreSQL.
pub const DATABASE_UP: &str = "database_up";
pub const DATABASE_LATENCY_SECONDS: &str = "database_latency_seconds";
pub const DB_POOL_CONNECTIONS: &str = "db_pool_connections";
pub const DB_POOL_MAX_CONNECTIONS: &str = "db_pool_max_connections";
/// Password hashes refused with 503 because every hashing slot was busy.
pub const PASSWORD_HASHES_REFUSED_TOTAL: &str = "password_hashes_refused_total";

// Live events (API).
pub const SSE_CONNECTIONS_TOTAL: &str = "sse_connections_total";
/// Open event streams, against SSE_MAX_STREAMS.
pub const SSE_STREAMS_OPEN: &str = "sse_streams_open";
/// Live subscribers of every kind (streams, MCP watches, waiting posts).
pub const SSE_SUBSCRIBERS: &str = "sse_subscribers";
/// Events sent, by `kind` (durable, transient).
pub const SSE_EVENTS_SENT_TOTAL: &str = "sse_events_sent_total";
/// From an event's transaction to its frame queued for the client.
pub const SSE_DELIVERY_LAG_SECONDS: &str = "sse_delivery_lag_seconds";
/// Streams cut off for not reading.
pub const SSE_SLOW_CLIENTS_DROPPED_TOTAL: &str = "sse_slow_clients_dropped_total";
/// Reads of a user's new events, one per change for all their subscribers.
pub const LIVE_EVENT_READS_TOTAL: &str = "live_event_reads_total";
/// Live notices that could not be published (the broker was down).
pub const LIVE_NOTICES_LOST_TOTAL: &str = "live_notices_lost_total";
/// Users whose events the 15 s sweep found unread (a notice was lost).
pub const LIVE_NOTICES_MADE_UP_TOTAL: &str = "live_notices_made_up_total";

// MCP (API).
pub const MCP_REQUESTS_TOTAL: &str = "mcp_requests_total";
pub const MCP_REQUESTS_REFUSED_TOTAL: &str = "mcp_requests_refused_total";
pub const MCP_SESSIONS: &str = "mcp_sessions";
/// Session places taken, against MCP_MAX_SESSIONS.
pub const MCP_SESSION_PLACES: &str = "mcp_session_places";
pub const MCP_SESSIONS_ENDED_TOTAL: &str = "mcp_sessions_ended_total";
pub const MCP_TOOL_CALLS_TOTAL: &str = "mcp_tool_calls_total";
pub const MCP_TOOL_CALL_DURATION_SECONDS: &str = "mcp_tool_call_duration_seconds";

// Turns (worker).
pub const TURNS_TOTAL: &str = "turns_total";
/// Turns answered, by who answered: `offline` (the built-in assistant, no
/// model call) or `model` (ASSISTANT_MODE).
pub const TURNS_ANSWERED_TOTAL: &str = "turns_answered_total";
pub const TURN_DURATION_SECONDS: &str = "turn_duration_seconds";
/// From a turn's post to a worker claiming it.
pub const QUEUE_WAIT_SECONDS: &str = "queue_wait_seconds";
pub const WORKER_TURNS_IN_FLIGHT: &str = "worker_turns_in_flight";
/// Deliveries of a turn already finished or running elsewhere, by `state`.
pub const TURN_DUPLICATE_DELIVERIES_TOTAL: &str = "turn_duplicate_deliveries_total";
/// Leases of this worker found taken over (its turn stopped).
pub const TURN_LEASES_EXPIRED_TOTAL: &str = "turn_leases_expired_total";
/// Acks or nacks lost with their channel (the turn is delivered again).
pub const QUEUE_SETTLE_LOST_TOTAL: &str = "queue_settle_lost_total";
pub const TOOL_CALLS_TOTAL: &str = "tool_calls_total";
/// Tool calls a model wrote as text instead of calling them, and recovered.
pub const TOOL_CALLS_WRITTEN_AS_TEXT_TOTAL: &str = "tool_calls_written_as_text_total";
/// Histories cut to fit the model's context.
pub const CHAT_HISTORY_TRIMMED_TOTAL: &str = "chat_history_trimmed_total";

// The model (worker).
pub const OPENAI_REQUESTS_TOTAL: &str = "openai_requests_total";
pub const OPENAI_REQUEST_DURATION_SECONDS: &str = "openai_request_duration_seconds";
pub const OPENAI_RETRIES_TOTAL: &str = "openai_retries_total";
pub const OPENAI_TIMEOUTS_TOTAL: &str = "openai_timeouts_total";
pub const OPENAI_TOKENS_TOTAL: &str = "openai_tokens_total";
pub const OPENAI_RATE_LIMITED_TOTAL: &str = "openai_rate_limited_total";
pub const OPENAI_QUOTA_EXHAUSTED_TOTAL: &str = "openai_quota_exhausted_total";
/// Answers the worker cut itself: the server ignored the output limit.
pub const OPENAI_OUTPUT_CUT_TOTAL: &str = "openai_output_cut_total";
/// Answers the model ended at the output limit (`finish_reason: length`).
pub const OPENAI_ANSWERS_CUT_TOTAL: &str = "openai_answers_cut_total";
pub const OPENAI_RATELIMIT_LIMIT: &str = "openai_ratelimit_limit";
pub const OPENAI_RATELIMIT_REMAINING: &str = "openai_ratelimit_remaining";
pub const OPENAI_RATELIMIT_PAUSES_TOTAL: &str = "openai_ratelimit_pauses_total";
pub const OPENAI_RATELIMIT_WAIT_SECONDS: &str = "openai_ratelimit_wait_seconds";

// Reminders (the worker's scheduler).
/// Reminders fired, by `late` (more than a minute after their time).
pub const REMINDERS_FIRED_TOTAL: &str = "reminders_fired_total";
/// How long after its time each reminder fired.
pub const REMINDER_LATENESS_SECONDS: &str = "reminder_lateness_seconds";
/// Tasks with a reminder still to fire.
pub const REMINDERS_PENDING: &str = "reminders_pending";
/// Of those, the ones past their time: the scheduler's backlog.
pub const REMINDERS_OVERDUE: &str = "reminders_overdue";

// Every process.
pub const RABBITMQ_CONNECTED: &str = "rabbitmq_connected";
pub const RABBITMQ_CONNECTIONS_TOTAL: &str = "rabbitmq_connections_total";
pub const QUEUE_TOPOLOGY_REDECLARED_TOTAL: &str = "queue_topology_redeclared_total";
/// Background loops that ended or stalled, by `loop`.
pub const BACKGROUND_LOOP_FAILURES_TOTAL: &str = "background_loop_failures_total";
pub const PROCESS_CPU_LIMIT_CORES: &str = "process_cpu_limit_cores";
pub const PROCESS_MEMORY_LIMIT_BYTES: &str = "process_memory_limit_bytes";

/// Every name above.
pub const ALL: &[&str] = &[
    CHAT_MESSAGES_TOTAL,
    CHAT_POSTS_REPLAYED_TOTAL,
    OUTBOX_DEFERRED_TOTAL,
    OUTBOX_RELAYED_TOTAL,
    TURNS_REDRIVEN_TOTAL,
    HTTP_REQUESTS_TOTAL,
    HTTP_REQUEST_DURATION_SECONDS,
    DATABASE_UP,
    DATABASE_LATENCY_SECONDS,
    DB_POOL_CONNECTIONS,
    DB_POOL_MAX_CONNECTIONS,
    PASSWORD_HASHES_REFUSED_TOTAL,
    SSE_CONNECTIONS_TOTAL,
    SSE_STREAMS_OPEN,
    SSE_SUBSCRIBERS,
    SSE_EVENTS_SENT_TOTAL,
    SSE_DELIVERY_LAG_SECONDS,
    SSE_SLOW_CLIENTS_DROPPED_TOTAL,
    LIVE_EVENT_READS_TOTAL,
    LIVE_NOTICES_LOST_TOTAL,
    LIVE_NOTICES_MADE_UP_TOTAL,
    MCP_REQUESTS_TOTAL,
    MCP_REQUESTS_REFUSED_TOTAL,
    MCP_SESSIONS,
    MCP_SESSION_PLACES,
    MCP_SESSIONS_ENDED_TOTAL,
    MCP_TOOL_CALLS_TOTAL,
    MCP_TOOL_CALL_DURATION_SECONDS,
    TURNS_TOTAL,
    TURNS_ANSWERED_TOTAL,
    TURN_DURATION_SECONDS,
    QUEUE_WAIT_SECONDS,
    WORKER_TURNS_IN_FLIGHT,
    TURN_DUPLICATE_DELIVERIES_TOTAL,
    TURN_LEASES_EXPIRED_TOTAL,
    QUEUE_SETTLE_LOST_TOTAL,
    TOOL_CALLS_TOTAL,
    TOOL_CALLS_WRITTEN_AS_TEXT_TOTAL,
    CHAT_HISTORY_TRIMMED_TOTAL,
    OPENAI_REQUESTS_TOTAL,
    OPENAI_REQUEST_DURATION_SECONDS,
    OPENAI_RETRIES_TOTAL,
    OPENAI_TIMEOUTS_TOTAL,
    OPENAI_TOKENS_TOTAL,
    OPENAI_RATE_LIMITED_TOTAL,
    OPENAI_QUOTA_EXHAUSTED_TOTAL,
    OPENAI_OUTPUT_CUT_TOTAL,
    OPENAI_ANSWERS_CUT_TOTAL,
    OPENAI_RATELIMIT_LIMIT,
    OPENAI_RATELIMIT_REMAINING,
    OPENAI_RATELIMIT_PAUSES_TOTAL,
    OPENAI_RATELIMIT_WAIT_SECONDS,
    REMINDERS_FIRED_TOTAL,
    REMINDER_LATENESS_SECONDS,
    REMINDERS_PENDING,
    REMINDERS_OVERDUE,
    RABBITMQ_CONNECTED,
    RABBITMQ_CONNECTIONS_TOTAL,
    QUEUE_TOPOLOGY_REDECLARED_TOTAL,
    BACKGROUND_LOOP_FAILURES_TOTAL,
    PROCESS_CPU_LIMIT_CORES,
    PROCESS_MEMORY_LIMIT_BYTES,
];

/// Whether `name`, as Prometheus shows it (a histogram's `_bucket`, `_sum`
/// and `_count` series included), is one of ours.
pub fn is_ours(name: &str) -> bool {
    let base = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .filter(|base| ALL.contains(base));
    ALL.contains(&name) || base.is_some()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_name_is_listed_once_and_well_formed() {
        let unique: HashSet<_> = ALL.iter().collect();
        assert_eq!(unique.len(), ALL.len(), "a name listed twice");
        for name in ALL {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
        let declared = include_str!("metric.rs")
            .lines()
            .filter(|l| l.starts_with("pub const ") && l.contains(": &str = "))
            .count();
        assert_eq!(declared, ALL.len(), "a constant missing from ALL");
        assert!(is_ours("turn_duration_seconds_bucket"));
        assert!(!is_ours("turn_duration_second"));
    }
}
