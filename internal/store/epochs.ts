/**
 * Epochs of a project's orchestration store (semantics.md §23, http-api.md §2.4):
 *
 *     <project>/orchestration.sqlite            the active epoch
 *     <project>/orchestration/<epoch>.sqlite    archived epochs (`YYYYMMDD_NNNN`), read-only
 *     <project>/orchestration/index.sqlite      the epoch index: archives and their Bloom filters
 *
 * Rotation builds the new active database beside the archive (configuration copied whole, live
 * runs copied keeping their integer ids), registers the archive in the index, moves the active
 * file into the archive directory, moves the new one into place and swaps it under the running
 * facade. Archives stay open read-only; their filters (run ids, cache keys, idempotency keys,
 * about 5 % false positives) are built in the background and persisted. Lookups go through the
 * unindexed archives first, then the indexed ones whose filter may hold the key, newest first.
 */
import { Database } from 'bun:sqlite'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { ServerValue } from '../protocol/values.ts'
import { BloomFilter } from './bloom.ts'
import { migrate, openDatabase } from './db.ts'
import { copyConfiguration, isValueResult, liveRunIds, resolveIn, RunCopier, type CopiedRuns, type KeepLive } from './epoch-copy.ts'
import type { OrchestrationStore, StoreOptions } from './index.ts'
import { ORCHESTRATION_MIGRATIONS } from './migrations/index.ts'
import type { AssetRecord } from './assets.ts'
import type { ExecutionRecord, RunRecord } from './types.ts'

export type { KeepLive, CopiedRuns } from './epoch-copy.ts'

/** Rotation threshold and how often it is checked (semantics.md §23.1). */
export const EPOCH_MAX_BYTES = 100 * 1024 * 1024
export const EPOCH_CHECK_INTERVAL_MS = 60_000
/** Bloom filter false-positive rate (§23.2). */
const FALSE_POSITIVE_RATE = 0.05
/** Workflow topics list runs from at most this many archives (§23.2). */
const RECENT_ARCHIVES = 5
const NEXT_FILE = 'next.sqlite'
const INDEX_FILE = 'index.sqlite'
const EPOCH_ID = /^\d{8}_\d{4}$/
const INDEX_BATCH = 5_000

type FilterKind = 'runs' | 'cacheKeys' | 'idempotencyKeys'
const FILTER_KINDS: FilterKind[] = ['runs', 'cacheKeys', 'idempotencyKeys']
type Filters = Record<FilterKind, BloomFilter>

export type StoreFactory = (path: string, options: StoreOptions) => OrchestrationStore

/** Where something was found: the active store (`epochId` null) or an archive. */
export interface Located<T> {
  value: T
  store: OrchestrationStore
  epochId: string | null
}

/** A cache hit in an archive (§6.1): the candidate's reference and its value. */
export interface ArchivedCacheHit {
  executionExternalId: string
  value: ServerValue
  epochId: string
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** `YYYYMMDD_NNNN`: the (UTC) day plus a counter within the day. */
export function nextEpochId(now: number, existing: Iterable<string>): string {
  const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '')
  let max = 0
  for (const id of existing) if (id.startsWith(`${day}_`)) max = Math.max(max, Number(id.slice(9)))
  return `${day}_${String(max + 1).padStart(4, '0')}`
}

function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true })
}

/**
 * Finishes a rotation interrupted by a crash, before the active database is opened: a new
 * database that never replaced the active one is discarded, unless the active file is already
 * in the archive (then it takes its place).
 */
export function recoverRotation(activePath: string): void {
  const next = join(dirname(activePath), 'orchestration', NEXT_FILE)
  if (!existsSync(next)) return
  if (existsSync(activePath)) removeDatabaseFiles(next)
  else {
    renameSync(next, activePath)
    for (const suffix of ['-wal', '-shm']) if (existsSync(next + suffix)) renameSync(next + suffix, activePath + suffix)
  }
}

/** The epoch index: archives, newest first, and their persisted filters. */
class EpochIndex {
  readonly db: Database

