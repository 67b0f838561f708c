-- Back to counting user messages (deleted conversations give posts back).
DROP TRIGGER messages_log_chat_post ON messages;
DROP FUNCTION log_chat_post();
DROP TABLE chat_post_log;
