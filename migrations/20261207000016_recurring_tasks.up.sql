-- Recurring tasks (issue 21). One task stands for its series: `recurrence`
-- holds the rule (RFC 5545 RRULE text), what the next date counts from
-- (`due` or `completion`), the series' start on the user's wall clock, and
-- how many occurrences were done or skipped. Completing the task records
-- the occurrence below and moves the task to its next one, in one
-- transaction. A recurring task is always due.
ALTER TABLE tasks ADD COLUMN recurrence JSONB;
ALTER TABLE tasks ADD CONSTRAINT tasks_recurring_is_due
    CHECK (recurrence IS NULL OR due_date IS NOT NULL);

-- Completed occurrences of recurring tasks: the history the moved task
-- no longer shows.
CREATE TABLE task_completions (
    task_id      BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    due_date     DATE NOT NULL,
    due_at       TIMESTAMPTZ,
    completed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, due_date, completed_at)
);
