DROP TABLE events;
ALTER TABLE users DROP COLUMN last_event_seq;
