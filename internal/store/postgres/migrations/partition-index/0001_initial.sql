-- The partition index of the log or metric store (semantics.md §24), PostgreSQL form of
-- migrations-partition-index/0001: the archived partitions, their last ids and stamps, and the
-- Bloom filter of each one's run ids, built at rotation. Plain CREATE TABLE: the SQLite file's
-- IF NOT EXISTS covers index files older than that migration, which PostgreSQL never had.

CREATE TABLE partitions (
  id TEXT COLLATE "C" PRIMARY KEY, -- YYYYMMDD_NNNN
  file TEXT COLLATE "C" NOT NULL,
  archived_at BIGINT NOT NULL,
  -- the newest insertion id and stamp in this archive or any before it
  last_id BIGINT NOT NULL,
  last_stamp BIGINT NOT NULL,
  -- Bloom filter over the partition's run ids
  filter_bits BIGINT NOT NULL,
  filter_hashes BIGINT NOT NULL,
  filter BYTEA NOT NULL
);
