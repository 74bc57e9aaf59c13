-- The runs with points in this file: an archived partition's Bloom filter is built from it at
-- rotation (semantics.md §24–§25), without scanning the points.
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

INSERT INTO runs (run_id) SELECT DISTINCT run_id FROM points;
