-- Declaration order is the sort order (low < medium < high).
CREATE TYPE task_priority AS ENUM ('low', 'medium', 'high');

CREATE TABLE tasks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description  TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    completed    BOOLEAN NOT NULL DEFAULT false,
    priority     task_priority NOT NULL DEFAULT 'medium',
    -- Each tag is 1..=32 lower-case characters; the application enforces that,
    -- the database keeps the count bounded.
    tags         TEXT[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 10),
    due_at       TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((completed AND completed_at IS NOT NULL) OR (NOT completed AND completed_at IS NULL))
);

-- The checklist's index, and the ones the list queries walk: every query is
-- scoped by user_id first, so none scans other users' rows.
CREATE INDEX idx_tasks_user_id ON tasks (user_id);
CREATE INDEX idx_tasks_user_status_created ON tasks (user_id, completed, created_at, id);
CREATE INDEX idx_tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX idx_tasks_user_due ON tasks (user_id, due_at, id);
