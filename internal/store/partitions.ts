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
 * Insertion ids continue across partitions, so an id names its partition: a cursor issued for the
 * active store before a rotation (`:<stamp>:<id>`, or the older `<stamp>:<id>`) still continues
 * after the right entry once that store is an archive.
 */
import { Database } from 'bun:sqlite'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { BloomFilter } from './bloom.ts'
import { closeDatabase, migrate, openDatabase, type Migration } from './db.ts'
import { nextEpochId } from './epochs.ts'
import type { Cursor } from './pages.ts'

/** Size at which a log or metric store rotates (semantics.md §24), checked with the epochs' interval. */
export const PARTITION_MAX_BYTES = 100 * 1024 * 1024
const FALSE_POSITIVE_RATE = 0.05
const INDEX_FILE = 'index.sqlite'
const ARCHIVE_ID = /^\d{8}_\d{4}$/
// Runs already in the active partition's `runs` table; past this many the cache restarts.
const RUN_CACHE_SIZE = 100_000

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
    readonly db: Database,
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

export type OpenPartition<P extends PartitionFile> = (id: string, db: Database, after: number) => P

interface ArchiveEntry {
  id: string
  file: string
  archivedAt: number
  /** the newest insertion id in this archive or any before it */
  lastId: number
  /** the newest row's stamp (0 if it has none) */
  lastStamp: number
  filter: BloomFilter
}

interface ArchiveRow {
  id: string
  file: string
  archived_at: number
  last_id: number
  last_stamp: number
  filter_bits: number
  filter_hashes: number
  filter: Uint8Array
}

/** The index of one store's archives. */
class PartitionIndex {
  readonly #db: Database

  constructor(path: string) {
    this.#db = openDatabase(path)
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS partitions (
        id TEXT PRIMARY KEY, -- YYYYMMDD_NNNN
        file TEXT NOT NULL,
        archived_at INTEGER NOT NULL,
        last_id INTEGER NOT NULL,
        last_stamp INTEGER NOT NULL,
        -- Bloom filter over the partition's run ids
        filter_bits INTEGER NOT NULL,
        filter_hashes INTEGER NOT NULL,
        filter BLOB NOT NULL
      ) STRICT
    `)
  }

  list(): ArchiveEntry[] {
    return this.#db
      .query<ArchiveRow, []>('SELECT * FROM partitions ORDER BY id')
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

  register(e: ArchiveEntry): void {
    this.#db
      .query('INSERT INTO partitions (id, file, archived_at, last_id, last_stamp, filter_bits, filter_hashes, filter) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.id, e.file, e.archivedAt, e.lastId, e.lastStamp, e.filter.m, e.filter.k, e.filter.bits)
  }

  forget(id: string): void {
    this.#db.query('DELETE FROM partitions WHERE id = ?').run(id)
  }

  close(): void {
    this.#db.close()
  }
}

function filterOf(runIds: readonly string[]): BloomFilter {
  const filter = BloomFilter.forCapacity(runIds.length, FALSE_POSITIVE_RATE)
  for (const run of runIds) filter.add(run)
  return filter
}

/**
 * Opens an archive read-only; first, one written by an older version gets the later migrations,
 * and one left in WAL mode (its rotation could not switch it) leaves it.
 */
function openArchive(path: string, migrations: Migration[]): Database {
  const db = new Database(path, { strict: true })
  try {
    migrate(db, migrations)
    db.exec('PRAGMA journal_mode = DELETE')
  } finally {
    db.close()
  }
  return new Database(path, { readonly: true, strict: true })
}

/** An archive id after every existing one, even when the clock has gone back a day. */
function nextArchiveId(now: number, existing: readonly string[]): string {
  const newest = existing.at(-1)
  if (!newest) return nextEpochId(now, existing)
  const newestDay = Date.UTC(Number(newest.slice(0, 4)), Number(newest.slice(4, 6)) - 1, Number(newest.slice(6, 8)))
  return nextEpochId(Math.max(now, newestDay), existing)
}

class Archive<P extends PartitionFile> {
  #partition: P | null = null

  constructor(
    readonly entry: ArchiveEntry,
    readonly path: string,
    readonly open: () => P,
  ) {}

  get partition(): P {
    return (this.#partition ??= this.open())
  }

  close(): void {
    this.#partition?.close()
    this.#partition = null
  }
}

/** The active partition and the archives of one log or metric store, and rotation. */
export class Partitions<P extends PartitionFile> {
  readonly #activePath: string
  readonly #dir: string
  readonly #migrations: Migration[]
  readonly #open: OpenPartition<P>
  #index: PartitionIndex | null = null
  /** oldest first */
  readonly #archives: Archive<P>[] = []
  #active: P
  #closed = false

  constructor(activePath: string, migrations: Migration[], open: OpenPartition<P>) {
    this.#activePath = activePath
    this.#dir = join(dirname(activePath), basename(activePath, '.sqlite'))
    this.#migrations = migrations
    this.#open = open
    // nothing is created on read: the directory and its index appear with the first rotation
    if (existsSync(join(this.#dir, INDEX_FILE))) this.#load()
    this.#active = this.#openActive()
  }

  get active(): P {
    return this.#active
  }

  /** Archived partitions, oldest first. */
  list(): { id: string; archivedAt: number }[] {
    return this.#archives.map((a) => ({ id: a.entry.id, archivedAt: a.entry.archivedAt }))
  }

  /** The newest stamp written, in any partition (0 if none). */
  lastStamp(): number {
    return Math.max(this.#active.newest()?.stamp ?? 0, this.#archives.at(-1)?.entry.lastStamp ?? 0)
  }

  /** Bytes of the active partition, its WAL included. */
  sizeBytes(): number {
    let total = 0
    for (const path of [this.#activePath, `${this.#activePath}-wal`]) {
      try {
        total += statSync(path).size
      } catch {
        // no such file yet
      }
    }
    return total
  }

