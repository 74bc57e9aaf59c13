-- Inputs (prompts) asked by executions (semantics.md §26). Times are Unix milliseconds.

-- template + placeholder values, de-duplicated (§26 step 3)
CREATE TABLE prompts (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  template TEXT NOT NULL,
  placeholders TEXT NOT NULL -- JSON {name: value_store id}
) STRICT;

CREATE TABLE inputs (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE, -- <run>/i<number>
  run_id INTEGER NOT NULL REFERENCES runs (id),
  number INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  prompt_id INTEGER NOT NULL REFERENCES prompts (id),
  schema TEXT, -- JSON Schema text as submitted
  key TEXT,
  title TEXT,
  actions TEXT, -- JSON [respond label, dismiss label]
  initial TEXT, -- JSON text
  requires TEXT, -- JSON tag set
  execution_id INTEGER NOT NULL REFERENCES executions (id), -- the creating execution
  created_at INTEGER NOT NULL,
  UNIQUE (run_id, number)
) STRICT;
CREATE INDEX inputs_key ON inputs (run_id, key) WHERE key IS NOT NULL;

-- at most one per input: the first recorded wins
CREATE TABLE input_responses (
  input_id INTEGER PRIMARY KEY REFERENCES inputs (id),
  type INTEGER NOT NULL, -- 0 value, 1 dismissed, 2 cancelled
  value TEXT, -- the response JSON text, verbatim (values.md §7)
  created_at INTEGER NOT NULL,
  created_by INTEGER REFERENCES principals (id)
) STRICT;

-- executions that submitted (0) or selected / cancelled (1) an input: provenance and read scoping
CREATE TABLE input_links (
  input_id INTEGER NOT NULL REFERENCES inputs (id),
  execution_id INTEGER NOT NULL REFERENCES executions (id),
  role INTEGER NOT NULL,
  PRIMARY KEY (input_id, execution_id, role)
) STRICT;
CREATE INDEX input_links_execution ON input_links (execution_id);
