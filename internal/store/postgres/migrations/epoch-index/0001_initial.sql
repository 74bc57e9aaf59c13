-- The epoch index (semantics.md §23.2), PostgreSQL form of migrations-epoch-index/0001: the
-- archived epochs and the Bloom filters built for them in the background. Plain CREATE TABLE:
-- the SQLite file's IF NOT EXISTS covers index files older than that migration, which
-- PostgreSQL never had. No foreign key (postgres/migrations/index.ts); epoch-index.ts deletes
-- an epoch's filters before the epoch itself, so nothing relied on a cascade.

CREATE TABLE epochs (
  id TEXT COLLATE "C" PRIMARY KEY, -- YYYYMMDD_NNNN
  file TEXT COLLATE "C" NOT NULL,
  archived_at BIGINT NOT NULL,
  indexed_at BIGINT -- null until the filters are built
);

CREATE TABLE filters (
  epoch_id TEXT COLLATE "C" NOT NULL, -- epochs (id)
  kind TEXT COLLATE "C" NOT NULL, -- runs | cacheKeys | idempotencyKeys
  bits BIGINT NOT NULL,
  hashes BIGINT NOT NULL,
  keys BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (epoch_id, kind)
);
