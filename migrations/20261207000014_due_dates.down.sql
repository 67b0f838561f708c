-- Back to bare instants: an all-day task becomes the end of its day in UTC,
-- as date-only input was stored before.
DROP INDEX idx_tasks_user_due;
ALTER TABLE tasks DROP CONSTRAINT tasks_due_at_has_a_day;
UPDATE tasks SET due_at = (due_date + time '23:59:59') AT TIME ZONE 'UTC'
WHERE due_at IS NULL AND due_date IS NOT NULL;
ALTER TABLE tasks DROP COLUMN due_date;
CREATE INDEX idx_tasks_user_due ON tasks (user_id, due_at, number);
