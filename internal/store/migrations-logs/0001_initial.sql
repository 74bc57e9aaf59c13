-- Log store (semantics.md §24): its own SQLite file, separate from orchestration.

-- Templates repeat across entries (every print line of a loop, every cf.log_info call site).
CREATE TABLE templates (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  -- Unix ms, the worker's clock when it received the message from the executor
  timestamp INTEGER NOT NULL,
  -- 0 debug, 1 stdout, 2 info, 3 stderr, 4 warning, 5 error
  level INTEGER NOT NULL,
  template_id INTEGER REFERENCES templates (id),
  -- {name: log value} as JSON text, numbers exactly as posted
  values_json TEXT NOT NULL
) STRICT;

-- Every read is one run in (timestamp, id) order, optionally after a cursor.
CREATE INDEX messages_run_timestamp ON messages (run_id, timestamp, id);
