DROP INDEX idx_users_tokens_valid_after;
ALTER TABLE users DROP COLUMN tokens_valid_after;
DROP TABLE revoked_tokens;
