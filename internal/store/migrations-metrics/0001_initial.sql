-- Metric store (semantics.md §25): its own SQLite file, separate from orchestration and logs.
-- Definitions live in the orchestration store (they belong to the run); only points are here.

CREATE TABLE points (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  -- the x value: seconds since the execution started, or a user-chosen axis
  at REAL NOT NULL,
  -- Unix ms, the server's clock when the batch was accepted: the order of reads and cursors
  created_at INTEGER NOT NULL
) STRICT;

-- Reads are one run (the live view) or one execution, in (created_at, id) order after a cursor.
CREATE INDEX points_run ON points (run_id, created_at, id);
CREATE INDEX points_execution ON points (execution_id, created_at, id);
