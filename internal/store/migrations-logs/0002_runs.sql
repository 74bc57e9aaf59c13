-- The runs with entries in this file: an archived partition's Bloom filter is built from it at
-- rotation (semantics.md §24), without scanning the messages.
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

INSERT INTO runs (run_id) SELECT DISTINCT run_id FROM messages;
