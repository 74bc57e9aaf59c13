-- Durable waiting: how many times an abandoned workflow execution is resumed with a new attempt
-- (0 for tasks and for workflows that opt out).
ALTER TABLE steps ADD COLUMN resume_limit BIGINT NOT NULL DEFAULT 0;
