-- The epoch index, orchestration/index.sqlite (semantics.md §23.2): the archived epochs and the
-- Bloom filters built for them in the background. IF NOT EXISTS: index files written before this
-- migration existed already have these tables, created by the code itself.

CREATE TABLE IF NOT EXISTS epochs (
  id TEXT PRIMARY KEY, -- YYYYMMDD_NNNN
  file TEXT NOT NULL,
  archived_at INTEGER NOT NULL,
  indexed_at INTEGER -- null until the filters are built
) STRICT;

CREATE TABLE IF NOT EXISTS filters (
  epoch_id TEXT NOT NULL REFERENCES epochs (id),
  kind TEXT NOT NULL, -- runs | cacheKeys | idempotencyKeys
  bits INTEGER NOT NULL,
  hashes INTEGER NOT NULL,
  keys INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (epoch_id, kind)
) STRICT;
