-- Chat posts as CHAT_RATE_LIMIT_PER_MINUTE counts them, out of reach of
-- deleting a conversation. The rate check used to count user rows in
-- `messages`, so deleting a conversation gave its posts back: 30 posts,
-- delete, 30 more were all accepted (issue 19, item 5).
--
-- One row per user message, written by a trigger in the inserting
-- transaction, so every path that stores a post is counted and a rolled-back
-- post is not. The rate check prunes rows older than its window as it reads.
CREATE TABLE chat_post_log (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    posted_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_chat_post_log_user ON chat_post_log (user_id, posted_at);

CREATE FUNCTION log_chat_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chat_post_log (user_id, posted_at) VALUES (NEW.user_id, NEW.created_at);
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_log_chat_post AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.role = 'user') EXECUTE FUNCTION log_chat_post();

-- The window in progress keeps counting across the upgrade.
INSERT INTO chat_post_log (user_id, posted_at)
    SELECT user_id, created_at FROM messages
    WHERE role = 'user' AND created_at > now() - interval '60 seconds';
