DROP INDEX idx_messages_user_open_turns;
DROP TABLE rate_limits;
