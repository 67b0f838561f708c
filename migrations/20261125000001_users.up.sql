-- Accounts. The id is opaque TEXT so ids minted by Better Auth fit unchanged;
-- accounts created here get a UUIDv7 string (time-ordered, index friendly).
CREATE TABLE users (
    id            TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 255),
    -- Stored trimmed and lower-cased by the application; NULL for users first
    -- seen through an external token that carried no usable email.
    email         TEXT CHECK (email IS NULL OR char_length(email) <= 254),
    name          TEXT CHECK (name IS NULL OR char_length(name) <= 100),
    -- argon2id PHC string; NULL for accounts that sign in elsewhere (Better Auth).
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Case-insensitive uniqueness; the API maps a violation of this index to 409.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Failed sign-in counters per client IP and per account, shared by every API
-- replica. Keys are HMACs (SECRET_KEY), so no raw IP or email is stored here.
CREATE TABLE auth_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start TIMESTAMPTZ NOT NULL
);
