DROP INDEX idx_tasks_user_status_created;
DROP INDEX idx_tasks_user_created;
DROP INDEX idx_tasks_user_due;
DROP INDEX tasks_user_number_key;
ALTER TABLE tasks DROP COLUMN number;
CREATE INDEX idx_tasks_user_status_created ON tasks (user_id, completed, created_at, id);
CREATE INDEX idx_tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX idx_tasks_user_due ON tasks (user_id, due_at, id);
DROP TABLE task_numbers;
