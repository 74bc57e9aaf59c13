-- Pools and the workers they launch (semantics.md §21). Times are Unix milliseconds.

-- one row per pool; a deleted pool keeps its row (its workers refer to it) and frees its name
CREATE TABLE pools (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  name TEXT NOT NULL,
  modules TEXT NOT NULL, -- JSON list of module patterns
  provides TEXT NOT NULL, -- JSON tag set
  accepts TEXT NOT NULL, -- JSON tag set
  launcher TEXT, -- JSON launcher configuration; secret fields hold ciphertext (http-api.md §16.6)
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
) STRICT;
CREATE UNIQUE INDEX pools_live_name ON pools (workspace_id, name) WHERE deleted_at IS NULL;

-- a worker launched by a pool; `sessions.worker_id` points here
CREATE TABLE workers (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE, -- UUID v4
  pool_id INTEGER NOT NULL REFERENCES pools (id),
  state INTEGER NOT NULL DEFAULT 0, -- 0 active, 1 paused, 2 draining
  starting_at INTEGER NOT NULL,
  started_at INTEGER,
  start_error TEXT,
  handle TEXT, -- JSON: what the launcher needs to poll and stop it
  stopping_at INTEGER,
  stopped_at INTEGER,
  stop_error TEXT,
  deactivated_at INTEGER,
  error TEXT,
  logs TEXT
) STRICT;
CREATE INDEX workers_pool ON workers (pool_id, starting_at);
CREATE INDEX workers_running ON workers (pool_id) WHERE deactivated_at IS NULL;
CREATE INDEX sessions_worker ON sessions (worker_id) WHERE worker_id IS NOT NULL;