  constructor(path: string) {
    this.db = openDatabase(path)
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS epochs (
        id TEXT PRIMARY KEY, -- YYYYMMDD_NNNN
        file TEXT NOT NULL,
        archived_at INTEGER NOT NULL,
        indexed_at INTEGER
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
    `)
  }

  list(): { id: string; file: string; archivedAt: number; indexedAt: number | null }[] {
    return this.db
      .query<{ id: string; file: string; archived_at: number; indexed_at: number | null }, []>('SELECT * FROM epochs ORDER BY id DESC')
      .all()
      .map((r) => ({ id: r.id, file: r.file, archivedAt: r.archived_at, indexedAt: r.indexed_at }))
  }

  register(id: string, file: string, archivedAt: number): void {
    this.db.query('INSERT INTO epochs (id, file, archived_at) VALUES (?, ?, ?)').run(id, file, archivedAt)
  }

  forget(id: string): void {
    this.db.transaction(() => {
      this.db.query('DELETE FROM filters WHERE epoch_id = ?').run(id)
      this.db.query('DELETE FROM epochs WHERE id = ?').run(id)
    })()
  }

  filters(id: string): Filters | null {
    const rows = this.db
      .query<{ kind: string; bits: number; hashes: number; data: Uint8Array }, [string]>('SELECT kind, bits, hashes, data FROM filters WHERE epoch_id = ?')
      .all(id)
    const out: Partial<Filters> = {}
    for (const r of rows) if ((FILTER_KINDS as string[]).includes(r.kind)) out[r.kind as FilterKind] = new BloomFilter(r.bits, r.hashes, new Uint8Array(r.data))
    return FILTER_KINDS.every((k) => out[k]) ? (out as Filters) : null
  }

  saveFilters(id: string, filters: Filters, counts: Record<FilterKind, number>, now: number): void {
    this.db.transaction(() => {
      const insert = this.db.query('INSERT OR REPLACE INTO filters (epoch_id, kind, bits, hashes, keys, data) VALUES (?, ?, ?, ?, ?, ?)')
      for (const kind of FILTER_KINDS) insert.run(id, kind, filters[kind].m, filters[kind].k, counts[kind], filters[kind].bits)
      this.db.query('UPDATE epochs SET indexed_at = ? WHERE id = ?').run(now, id)
    })()
  }

  close(): void {
    this.db.close()
  }
}

/** One archived epoch: opened read-only on first use. */
class Archive {
  readonly id: string
  readonly path: string
  readonly archivedAt: number
  filters: Filters | null
  /** archives never change: workflow run lists are computed once per (workflow, workspace) */
  readonly recentRuns = new Map<string, RunRecord[]>()
  #store: OrchestrationStore | null = null
  readonly #open: StoreFactory

  constructor(id: string, path: string, archivedAt: number, filters: Filters | null, open: StoreFactory) {
    this.id = id
    this.path = path
    this.archivedAt = archivedAt
    this.filters = filters
    this.#open = open
  }

  get store(): OrchestrationStore {
    if (!this.#store) {
      upgradeArchive(this.path)
      this.#store = this.#open(this.path, { readonly: true })
    }
    return this.#store
  }

  close(): void {
    this.#store?.close()
    this.#store = null
  }
}

/**
 * Before an archive is opened read-only: one written by an older version gets the later
 * migrations, and one still in WAL mode (its rotation could not switch it) leaves it.
 */
function upgradeArchive(path: string): void {
  let ready = false
  try {
    const probe = new Database(path, { readonly: true, strict: true })
    try {
      const applied = new Set(probe.query<{ version: number }, []>('SELECT version FROM schema_migrations').all().map((r) => r.version))
      const mode = probe.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode
      ready = mode !== 'wal' && ORCHESTRATION_MIGRATIONS.every((m) => applied.has(m.version))
    } finally {
      probe.close()
    }
  } catch {
    // not readable as it is: fixed below
  }
  if (ready) return
  const db = new Database(path, { strict: true })
  try {
    migrate(db, ORCHESTRATION_MIGRATIONS)
    db.exec('PRAGMA journal_mode = DELETE')
  } finally {
    db.close()
  }
}

/** The archives of one orchestration store, and rotation. */
export class Epochs {
  readonly #owner: OrchestrationStore
  readonly #activePath: string
  readonly #dir: string
  readonly #open: StoreFactory
  readonly #adopt: (fresh: OrchestrationStore) => void
  #index: EpochIndex | null = null
  /** newest first */
  #archives: Archive[] = []
  #indexing = false
  #closed = false

  constructor(owner: OrchestrationStore, activePath: string, open: StoreFactory, adopt: (fresh: OrchestrationStore) => void) {
    this.#owner = owner
    this.#activePath = activePath
    this.#dir = join(dirname(activePath), 'orchestration')
    this.#open = open
    this.#adopt = adopt
    // nothing is created on read: the directory and the index appear with the first rotation
    if (existsSync(join(this.#dir, INDEX_FILE))) this.#load()
  }

  #load(): void {
    const index = this.#indexDb()
    const listed = new Set<string>()
    for (const entry of index.list()) {
      const path = join(this.#dir, entry.file)
      if (!existsSync(path)) {
        // registered by a rotation that never moved its file
        index.forget(entry.id)
        continue
      }
      listed.add(entry.file)
      this.#archives.push(new Archive(entry.id, path, entry.archivedAt, entry.indexedAt !== null ? index.filters(entry.id) : null, this.#open))
    }
    // an archive moved into place whose registration was lost is still an archive
    for (const file of readdirSync(this.#dir)) {
      const id = basename(file, '.sqlite')
      if (!file.endsWith('.sqlite') || listed.has(file) || !EPOCH_ID.test(id)) continue
      index.register(id, file, Date.now())
      this.#archives.push(new Archive(id, join(this.#dir, file), Date.now(), null, this.#open))
    }
    this.#archives.sort((a, b) => (a.id < b.id ? 1 : -1))
    this.#scheduleIndexing()
  }

  #indexDb(): EpochIndex {
    if (!this.#index) {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
      this.#index = new EpochIndex(join(this.#dir, INDEX_FILE))
    }
    return this.#index
  }

  /** Archived epochs, newest first. */
  list(): { id: string; archivedAt: number; indexed: boolean }[] {
    return this.#archives.map((a) => ({ id: a.id, archivedAt: a.archivedAt, indexed: a.filters !== null }))
  }

  /** Resolves once every archive has its filters (tests, diagnostics). */
  async indexed(): Promise<void> {
    while (!this.#closed && this.#archives.some((a) => a.filters === null)) {
      this.#scheduleIndexing()
      await Bun.sleep(10)
    }
  }

  close(): void {
    this.#closed = true
    for (const a of this.#archives) a.close()
    this.#index?.close()
    this.#index = null
  }

  // -------------------------------------------------------------------------------------------
  // Rotation (§23.1)

  /**
   * Archives the active database and starts a new epoch; returns the archive's epoch id. The
   * runs that must stay live (plus those in `keep`) are copied keeping their ids, so the
   * orchestrator's in-memory state stays valid. Synchronous: nothing else runs meanwhile.
   */
  rotate(now: number, keep: KeepLive = {}): string {
    const index = this.#indexDb()
    const id = nextEpochId(now, this.#archives.map((a) => a.id))
    const file = `${id}.sqlite`
    const archivePath = join(this.#dir, file)
    const nextPath = join(this.#dir, NEXT_FILE)
    removeDatabaseFiles(nextPath)
    const source = this.#owner.db
    const next = openDatabase(nextPath)
    try {
      migrate(next, ORCHESTRATION_MIGRATIONS)
      // rows arrive in no particular order and may point at rows that stay behind (dropped)
      next.exec('PRAGMA foreign_keys = OFF')
      const copier = new RunCopier(source, next, 'keep')
      try {
        next.transaction(() => {
          copyConfiguration(source, next)
          copier.copy(copier.plan(liveRunIds(source, keep), () => false))
        })()
      } finally {
        copier.finalize()
      }
      next.exec('PRAGMA wal_checkpoint(TRUNCATE)')
      next.close()
    } catch (err) {
      next.close()
      removeDatabaseFiles(nextPath)
      throw err
    }
    index.register(id, file, now)
    // the archive leaves WAL mode so that it can be opened read-only without side files
    source.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    try {
      source.exec('PRAGMA journal_mode = DELETE')
    } catch {
      // still readable: an archive in WAL mode is upgraded on open
    }
    source.close()
    try {
      renameSync(this.#activePath, archivePath)
      for (const suffix of ['-wal', '-shm']) rmSync(this.#activePath + suffix, { force: true })
      renameSync(nextPath, this.#activePath)
    } catch (err) {
      // put the old active database back, whatever happened, before reporting
      if (!existsSync(this.#activePath) && existsSync(archivePath)) renameSync(archivePath, this.#activePath)
      index.forget(id)
      removeDatabaseFiles(nextPath)
      this.#adopt(this.#open(this.#activePath, { archivesOf: () => this, recover: false }))
      throw err
    }
    this.#adopt(this.#open(this.#activePath, { archivesOf: () => this, recover: false }))
    this.#archives.unshift(new Archive(id, archivePath, now, null, this.#open))
    this.#scheduleIndexing()
    return id
  }

  // -------------------------------------------------------------------------------------------
  // Background indexing (§23.2)

  #scheduleIndexing(): void {
    if (this.#indexing || this.#closed) return
    this.#indexing = true
    setTimeout(() => {
      this.#indexAll()
        .catch(() => {
          // left unindexed: searched directly, retried at the next rotation or start-up
        })
        .finally(() => {
          this.#indexing = false
        })
    }, 0)
  }

  async #indexAll(): Promise<void> {
    for (;;) {
      const archive = this.#archives.find((a) => a.filters === null)
      if (!archive || this.#closed) return
      const built = await this.#build(archive)
      if (!built || this.#closed) return
      this.#indexDb().saveFilters(archive.id, built.filters, built.counts, Date.now())
      archive.filters = built.filters
    }
  }

  /** Reads the archive in batches, yielding between them, so the server keeps serving. */
  async #build(archive: Archive): Promise<{ filters: Filters; counts: Record<FilterKind, number> } | null> {
    const db = archive.store.db
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
        if (this.#closed) return false
        const rows = query.all(after, INDEX_BATCH)
        for (const row of rows) add(row)
        if (rows.length < INDEX_BATCH) return true
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

  // -------------------------------------------------------------------------------------------
  // Lookups (§23.2)

  /**
   * The archives that may hold a key, newest first: unindexed ones, and indexed ones whose
   * filter may contain it. Normally the unindexed archives are the newest (§23.2 searches them
   * first); keeping the newest-first order throughout also holds when an older one is still
   * unindexed, so a run copied forward at a rotation is always read from its latest epoch.
   */
  #candidates(kind: FilterKind, key: string, include: (a: Archive) => boolean = () => true): Archive[] {
    return this.#archives.filter((a) => include(a) && (a.filters === null || a.filters[kind].mayContain(key)))
  }

  /** Whether a run id exists in any archive (ids are unique across epochs, §2). */
  runIdTaken(externalId: string): boolean {
    return this.#candidates('runs', externalId).some((a) => a.store.runs.getRunByExternalId(externalId) !== null)
  }

  /** Whether an asset id exists in any archive. */
  assetIdTaken(externalId: string): boolean {
    return this.#archives.some((a) => a.store.assets.getByExternalId(externalId) !== null)
  }

  /** The newest archived copy of a run (read-only). */
  findRun(externalId: string): Located<RunRecord> | null {
    for (const archive of this.#candidates('runs', externalId)) {
      const run = archive.store.runs.getRunByExternalId(externalId)
      if (run) return { value: run, store: archive.store, epochId: archive.id }
    }
    return null
  }

  /** §22: a run with this idempotency key created at or after `since`, in an archive young enough to hold one. */
  findRunByIdempotencyKey(key: Uint8Array, since: number): Located<RunRecord> | null {
    const recent = (a: Archive) => a.archivedAt >= since
    for (const archive of this.#candidates('idempotencyKeys', hex(key), recent)) {
      const run = archive.store.runs.findRunByIdempotencyKey(key, since)
      if (run) return { value: run, store: archive.store, epochId: archive.id }
    }
    return null
  }

  /**
   * §6.1, miss in the active epoch: the newest archived execution with this cache key, in the
   * given workspaces, whose resolution is a value recent enough. In-flight candidates do not
   * count and the same-step exclusion does not apply.
   */
  findCacheHit(cacheKey: Uint8Array, workspaceIds: ReadonlySet<number>, maxAge: number | null, now: number): ArchivedCacheHit | null {
    for (const archive of this.#candidates('cacheKeys', hex(cacheKey))) {
      const store = archive.store
      for (const c of store.runs.cacheCandidates(cacheKey)) {
        if (c.resultType === null || !workspaceIds.has(c.workspaceId)) continue
        const resolution = resolveIn(store.db, c.executionId)
        if (!resolution.final || !isValueResult(resolution.result)) continue
        const at = resolution.result.created_at as number
        if (maxAge !== null && at < now - maxAge) continue
        const valueId = resolution.result.value_id as number | null
        const value = valueId !== null ? store.values.get(valueId) : null
        const exec = store.runs.getExecution(c.executionId)
        if (!value || !exec) continue
        return { executionExternalId: exec.externalId, value, epochId: archive.id }
      }
    }
    return null
  }

  /** Runs of a workflow in the newest archives (§23.2: up to 5 of them), newest first. */
  recentRunsOfWorkflow(module: string, target: string, workspaceId: number, limit: number): RunRecord[] {
    const out: RunRecord[] = []
    const key = `${module}\0${target}\0${workspaceId}\0${limit}`
    for (const archive of this.#archives.slice(0, RECENT_ARCHIVES)) {
      let runs = archive.recentRuns.get(key)
      if (!runs) archive.recentRuns.set(key, (runs = archive.store.runs.runsOfWorkflow(module, target, workspaceId, limit)))
      out.push(...runs)
    }
    return out
  }

  /** An archived asset (read-only), newest archive first. */
  findAsset(externalId: string): AssetRecord | null {
    for (const archive of this.#archives) {
      const asset = archive.store.assets.getByExternalId(externalId)
      if (asset) return asset
    }
    return null
  }

  /** An execution of an archived run (read-only). */
  findExecution(externalId: string): Located<ExecutionRecord> | null {
    const parts = externalId.split(':')
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]!) || !/^\d+$/.test(parts[2]!)) return null
    const run = this.findRun(parts[0]!)
    const exec = run?.store.runs.getExecutionByParts(parts[0]!, Number(parts[1]), Number(parts[2]))
    return run && exec ? { value: exec, store: run.store, epochId: run.epochId } : null
  }

  // -------------------------------------------------------------------------------------------
  // Copy-on-reference (§23.2)

  /**
   * Copies an archived run into the active epoch (with its parent runs and the runs its
   * unresolved redirects point into), giving the rows new ids there. Null when no archive has
   * it. The caller checks the active store first.
   */
  copyRun(externalId: string): CopiedRuns | null {
    const found = this.findRun(externalId)
    if (!found) return null
    const owner = this.#owner
    const copier = new RunCopier(found.store.db, owner.db, 'remap')
    try {
      return owner.transaction(() => {
        owner.db.exec('PRAGMA defer_foreign_keys = ON')
        const plan = copier.plan([found.value.id], (id) => owner.runs.getRunByExternalId(id) !== null)
        return copier.copy(plan)
      })
    } finally {
      copier.finalize()
    }
  }

  /** Copies an archived asset (content-addressed) into the active epoch; its id there. */
  copyAsset(externalId: string): number | null {
    for (const archive of this.#archives) {
      if (archive.store.assets.getByExternalId(externalId) === null) continue
      const copier = new RunCopier(archive.store.db, this.#owner.db, 'remap')
      try {
        return this.#owner.transaction(() => copier.copyAsset(externalId))
      } finally {
        copier.finalize()
      }
    }
    return null
  }
}
