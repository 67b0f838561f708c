-- Durable events per user, for SSE with gapless resume.
--
-- seq comes from users.last_event_seq, bumped in the same transaction as the
-- change it announces. That UPDATE holds the user's row lock until commit,
-- so two transactions of one user cannot interleave: seq order is commit
-- order, and a rolled-back transaction rolls its number back too (no gaps).
-- A bigserial would give neither: numbers are taken at insert and commits
-- can land out of order, so a client could see 11 before 10 and skip 10.
ALTER TABLE users ADD COLUMN last_event_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE events (
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    type            TEXT NOT NULL,
    -- For ?conversation_id= filtering; NULL for events outside a conversation.
    conversation_id UUID,
    data            JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, seq)
);
-- Retention pruning (EVENT_RETENTION) walks by age.
CREATE INDEX idx_events_created_at ON events (created_at);
