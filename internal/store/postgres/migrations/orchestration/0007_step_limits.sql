-- Concurrency limits by key (our improvement, issue 11): at most `concurrency_limit` executions
-- with the same key run at once in a workspace. NULL: no limit.
ALTER TABLE steps ADD COLUMN concurrency_key TEXT COLLATE "C";
ALTER TABLE steps ADD COLUMN concurrency_limit BIGINT;
