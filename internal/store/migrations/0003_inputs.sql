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

-- The any-of gate of a suspended successor (semantics.md §14.5), now also on inputs. 0001 made
-- (execution_id, dependency_id, input_id) the primary key, but a STRICT table refuses NULL in
-- key columns and every gate leaves one of the two NULL: `INSERT OR IGNORE` dropped every gate,
-- so the table is necessarily empty and is recreated with one row per dependency.
DROP TABLE suspension_gates;
CREATE TABLE suspension_gates (
  execution_id INTEGER NOT NULL REFERENCES executions (id),
  dependency_id INTEGER REFERENCES executions (id),
  input_id INTEGER REFERENCES inputs (id),
  CHECK ((dependency_id IS NULL) <> (input_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX suspension_gates_execution ON suspension_gates (execution_id, dependency_id) WHERE dependency_id IS NOT NULL;
CREATE UNIQUE INDEX suspension_gates_input ON suspension_gates (execution_id, input_id) WHERE input_id IS NOT NULL;
