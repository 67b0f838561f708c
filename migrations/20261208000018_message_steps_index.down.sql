-- no-transaction
DROP INDEX CONCURRENTLY IF EXISTS idx_messages_steps;
