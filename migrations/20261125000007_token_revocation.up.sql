-- Logged-out tokens, by SHA-256 of the whole token string (so tokens without
-- a `jti`, such as Better Auth's, can be revoked too). A row is kept only
-- until the token would expire anyway (`exp` plus the verifier's leeway);
-- the API prunes older rows. No foreign key: a revocation must outlive the
-- user row, which an external token would otherwise simply recreate.
CREATE TABLE revoked_tokens (
    token_hash BYTEA PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id    TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Pruning walks expires_at; each API instance's refresh reads "revoked since
-- my last look" by revoked_at.
CREATE INDEX idx_revoked_tokens_expires_at ON revoked_tokens (expires_at);
CREATE INDEX idx_revoked_tokens_revoked_at ON revoked_tokens (revoked_at);

-- "Log out everywhere": tokens of this user issued at or before this instant
-- (compared with `iat`, whole seconds) are refused. NULL: never used.
ALTER TABLE users ADD COLUMN tokens_valid_after TIMESTAMPTZ;
CREATE INDEX idx_users_tokens_valid_after ON users (tokens_valid_after)
    WHERE tokens_valid_after IS NOT NULL;
