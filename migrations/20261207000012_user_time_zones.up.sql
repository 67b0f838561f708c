-- Each user's IANA time zone (issue 21): where their "today", "tomorrow at
-- 5pm" and "overdue" are. Checked against the tz database by the API; UTC
-- until the user (or the web app, from the browser) says otherwise.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
