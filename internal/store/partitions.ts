/**
 * Partitions of the log and metric stores (semantics.md §24, http-api.md §2.4, §12):
 *
 *     <project>/logs.sqlite                   the active partition (`''` in cursors)
 *     <project>/logs/<YYYYMMDD_NNNN>.sqlite   archived partitions, opened read-only on first use
 *     <project>/logs/index.sqlite             the index: archives, their last ids, run-id filters
 *
 * and `metrics.sqlite`, `metrics/…` alike. Rotation (at 100 MiB, or `rotate_logs`) moves the active
 * file into the archive directory and starts an empty one: unlike orchestration epochs nothing is
 * copied, so it takes milliseconds. Reads go through the archives oldest first, then the active
 * partition, skipping archives whose Bloom filter rules out the run without opening them.
 *
 * The files and the handles open on them belong to a `RotatingDatabase` (rotating-database.ts);
 * this module adds what is particular to partitions: their index rows and filters, read order.
 *
 * Insertion ids continue across partitions, so an id names its partition: a cursor issued for the
 * active store before a rotation (`:<stamp>:<id>`, or the older `<stamp>:<id>`) still continues
 * after the right entry once that store is an archive.
 */
import type { SqlDatabase } from './sql-database.ts'
import { BloomFilter } from './bloom.ts'
import { sqliteHost, type DatabaseHost } from './database-host.ts'
import { closeDatabase, type MigrationSet } from './db.ts'
import m0001 from './migrations-partition-index/0001_initial.sql' with { type: 'text' }
import type { Cursor } from './pages.ts'
import { RotatingDatabase, type ArchiveEntry, type ArchiveIndex } from './rotating-database.ts'
import { PG_PARTITION_INDEX_MIGRATIONS } from './postgres/migrations/index.ts'

/** Size at which a log or metric store rotates (semantics.md §24), checked with the epochs' interval. */
export const PARTITION_MAX_BYTES = 100 * 1024 * 1024
const FALSE_POSITIVE_RATE = 0.05
// Runs already in the active partition's `runs` table; past this many the cache restarts.
const RUN_CACHE_SIZE = 100_000

/** The migrations of `<store>/index.sqlite`, embedded in the binary. Never edit a shipped one. */
export const PARTITION_INDEX_MIGRATIONS: MigrationSet = { sqlite: [{ version: 1, name: 'initial', sql: m0001 }], postgres: PG_PARTITION_INDEX_MIGRATIONS }

/**
 * One SQLite file of a partitioned store. Subclasses write rows through `write`, which hands out
 * the insertion ids and records each run in the partition's `runs` table (the source of the
 * archive's filter).
 */
export abstract class PartitionFile {
  readonly #knownRuns = new Set<string>()
  readonly #noteRun
  readonly #newest
  #nextId: number

  /** `table` and `stamp` name the rows and their ordering column; ids start after `after`. */
  constructor(
    readonly id: string,
    readonly db: SqlDatabase,
    table: string,
    stamp: string,
    after: number,
  ) {
    this.#noteRun = db.query<never, [string]>('INSERT OR IGNORE INTO runs (run_id) VALUES (?)')
    this.#newest = db.query<{ id: number; stamp: number }, []>(`SELECT id, ${stamp} AS stamp FROM ${table} ORDER BY id DESC LIMIT 1`)
    this.#nextId = Math.max(this.newest()?.id ?? 0, after) + 1
  }

  /** The newest row's id and stamp. */
  newest(): { id: number; stamp: number } | null {
    return this.#newest.get()
  }

  runIds(): string[] {
    return this.db.query<{ run_id: string }, []>('SELECT run_id FROM runs').all().map((r) => r.run_id)
  }

