-- Metric definitions (semantics.md §25): one per (execution, key), the first one sent wins.
-- Points live in the separate metric store; definitions belong to the run (snapshots, copies).
CREATE TABLE metric_definitions (
  execution_id BIGINT NOT NULL, -- executions (id)
  key TEXT COLLATE "C" NOT NULL,
  group_name TEXT COLLATE "C",
  group_units TEXT COLLATE "C",
  group_lower DOUBLE PRECISION,
  group_upper DOUBLE PRECISION,
  -- a named y-axis shared within the group; NULL = private
  scale TEXT COLLATE "C",
  units TEXT COLLATE "C",
  -- 1: render as progress towards `upper`
  progress BIGINT NOT NULL,
  lower DOUBLE PRECISION,
  upper DOUBLE PRECISION,
  PRIMARY KEY (execution_id, key)
);
