-- Orchestration store of one project (semantics.md). Times are Unix milliseconds.

CREATE TABLE workspaces (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  base_id INTEGER REFERENCES workspaces (id),
  state INTEGER NOT NULL DEFAULT 0, -- 0 active, 1 paused, 2 archived
  created_at INTEGER NOT NULL
) STRICT;

-- every change of name, base or state (semantics.md §18.2: history is kept)
CREATE TABLE workspace_history (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  name TEXT NOT NULL,
  base_id INTEGER,
  state INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE manifests (
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  module TEXT NOT NULL,
  target TEXT NOT NULL,
  definition TEXT NOT NULL, -- JSON WorkflowManifest
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, module, target)
) STRICT;

CREATE TABLE principals (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL, -- 'user' | 'token'
  external_id TEXT NOT NULL,
  UNIQUE (type, external_id)
) STRICT;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  parent_execution_id INTEGER,
  requires TEXT, -- JSON tag set
  memo INTEGER NOT NULL DEFAULT 0,
  idempotency_key BLOB,
  created_at INTEGER NOT NULL,
  created_by INTEGER REFERENCES principals (id)
) STRICT;
CREATE INDEX runs_idempotency_key ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_parent ON runs (parent_execution_id) WHERE parent_execution_id IS NOT NULL;

-- de-duplicated values: content hash of the data + reference identities
CREATE TABLE value_store (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  kind INTEGER NOT NULL, -- 0 raw, 1 blob
  data TEXT, -- canonical JSON (raw)
  blob_key TEXT,
  size INTEGER,
  refs TEXT NOT NULL -- JSON array of server references (identities)
) STRICT;

CREATE TABLE steps (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id),
  number INTEGER NOT NULL,
  parent_execution_id INTEGER,
  module TEXT NOT NULL,
  target TEXT NOT NULL,
  type INTEGER NOT NULL, -- 0 task, 1 workflow
  priority INTEGER NOT NULL DEFAULT 0,
  wait_for TEXT, -- JSON list of argument indexes
  cache_config TEXT, -- JSON {params, maxAge, namespace, version}
  cache_key BLOB,
  defer_key BLOB,
  memo_key BLOB,
  retry_limit INTEGER NOT NULL DEFAULT 0, -- 0 none, -1 unlimited
  backoff_min INTEGER NOT NULL DEFAULT 0,
  backoff_max INTEGER NOT NULL DEFAULT 0,
  recurrent INTEGER NOT NULL DEFAULT 0,
  delay INTEGER NOT NULL DEFAULT 0,
  timeout INTEGER NOT NULL DEFAULT 0,
  requires TEXT, -- JSON tag set of the call
  arguments TEXT NOT NULL, -- JSON list of value_store ids
  created_at INTEGER NOT NULL,
  UNIQUE (run_id, number)
) STRICT;
CREATE INDEX steps_cache_key ON steps (cache_key) WHERE cache_key IS NOT NULL;
CREATE INDEX steps_memo_key ON steps (run_id, memo_key) WHERE memo_key IS NOT NULL;
CREATE INDEX steps_parent ON steps (parent_execution_id) WHERE parent_execution_id IS NOT NULL;

CREATE TABLE executions (
  id INTEGER PRIMARY KEY,
  step_id INTEGER NOT NULL REFERENCES steps (id),
  attempt INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  execute_after INTEGER,
  created_at INTEGER NOT NULL,
  created_by INTEGER REFERENCES principals (id),
  UNIQUE (step_id, attempt)
) STRICT;

CREATE TABLE assignments (
  execution_id INTEGER PRIMARY KEY REFERENCES executions (id),
  session_id INTEGER NOT NULL,
  assigned_at INTEGER NOT NULL,
  acknowledged_at INTEGER, -- first report from the worker (semantics.md §20.6)
  started_at INTEGER -- the worker's `started` (timeout backstop clock)
) STRICT;
CREATE INDEX assignments_session ON assignments (session_id);

CREATE TABLE results (
  execution_id INTEGER PRIMARY KEY REFERENCES executions (id),
  type INTEGER NOT NULL, -- semantics.md §4.1 codes
  value_id INTEGER REFERENCES value_store (id),
  error TEXT, -- JSON {type, message, frames}
  retryable INTEGER,
  successor_id INTEGER REFERENCES executions (id),
  created_at INTEGER NOT NULL,
  created_by INTEGER REFERENCES principals (id)
) STRICT;
CREATE INDEX results_successor ON results (successor_id) WHERE successor_id IS NOT NULL;

-- call edges: caller execution -> child execution (with the group it was made in)
CREATE TABLE children (
  parent_id INTEGER NOT NULL REFERENCES executions (id),
  child_id INTEGER NOT NULL REFERENCES executions (id),
  group_id INTEGER,
  PRIMARY KEY (parent_id, child_id)
) STRICT;
CREATE INDEX children_child ON children (child_id);

CREATE TABLE groups (
  execution_id INTEGER NOT NULL REFERENCES executions (id),
  group_id INTEGER NOT NULL,
  name TEXT,
  PRIMARY KEY (execution_id, group_id)
) STRICT;

-- provenance: executions an execution waited on or read (select, wait_for)
CREATE TABLE execution_dependencies (
  execution_id INTEGER NOT NULL REFERENCES executions (id),
  dependency_id INTEGER NOT NULL REFERENCES executions (id),
  PRIMARY KEY (execution_id, dependency_id)
) STRICT;

-- the any-of gate of a suspended successor (semantics.md §14.5)
CREATE TABLE suspension_gates (
  execution_id INTEGER NOT NULL REFERENCES executions (id),
  dependency_id INTEGER,
  input_id INTEGER,
  PRIMARY KEY (execution_id, dependency_id, input_id)
) STRICT;

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  secret_hash BLOB NOT NULL,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  provides TEXT NOT NULL,
  accepts TEXT NOT NULL,
  worker_id INTEGER,
  activation_timeout INTEGER NOT NULL,
  reconnection_timeout INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  activated_at INTEGER,
  expired_at INTEGER
) STRICT;

CREATE TABLE assets (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  hash BLOB NOT NULL UNIQUE,
  name TEXT,
  total_count INTEGER NOT NULL,
  total_size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE asset_entries (
  asset_id INTEGER NOT NULL REFERENCES assets (id),
  path TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (asset_id, path)
) STRICT;

CREATE TABLE asset_links (
  asset_id INTEGER NOT NULL REFERENCES assets (id),
  execution_id INTEGER NOT NULL REFERENCES executions (id),
  role INTEGER NOT NULL, -- 0 produced, 1 used
  PRIMARY KEY (asset_id, execution_id, role)
) STRICT;
CREATE INDEX asset_links_execution ON asset_links (execution_id);

CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT,
  workspaces TEXT, -- JSON list of patterns, null = all
  created_by INTEGER REFERENCES principals (id),
  created_at INTEGER NOT NULL, -- seconds
  expires_at INTEGER, -- seconds
  revoked_at INTEGER -- seconds
) STRICT;