  /** Inserts a batch in one transaction; `insert` writes one item under the id it is given. */
  protected write<T extends { runId: string }, S>(batch: readonly T[], insert: (item: T, id: number) => S): S[] {
    const first = this.#nextId
    const runs = new Set(batch.map((item) => item.runId).filter((run) => !this.#knownRuns.has(run)))
    const stored = this.db.transaction(() => {
      for (const run of runs) this.#noteRun.run(run)
      return batch.map((item, i) => insert(item, first + i))
    })()
    this.#nextId = first + batch.length
    if (this.#knownRuns.size + runs.size > RUN_CACHE_SIZE) this.#knownRuns.clear()
    for (const run of runs) this.#knownRuns.add(run)
    return stored
  }

  close(): void {
    closeDatabase(this.db)
  }
}

export type OpenPartition<P extends PartitionFile> = (id: string, db: SqlDatabase, after: number) => P

interface PartitionEntry extends ArchiveEntry {
  /** the newest insertion id in this archive or any before it */
  readonly lastId: number
  /** the newest row's stamp (0 if it has none) */
  readonly lastStamp: number
  /** over the archive's run ids */
  readonly filter: BloomFilter
}

interface PartitionRow {
  id: string
  file: string
  archived_at: number
  last_id: number
  last_stamp: number
  filter_bits: number
  filter_hashes: number
  filter: Uint8Array
}

/** The index of one store's archived partitions. */
class PartitionIndex implements ArchiveIndex<PartitionEntry> {
  readonly #db: SqlDatabase

  constructor(db: SqlDatabase) {
    this.#db = db
  }

  list(): PartitionEntry[] {
    return this.#db
      .query<PartitionRow, []>('SELECT * FROM partitions')
      .all()
      .map((r) => ({
        id: r.id,
        file: r.file,
        archivedAt: r.archived_at,
        lastId: r.last_id,
        lastStamp: r.last_stamp,
        filter: new BloomFilter(r.filter_bits, r.filter_hashes, new Uint8Array(r.filter)),
      }))
  }

  register(e: PartitionEntry): void {
    this.#db
      .query('INSERT INTO partitions (id, file, archived_at, last_id, last_stamp, filter_bits, filter_hashes, filter) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.id, e.file, e.archivedAt, e.lastId, e.lastStamp, e.filter.m, e.filter.k, e.filter.bits)
  }

  forget(id: string): void {
    this.#db.query('DELETE FROM partitions WHERE id = ?').run(id)
  }
}

function filterOf(runIds: readonly string[]): BloomFilter {
  const filter = BloomFilter.forCapacity(runIds.length, FALSE_POSITIVE_RATE)
  for (const run of runIds) filter.add(run)
  return filter
}

/** The active partition and the archives of one log or metric store, and rotation. */
export class Partitions<P extends PartitionFile> {
  readonly #activePath: string
  readonly #host: DatabaseHost
  readonly #files: RotatingDatabase<P, P, PartitionEntry, PartitionIndex>

  constructor(activePath: string, migrations: MigrationSet, open: OpenPartition<P>, host: DatabaseHost = sqliteHost) {
    this.#activePath = activePath
    this.#host = host
    this.#files = new RotatingDatabase<P, P, PartitionEntry, PartitionIndex>(activePath, {
      host,
      migrations,
      indexMigrations: PARTITION_INDEX_MIGRATIONS,
      openIndex: (db) => new PartitionIndex(db),
      openActive: (db, newest) => open('', db, newest?.lastId ?? 0),
      openArchive: (path, entry) => open(entry.id, host.openArchive(path, migrations), entry.lastId),
      recoverEntry: (id, file, path) => {
        const partition = open(id, host.openArchive(path, migrations), 0)
        try {
          const newest = partition.newest()
          return { id, file, archivedAt: Date.now(), lastId: newest?.id ?? 0, lastStamp: newest?.stamp ?? 0, filter: filterOf(partition.runIds()) }
        } finally {
          partition.close()
        }
      },
    })
  }

  get active(): P {
    return this.#files.active
  }

  /** Archived partitions, oldest first. */
  list(): { id: string; archivedAt: number }[] {
    return this.#files.archives.map((a) => ({ id: a.entry.id, archivedAt: a.entry.archivedAt }))
  }

  /** The newest stamp written, in any partition (0 if none). */
  lastStamp(): number {
    return Math.max(this.active.newest()?.stamp ?? 0, this.#files.archives.at(-1)?.entry.lastStamp ?? 0)
  }

  /** Bytes of the active partition, its WAL included. */
  sizeBytes(): number {
    return this.#host.sizeBytes(this.#activePath, this.active.db)
  }

  /**
   * The partitions a page after `cursor` reads, in order, each with the position to read after.
   * Archives whose filter rules out `run` are skipped (null: read them all).
   */
  *readOrder(cursor: Cursor | null, run: string | null): Generator<{ partition: P; after: Cursor | null }> {
    const archives = this.#files.archives
    let start = 0
    let after: Cursor | null = null
    if (cursor && cursor.partition === '') {
      // an id no later than an archive's last was written there, while it was the active store
      const i = archives.findIndex((a) => cursor.id <= a.entry.lastId)
      start = i >= 0 ? i : archives.length
      after = cursor
    } else if (cursor) {
      // an archive no longer here (or never here) is passed over: continue with the next one
      const i = archives.findIndex((a) => a.entry.id >= cursor.partition)
      start = i >= 0 ? i : archives.length
      after = archives[start]?.entry.id === cursor.partition ? cursor : null
    }
    for (let i = start; i < archives.length; i++) {
      const archive = archives[i]!
      if (run !== null && !archive.entry.filter.mayContain(run)) continue
      yield { partition: archive.handle, after: i === start ? after : null }
    }
    yield { partition: this.active, after: start === archives.length ? after : null }
  }

  /**
   * Archives the active partition and starts an empty one; returns the archive's id. The caller
   * has written everything buffered first. Nothing is copied, so it takes milliseconds.
   */
  rotate(now: number): string {
    const previous = this.#files.archives.at(-1)?.entry
    const entry = this.#files.rotate(now, (id, file, active) => {
      const newest = active.newest()
      return {
        id,
        file,
        archivedAt: now,
        lastId: Math.max(newest?.id ?? 0, previous?.lastId ?? 0),
        lastStamp: Math.max(newest?.stamp ?? 0, previous?.lastStamp ?? 0),
        filter: filterOf(active.runIds()),
      }
    })
    return entry.id
  }

  /** Retention (semantics.md §23.3): deletes the archives archived before `cutoff`; their ids. */
  deleteArchivedBefore(cutoff: number): string[] {
    return this.#files.deleteArchivedBefore(cutoff).map((e) => e.id)
  }

  close(): void {
    this.#files.close()
  }
}
