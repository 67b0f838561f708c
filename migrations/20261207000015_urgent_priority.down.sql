-- PostgreSQL cannot drop an enum value: rebuild the type without it.
-- Urgent tasks become high, the nearest priority that remains.
ALTER TABLE tasks ALTER COLUMN priority DROP DEFAULT;
ALTER TYPE task_priority RENAME TO task_priority_with_urgent;
CREATE TYPE task_priority AS ENUM ('low', 'medium', 'high');
ALTER TABLE tasks ALTER COLUMN priority TYPE task_priority USING
    (CASE priority::text WHEN 'urgent' THEN 'high' ELSE priority::text END)::task_priority;
ALTER TABLE tasks ALTER COLUMN priority SET DEFAULT 'medium';
DROP TYPE task_priority_with_urgent;
