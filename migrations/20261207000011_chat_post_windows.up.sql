-- Chat posts as CHAT_RATE_LIMIT_PER_MINUTE counts them: one row per user
-- holding the times of their posts in the last minute. Taking a post's
-- slot is one statement (issue 20: fewer statements per turn): an upsert
-- whose row lock serialises one user's posts, and whose condition, checked
-- again on the newest row after waiting for that lock, refuses a post over
-- the limit. It replaces chat_post_log, its trigger and the advisory lock
-- taken before counting it. Deleting a conversation still gives no posts
-- back, and a rolled-back post takes no slot.
CREATE TABLE chat_post_windows (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    posted  TIMESTAMPTZ[] NOT NULL
);

-- The window in progress keeps counting across the upgrade.
INSERT INTO chat_post_windows (user_id, posted)
    SELECT user_id, array_agg(posted_at ORDER BY posted_at) FROM chat_post_log
    WHERE posted_at > now() - interval '60 seconds'
    GROUP BY user_id;

DROP TRIGGER messages_log_chat_post ON messages;
DROP FUNCTION log_chat_post();
DROP TABLE chat_post_log;