  /**
   * The partitions a page after `cursor` reads, in order, each with the position to read after.
   * Archives whose filter rules out `run` are skipped (null: read them all).
   */
  *readOrder(cursor: Cursor | null, run: string | null): Generator<{ partition: P; after: Cursor | null }> {
    const archives = this.#archives
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
      yield { partition: archive.partition, after: i === start ? after : null }
    }
    yield { partition: this.#active, after: start === archives.length ? after : null }
  }

  /**
   * Archives the active partition and starts an empty one; returns the archive's id. The caller
   * has written everything buffered first.
   */
  rotate(now: number): string {
    if (this.#closed) throw new Error(`${basename(this.#activePath)} is closed`)
    const index = this.#indexDb()
    const id = nextArchiveId(now, this.#archives.map((a) => a.entry.id))
    const file = `${id}.sqlite`
    const archivePath = join(this.#dir, file)
    const active = this.#active
    const newest = active.newest()
    const previous = this.#archives.at(-1)?.entry
    const entry: ArchiveEntry = {
      id,
      file,
      archivedAt: now,
      lastId: Math.max(newest?.id ?? 0, previous?.lastId ?? 0),
      lastStamp: Math.max(newest?.stamp ?? 0, previous?.lastStamp ?? 0),
      filter: filterOf(active.runIds()),
    }
    // registered before the move: a crash in between leaves an entry without a file, forgotten at load
    index.register(entry)
    // the archive leaves WAL mode so that it can be opened read-only without side files
    try {
      active.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
      active.db.exec('PRAGMA journal_mode = DELETE')
    } catch {
      // still readable: an archive in WAL mode is switched when opened
    }
    active.close()
    try {
      renameSync(this.#activePath, archivePath)
      for (const suffix of ['-wal', '-shm']) rmSync(this.#activePath + suffix, { force: true })
    } catch (err) {
      index.forget(id)
      this.#active = this.#openActive()
      throw err
    }
    this.#archives.push(this.#archive(entry))
    this.#active = this.#openActive()
    return id
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const a of this.#archives) a.close()
    this.#active.close()
    this.#index?.close()
    this.#index = null
  }

  #openActive(): P {
    const db = openDatabase(this.#activePath)
    try {
      migrate(db, this.#migrations)
      return this.#open('', db, this.#archives.at(-1)?.entry.lastId ?? 0)
    } catch (err) {
      db.close()
      throw err
    }
  }

  #archive(entry: ArchiveEntry): Archive<P> {
    const path = join(this.#dir, entry.file)
    return new Archive(entry, path, () => this.#open(entry.id, openArchive(path, this.#migrations), entry.lastId))
  }

  #indexDb(): PartitionIndex {
    if (!this.#index) {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
      this.#index = new PartitionIndex(join(this.#dir, INDEX_FILE))
    }
    return this.#index
  }

  #load(): void {
    const index = this.#indexDb()
    const listed = new Set<string>()
    for (const entry of index.list()) {
      if (!existsSync(join(this.#dir, entry.file))) {
        // registered by a rotation that never moved its file
        index.forget(entry.id)
        continue
      }
      listed.add(entry.file)
      this.#archives.push(this.#archive(entry))
    }
    // an archive in place whose registration was lost (copied in by hand) is registered again
    for (const file of readdirSync(this.#dir).sort()) {
      const id = basename(file, '.sqlite')
      if (!file.endsWith('.sqlite') || listed.has(file) || !ARCHIVE_ID.test(id)) continue
      const entry = this.#describe(id, file)
      index.register(entry)
      this.#archives.push(this.#archive(entry))
    }
    this.#archives.sort((a, b) => (a.entry.id < b.entry.id ? -1 : 1))
  }

  /** An index entry for an archive file, read from the file itself. */
  #describe(id: string, file: string): ArchiveEntry {
    const partition = this.#open(id, openArchive(join(this.#dir, file), this.#migrations), 0)
    try {
      const newest = partition.newest()
      return { id, file, archivedAt: Date.now(), lastId: newest?.id ?? 0, lastStamp: newest?.stamp ?? 0, filter: filterOf(partition.runIds()) }
    } finally {
      partition.close()
    }
  }
}
