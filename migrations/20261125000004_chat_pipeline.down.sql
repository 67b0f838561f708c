DROP TABLE outbox;
DROP INDEX idx_messages_stale_turns;
DROP INDEX idx_messages_open_turns;
DROP INDEX idx_messages_user_recent;
DROP INDEX messages_tool_result_key;
DROP INDEX messages_round_key;
DROP INDEX messages_final_reply_key;
DROP INDEX messages_conversation_seq_key;
ALTER TABLE messages
    DROP COLUMN seq, DROP COLUMN reply_to, DROP COLUMN round, DROP COLUMN is_final,
    DROP COLUMN tool_calls, DROP COLUMN tool_call_id, DROP COLUMN tool_name,
    DROP COLUMN metadata, DROP COLUMN error, DROP COLUMN attempts,
    DROP COLUMN lease_owner, DROP COLUMN lease_until, DROP COLUMN request_id,
    DROP COLUMN updated_at, DROP COLUMN completed_at;
ALTER TABLE conversations DROP COLUMN last_seq;
