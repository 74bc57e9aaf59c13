/**
 * The epoch index, `orchestration/index.sqlite` (semantics.md §23.2): the archived epochs, and for
 * each one Bloom filters over its run ids, cache keys and idempotency keys (about 5 % false
 * positives). The filters are built in the background after a rotation, in batches, and persisted.
 */
import type { SqlDatabase } from './sql-database.ts'
import { BloomFilter } from './bloom.ts'
import type { MigrationSet } from './db.ts'
import m0001 from './migrations-epoch-index/0001_initial.sql' with { type: 'text' }
import type { ArchiveEntry, ArchiveIndex } from './rotating-database.ts'
import { PG_EPOCH_INDEX_MIGRATIONS } from './postgres/migrations/index.ts'

/** The migrations of the epoch index, embedded in the binary. Never edit a shipped one. */
export const EPOCH_INDEX_MIGRATIONS: MigrationSet = { sqlite: [{ version: 1, name: 'initial', sql: m0001 }], postgres: PG_EPOCH_INDEX_MIGRATIONS }

/** Bloom filter false-positive rate (§23.2). */
const FALSE_POSITIVE_RATE = 0.05
/** Rows read between two yields while building filters. */
const BATCH = 5_000

export type FilterKind = 'runs' | 'cacheKeys' | 'idempotencyKeys'
const FILTER_KINDS: FilterKind[] = ['runs', 'cacheKeys', 'idempotencyKeys']
export type Filters = Record<FilterKind, BloomFilter>

/** Cache and idempotency keys are blobs: filters hold their hex. */
export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

export interface EpochEntry extends ArchiveEntry {
  /** when its filters were built; null until then */
  readonly indexedAt: number | null
}

export class EpochIndex implements ArchiveIndex<EpochEntry> {
  readonly #db: SqlDatabase

  constructor(db: SqlDatabase) {
    this.#db = db
  }

  list(): EpochEntry[] {
    return this.#db
      .query<{ id: string; file: string; archived_at: number; indexed_at: number | null }, []>('SELECT * FROM epochs')
      .all()
      .map((r) => ({ id: r.id, file: r.file, archivedAt: r.archived_at, indexedAt: r.indexed_at }))
  }

  register(e: EpochEntry): void {
    this.#db.query('INSERT INTO epochs (id, file, archived_at, indexed_at) VALUES (?, ?, ?, ?)').run(e.id, e.file, e.archivedAt, e.indexedAt)
  }

  forget(id: string): void {
    this.#db.transaction(() => {
      this.#db.query('DELETE FROM filters WHERE epoch_id = ?').run(id)
      this.#db.query('DELETE FROM epochs WHERE id = ?').run(id)
    })()
  }

  /** An archive's persisted filters, or null when some kind is missing. */
  filters(id: string): Filters | null {
    const rows = this.#db
      .query<{ kind: string; bits: number; hashes: number; data: Uint8Array }, [string]>('SELECT kind, bits, hashes, data FROM filters WHERE epoch_id = ?')
      .all(id)
    const out: Partial<Filters> = {}
    for (const r of rows) {
      const kind = FILTER_KINDS.find((k) => k === r.kind)
      if (kind) out[kind] = new BloomFilter(r.bits, r.hashes, new Uint8Array(r.data))
    }
    const { runs, cacheKeys, idempotencyKeys } = out
    return runs && cacheKeys && idempotencyKeys ? { runs, cacheKeys, idempotencyKeys } : null
  }

  saveFilters(id: string, built: BuiltFilters, now: number): void {
    this.#db.transaction(() => {
      const insert = this.#db.query('INSERT OR REPLACE INTO filters (epoch_id, kind, bits, hashes, keys, data) VALUES (?, ?, ?, ?, ?, ?)')
      for (const kind of FILTER_KINDS) {
        const filter = built.filters[kind]
        insert.run(id, kind, filter.m, filter.k, built.counts[kind], filter.bits)
      }
      this.#db.query('UPDATE epochs SET indexed_at = ? WHERE id = ?').run(now, id)
    })()
  }
}

export interface BuiltFilters {
  filters: Filters
  /** keys added, per kind */
  counts: Record<FilterKind, number>
}

/**
 * Builds an archive's filters, reading it in batches and yielding between them so the server
 * keeps serving; null if `isStopped` says so first.
 */
export async function buildFilters(db: SqlDatabase, isStopped: () => boolean): Promise<BuiltFilters | null> {
  const count = (sql: string) => db.query<{ n: number }, []>(sql).get()?.n ?? 0
  const counts: Record<FilterKind, number> = {
    runs: count('SELECT COUNT(*) AS n FROM runs'),
    cacheKeys: count('SELECT COUNT(*) AS n FROM steps WHERE cache_key IS NOT NULL'),
    idempotencyKeys: count('SELECT COUNT(*) AS n FROM runs WHERE idempotency_key IS NOT NULL'),
  }
  const filters: Filters = {
    runs: BloomFilter.forCapacity(counts.runs, FALSE_POSITIVE_RATE),
    cacheKeys: BloomFilter.forCapacity(counts.cacheKeys, FALSE_POSITIVE_RATE),
    idempotencyKeys: BloomFilter.forCapacity(counts.idempotencyKeys, FALSE_POSITIVE_RATE),
  }
  const scan = async <R extends { id: number }>(sql: string, add: (row: R) => void): Promise<boolean> => {
    const query = db.query<R, [number, number]>(sql)
    let after = 0
    for (;;) {
      if (isStopped()) return false
      const rows = query.all(after, BATCH)
      for (const row of rows) add(row)
      if (rows.length < BATCH) return true
      after = rows.at(-1)!.id
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
  }
  const ok =
    (await scan<{ id: number; external_id: string }>('SELECT id, external_id FROM runs WHERE id > ? ORDER BY id LIMIT ?', (r) => filters.runs.add(r.external_id))) &&
    (await scan<{ id: number; cache_key: Uint8Array }>(
      'SELECT id, cache_key FROM steps WHERE id > ? AND cache_key IS NOT NULL ORDER BY id LIMIT ?',
      (r) => filters.cacheKeys.add(hex(r.cache_key)),
    )) &&
    (await scan<{ id: number; idempotency_key: Uint8Array }>(
      'SELECT id, idempotency_key FROM runs WHERE id > ? AND idempotency_key IS NOT NULL ORDER BY id LIMIT ?',
      (r) => filters.idempotencyKeys.add(hex(r.idempotency_key)),
    ))
  return ok ? { filters, counts } : null
}
