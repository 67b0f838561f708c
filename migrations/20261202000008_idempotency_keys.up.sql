-- The Idempotency-Key a client sent with a chat message. A post retried
-- after its answer was lost (a dropped connection, a 503 after the commit)
-- finds the message it stored instead of storing it again, so the assistant
-- does not add the same task twice. Unique per user; kept as long as the
-- message is.
ALTER TABLE messages ADD COLUMN idempotency_key TEXT
    CHECK (char_length(idempotency_key) BETWEEN 1 AND 255);
CREATE UNIQUE INDEX idx_messages_idempotency_key ON messages (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
