DROP INDEX idx_tasks_next_reminder;
ALTER TABLE tasks DROP COLUMN next_reminder_at;
ALTER TABLE tasks DROP COLUMN reminders;
