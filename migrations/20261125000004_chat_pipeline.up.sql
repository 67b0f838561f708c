-- The chat pipeline: ordered messages, turn leases, persisted tool steps
-- (for exactly-once effects) and the outbox that hands turns to RabbitMQ.

-- Per-conversation message sequence: allocated by bumping last_seq under the
-- conversation's row lock, so seq is gapless and in commit order per conversation.
ALTER TABLE conversations ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;

ALTER TABLE messages
    ADD COLUMN seq          BIGINT,
    -- Assistant and tool messages: the user message (the turn) they answer.
    ADD COLUMN reply_to     UUID REFERENCES messages (id) ON DELETE CASCADE,
    -- Intermediate assistant messages: which model round of the turn (1, 2, ...).
    ADD COLUMN round        INTEGER,
    -- The turn's final assistant answer (exactly one per turn).
    ADD COLUMN is_final     BOOLEAN NOT NULL DEFAULT false,
    -- Assistant: [{id, name, arguments}] the model asked for.
    ADD COLUMN tool_calls   JSONB,
    -- Tool: which call this is the result of, and the tool's name.
    ADD COLUMN tool_call_id TEXT,
    ADD COLUMN tool_name    TEXT,
    -- E.g. {"offline": true, "model": "gpt-4-turbo"}.
    ADD COLUMN metadata     JSONB NOT NULL DEFAULT '{}',
    -- Failed user messages: the reason in plain words.
    ADD COLUMN error        TEXT,
    -- Turn bookkeeping on user messages: claims so far and the current lease.
    ADD COLUMN attempts     INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner  TEXT,
    ADD COLUMN lease_until  TIMESTAMPTZ,
    ADD COLUMN request_id   TEXT,
    ADD COLUMN updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN completed_at TIMESTAMPTZ;

UPDATE messages m SET seq = n.rn
FROM (SELECT id, row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS rn
      FROM messages) n
WHERE n.id = m.id;
UPDATE conversations c SET last_seq = COALESCE((SELECT max(seq) FROM messages m WHERE m.conversation_id = c.id), 0);
ALTER TABLE messages ALTER COLUMN seq SET NOT NULL;

CREATE UNIQUE INDEX messages_conversation_seq_key ON messages (conversation_id, seq);
-- The exactly-once guards: one final answer per turn, one stored model reply
-- per round, one result (and so one effect) per tool call.
CREATE UNIQUE INDEX messages_final_reply_key ON messages (reply_to) WHERE is_final;
CREATE UNIQUE INDEX messages_round_key ON messages (reply_to, round) WHERE round IS NOT NULL;
CREATE UNIQUE INDEX messages_tool_result_key ON messages (reply_to, tool_call_id) WHERE role = 'tool';
-- Per-user chat rate limit (messages sent in the last minute).
CREATE INDEX idx_messages_user_recent ON messages (user_id, created_at) WHERE role = 'user';
-- Unfinished turns, per conversation in order (claiming) and overall (sweeping).
CREATE INDEX idx_messages_open_turns ON messages (conversation_id, seq)
    WHERE role = 'user' AND status IN ('queued', 'processing');
CREATE INDEX idx_messages_stale_turns ON messages (updated_at)
    WHERE role = 'user' AND status IN ('queued', 'processing');

-- Turns committed but not yet confirmed by RabbitMQ. The API deletes a row
-- once the broker confirms; the relay re-publishes what stays.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      UUID NOT NULL,
    payload         JSONB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_outbox_due ON outbox (next_attempt_at);
