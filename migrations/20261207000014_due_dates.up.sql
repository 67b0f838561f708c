-- All-day and timed due dates (issue 21). A due task has a `due_date`, the
-- due day in its user's time zone; `due_at` is set only when it is due at a
-- time of day. The day of a timed task is stored too, so "today", "this
-- week" and sorting by day are plain comparisons on a date; changing the
-- user's zone recomputes it (tasks::rezone).
ALTER TABLE tasks ADD COLUMN due_date DATE;

-- Date-only input used to be stored as the end of that day in UTC: those
-- are all-day tasks on that day. Every other instant keeps its value, with
-- its day in the owner's zone.
UPDATE tasks SET due_date = (due_at AT TIME ZONE 'UTC')::date, due_at = NULL
WHERE due_at IS NOT NULL AND (due_at AT TIME ZONE 'UTC')::time = '23:59:59';
UPDATE tasks t SET due_date = (t.due_at AT TIME ZONE u.time_zone)::date
FROM users u
WHERE u.id = t.user_id AND t.due_at IS NOT NULL;

ALTER TABLE tasks ADD CONSTRAINT tasks_due_at_has_a_day
    CHECK (due_at IS NULL OR due_date IS NOT NULL);

DROP INDEX idx_tasks_user_due;
CREATE INDEX idx_tasks_user_due ON tasks (user_id, due_date, due_at, number);
