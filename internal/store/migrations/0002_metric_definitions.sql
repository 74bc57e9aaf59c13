-- Metric definitions (semantics.md §25): one per (execution, key), the first one sent wins.
-- Points live in the separate metric store; definitions belong to the run (snapshots, copies).
CREATE TABLE metric_definitions (
  execution_id INTEGER NOT NULL REFERENCES executions (id),
  key TEXT NOT NULL,
  group_name TEXT,
  group_units TEXT,
  group_lower REAL,
  group_upper REAL,
  -- a named y-axis shared within the group; NULL = private
  scale TEXT,
  units TEXT,
  -- 1: render as progress towards `upper`
  progress INTEGER NOT NULL,
  lower REAL,
  upper REAL,
  PRIMARY KEY (execution_id, key)
) STRICT;
