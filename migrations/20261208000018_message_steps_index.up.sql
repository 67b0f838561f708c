-- no-transaction
-- A turn's stored steps (the model's rounds and tool results) are read by
-- reply_to at every claim; without an index that read scanned the whole
-- messages table once per turn (issue 23's profile: the claim was most of
-- PostgreSQL's time, and grows with every message ever stored).
-- CONCURRENTLY: a large messages table keeps taking writes meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_messages_steps ON messages (reply_to, seq)
    WHERE reply_to IS NOT NULL;
