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

INSERT INTO chat_post_log (user_id, posted_at)
    SELECT user_id, unnest(posted) FROM chat_post_windows;

DROP TABLE chat_post_windows;
