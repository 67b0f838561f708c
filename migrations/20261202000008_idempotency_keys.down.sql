DROP INDEX idx_messages_idempotency_key;
ALTER TABLE messages DROP COLUMN idempotency_key;
