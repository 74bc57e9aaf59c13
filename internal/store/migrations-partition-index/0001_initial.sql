-- The partition index of the log or metric store, logs/index.sqlite and metrics/index.sqlite
-- (semantics.md §24): the archived partitions, their last ids and stamps, and the Bloom filter of
-- each one's run ids, built at rotation. IF NOT EXISTS: index files written before this migration
-- existed already have the table, created by the code itself.

CREATE TABLE IF NOT EXISTS partitions (
  id TEXT PRIMARY KEY, -- YYYYMMDD_NNNN
  file TEXT NOT NULL,
  archived_at INTEGER NOT NULL,
  -- the newest insertion id and stamp in this archive or any before it
  last_id INTEGER NOT NULL,
  last_stamp INTEGER NOT NULL,
  -- Bloom filter over the partition's run ids
  filter_bits INTEGER NOT NULL,
  filter_hashes INTEGER NOT NULL,
  filter BLOB NOT NULL
) STRICT;
