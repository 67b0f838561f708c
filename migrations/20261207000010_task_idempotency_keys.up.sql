-- The Idempotency-Key a client sent when it created a task (REST header, or
-- MCP add_task's idempotency_key argument). A creation retried after its
-- answer was lost finds the task it stored instead of adding it twice
-- (issue 19, item 12). Unique per user; kept as long as the task is.
--
-- The fingerprint is SHA-256 of the parsed request the key came with: a
-- retry must send the same task, and the task itself may have been changed
-- since, so its columns cannot tell.
ALTER TABLE tasks
    ADD COLUMN idempotency_key TEXT
        CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    ADD COLUMN idempotency_fingerprint BYTEA
        CHECK (octet_length(idempotency_fingerprint) = 32),
    ADD CONSTRAINT tasks_idempotency_pair_check
        CHECK ((idempotency_key IS NULL) = (idempotency_fingerprint IS NULL));

-- Two parallel creations with one key: the second insert meets this index,
-- waits for the first to commit, and then finds its task.
CREATE UNIQUE INDEX idx_tasks_idempotency_key ON tasks (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
