-- The runs with entries in this schema: an archived partition's Bloom filter is built from it
-- at rotation (semantics.md §24), without scanning the messages. (SQLite: WITHOUT ROWID.)
CREATE TABLE runs (
  run_id TEXT COLLATE "C" PRIMARY KEY
);

INSERT INTO runs (run_id) SELECT DISTINCT run_id FROM messages;
