-- Reminders (issue 21). A task's reminders live on its row: each is an
-- instant, or minutes before the task is due, with its resolved `at` and
-- `fired_at` ([{at, before_due_minutes, fired_at}], at most 10). Relative
-- ones follow the task when its due date, recurrence or the user's zone
-- moves it. `next_reminder_at` is the earliest unfired `at`: the reminder
-- scheduler takes due rows by it, FOR UPDATE SKIP LOCKED, and marks them
-- fired in the transaction that stores the reminder's message and event.
ALTER TABLE tasks ADD COLUMN reminders JSONB NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN next_reminder_at TIMESTAMPTZ;
CREATE INDEX idx_tasks_next_reminder ON tasks (next_reminder_at)
    WHERE next_reminder_at IS NOT NULL;
