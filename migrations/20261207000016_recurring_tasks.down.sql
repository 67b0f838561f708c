-- Recurring tasks become one-off tasks due on their next occurrence.
DROP TABLE task_completions;
ALTER TABLE tasks DROP CONSTRAINT tasks_recurring_is_due;
ALTER TABLE tasks DROP COLUMN recurrence;
