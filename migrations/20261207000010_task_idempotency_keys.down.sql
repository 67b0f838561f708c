DROP INDEX idx_tasks_idempotency_key;
ALTER TABLE tasks
    DROP CONSTRAINT tasks_idempotency_pair_check,
    DROP COLUMN idempotency_fingerprint,
    DROP COLUMN idempotency_key;
