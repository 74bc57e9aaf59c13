-- The runs with points in this schema: an archived partition's Bloom filter is built from it
-- at rotation (semantics.md §24–§25), without scanning the points. (SQLite: WITHOUT ROWID.)
CREATE TABLE runs (
  run_id TEXT COLLATE "C" PRIMARY KEY
);

INSERT INTO runs (run_id) SELECT DISTINCT run_id FROM points;
