-- A fourth priority above high (issue 21): urgent, high, medium, low are
-- Todoist's p1-p4. Enum order is sort order, so it goes after 'high'.
ALTER TYPE task_priority ADD VALUE 'urgent' AFTER 'high';
