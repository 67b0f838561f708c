-- The model provider's limits, shared by every worker: one row per limit
-- (requests, tokens), paced with GCRA. `tat` is the theoretical arrival
-- time: the moment the limit is "used up to"; a request may start at
-- max(now, tat - burst tolerance, paused_until).
CREATE TABLE rate_limits (
    key           TEXT PRIMARY KEY,
    tat           TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- After a 429: nobody starts before this (the reset the server named).
    paused_until  TIMESTAMPTZ,
    -- Per-minute limit learned from x-ratelimit-limit-* headers.
    learned_limit DOUBLE PRECISION,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Fair share: a worker claims a turn only while its user has fewer than
-- TURNS_PER_USER turns in progress; this finds them without a scan.
CREATE INDEX idx_messages_user_open_turns ON messages (user_id)
    WHERE role = 'user' AND status = 'processing';
