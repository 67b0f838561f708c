-- Task numbers are per user (issue 21): a user's tasks are 1, 2, 3... in
-- creation order, and a number is never reused, so "done with 3" means the 3
-- in that person's list, not a row of a shared sequence. REST paths, `id`
-- fields, events, chat and MCP all use this number; the table's own `id`
-- stays the key inside the database.
--
-- A user's last number lives in a row of its own, which a task insert locks:
-- not the users row, which every writer locks last (when it stores events),
-- so taking it first would invert that order against a concurrent post.
CREATE TABLE task_numbers (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    last    BIGINT NOT NULL
);

ALTER TABLE tasks ADD COLUMN number BIGINT;
UPDATE tasks t SET number = n.number
FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) AS number
      FROM tasks) n
WHERE t.id = n.id;
ALTER TABLE tasks ALTER COLUMN number SET NOT NULL;
INSERT INTO task_numbers (user_id, last)
    SELECT user_id, max(number) FROM tasks GROUP BY user_id;

-- Looked up by (user, number); pages are cut by (sort key, number).
CREATE UNIQUE INDEX tasks_user_number_key ON tasks (user_id, number);
DROP INDEX idx_tasks_user_status_created;
DROP INDEX idx_tasks_user_created;
DROP INDEX idx_tasks_user_due;
CREATE INDEX idx_tasks_user_status_created ON tasks (user_id, completed, created_at, number);
CREATE INDEX idx_tasks_user_created ON tasks (user_id, created_at, number);
CREATE INDEX idx_tasks_user_due ON tasks (user_id, due_at, number);
