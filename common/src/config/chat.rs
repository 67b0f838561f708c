//! Chat turns: what the API accepts and how workers run them.

use std::time::Duration;

use super::Reader;

#[derive(Debug, Clone)]
pub struct Chat {
    /// Chat messages one user may send per minute.
    pub rate_limit_per_minute: u32,
    /// Earlier messages sent to the model as context.
    pub history_limit: u32,
    /// Model calls with tool use per turn before it is wrapped up.
    pub max_tool_rounds: u32,
    /// How long a claimed turn is reserved without a heartbeat before
    /// another worker may take it over (worker/src/lease.rs).
    pub turn_lease: Duration,
    /// Claims of one turn (crashes, lost leases) before it fails.
    pub turn_max_attempts: u32,
    /// Turns of one user in progress at once, across all workers.
    pub turns_per_user: u32,
}

impl Chat {
    pub fn read(r: &mut Reader) -> Self {
        r.section("chat");
        let rate_limit_per_minute = r.var(
            "CHAT_RATE_LIMIT_PER_MINUTE",
            "Chat messages one user may send per minute (sliding window, shared by all API replicas); then 429 with `Retry-After`. Counted in the transaction that stores the message, under a per-user row lock, so a parallel burst gets exactly this many through.",
        ).positive(30u32);
        let history_limit = r
            .var(
                "CHAT_HISTORY_LIMIT",
                "Earlier messages (user messages and final answers) sent to the model as context.",
            )
            .number(20u32);
        let max_tool_rounds = r.var(
            "MAX_TOOL_ROUNDS",
            "Model rounds with tool calls per turn before the turn is wrapped up with what was done.",
        ).positive(5u32);
        // The heartbeat renews every fifth of the lease; under 2 s that is
        // closer to a database round trip under load than is safe.
        let turn_lease = Duration::from_secs(r.var(
            "TURN_LEASE_SECONDS",
            "How long a claimed turn stays reserved without a heartbeat (at least 2). Each worker renews the leases of all its turns every fifth of it, however long a model call or rate-limit wait takes, and stops a turn it could not renew one heartbeat before the lease runs out; a dead worker's turns are re-queued at most 1.2 leases after it died (6 s by default). See docs/architecture.md, \"Crash recovery in seconds\".",
        ).parse(5u64, |v| {
            v.parse::<u64>()
                .ok()
                .filter(|s| *s >= 2)
                .ok_or_else(|| "expected whole seconds, at least 2".to_string())
        }));
        let turn_max_attempts = r
            .var(
                "TURN_MAX_ATTEMPTS",
                "Claims of one turn (crashes, lost leases) before it ends as failed.",
            )
            .positive(5u32);
        let turns_per_user = r.var(
            "TURNS_PER_USER",
            "Turns of one user in progress at once across all workers, so one user's burst cannot take every worker and the whole model allowance.",
        ).positive(2u32);
        Self {
            rate_limit_per_minute,
            history_limit,
            max_tool_rounds,
            turn_lease,
            turn_max_attempts,
            turns_per_user,
        }
    }
}
