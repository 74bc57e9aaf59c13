/**
 * Epochs of a project's orchestration store (semantics.md §23, http-api.md §2.4):
 *
 *     <project>/orchestration.sqlite            the active epoch
 *     <project>/orchestration/<epoch>.sqlite    archived epochs (`YYYYMMDD_NNNN`), read-only
 *     <project>/orchestration/index.sqlite      the epoch index: archives and their Bloom filters
 *
 * The files and the handles open on them belong to a `RotatingDatabase`; the active epoch's
 * handle is an `Epoch` (its database and aggregate stores), which each rotation replaces. Rotation
 * builds the new active database beside the archive (configuration copied whole, live runs copied
 * keeping their integer ids) before the files move. Archives stay open read-only; their filters
 * (`epoch-index.ts`) are built in the background. Lookups go through the archives newest first,
 * skipping the indexed ones whose filter rules the key out.
 */
import { restartIdentities } from './postgres/identities.ts'
import { dialectOf, type SqlDatabase } from './sql-database.ts'
import { parseExecutionId } from '../protocol/ids.ts'
import type { ServerValue } from '../protocol/values.ts'
import type { AssetRecord } from './assets.ts'
import { sqliteHost, type DatabaseHost } from './database-host.ts'
import { copyConfiguration, isValueResult, liveRunIds, resolveIn, RunCopier, type CopiedRuns, type KeepLive } from './epoch-copy.ts'
import { buildFilters, EPOCH_INDEX_MIGRATIONS, EpochIndex, hex, type EpochEntry, type FilterKind, type Filters } from './epoch-index.ts'
import { Epoch, type ArchivedIds } from './epoch.ts'
import { ORCHESTRATION_MIGRATIONS } from './migrations/index.ts'
import { RotatingDatabase, type Archive } from './rotating-database.ts'
import type { ExecutionRecord, RunRecord } from './types.ts'

export type { KeepLive, CopiedRuns } from './epoch-copy.ts'

/** Rotation threshold and how often it is checked (semantics.md §23.1). */
export const EPOCH_MAX_BYTES = 100 * 1024 * 1024
export const EPOCH_CHECK_INTERVAL_MS = 60_000
/** Workflow topics list runs from at most this many archives (§23.2). */
const RECENT_ARCHIVES = 5

/**
 * What lookups read of an archived epoch: the orchestration store opened read-only on its file
 * (`OrchestrationStore`, which callers get back in `Located`).
 */
export type ArchivedEpoch = Pick<Epoch, 'db' | 'runs' | 'assets' | 'values'> & { close(): void }

type EpochArchive<S extends ArchivedEpoch> = Archive<S, EpochEntry>

/** Where something was found: the active store (`epochId` null) or an archive. */
export interface Located<T, S> {
  value: T
  store: S
  epochId: string | null
}

/** A cache hit in an archive (§6.1): the candidate's reference and its value. */
export interface ArchivedCacheHit {
  executionExternalId: string
  value: ServerValue
  epochId: string
}

/**
 * Rotation (§23.1): writes the next active database at `path` from the current one, with the
 * configuration copied whole and the live runs (plus those in `keep`) keeping their ids.
 */
function buildNextEpoch(host: DatabaseHost, source: SqlDatabase, path: string, keep: KeepLive): void {
  const next = host.open(path, ORCHESTRATION_MIGRATIONS)
  try {
    // rows arrive in no particular order and may point at rows that stay behind (dropped)
    next.exec('PRAGMA foreign_keys = OFF')
    const copier = new RunCopier(source, next, 'keep')
    try {
      next.transaction(() => {
        copyConfiguration(source, next)
        copier.copy(copier.plan(liveRunIds(source, keep), () => false))
        // ids were copied as they were: PostgreSQL's identity sequences continue after them
        if (dialectOf(next) === 'postgres') restartIdentities(next)
      })()
    } finally {
      copier.finalize()
    }
    next.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  } finally {
    next.close()
  }
}

/** The active epoch and the archives of one orchestration store, rotation and lookups. */
export class Epochs<S extends ArchivedEpoch> implements ArchivedIds {
  readonly #files: RotatingDatabase<Epoch, S, EpochEntry, EpochIndex>
  readonly #host: DatabaseHost
  /** filters of the indexed archives, by epoch id */
  readonly #filters = new Map<string, Filters>()
  /** archives never change: workflow run lists are computed once per (archive, workflow, workspace) */
  readonly #recentRuns = new Map<string, RunRecord[]>()
  #indexing = false
  #closed = false

  /** `openArchive` opens an archived epoch's database, read-only. */
  constructor(activePath: string, openArchive: (path: string) => S, host: DatabaseHost = sqliteHost) {
    this.#host = host
    this.#files = new RotatingDatabase<Epoch, S, EpochEntry, EpochIndex>(activePath, {
      host,
      migrations: ORCHESTRATION_MIGRATIONS,
      indexMigrations: EPOCH_INDEX_MIGRATIONS,
      openIndex: (db) => new EpochIndex(db),
      openActive: (db) => new Epoch(db, this),
      openArchive: (path) => openArchive(path),
      recoverEntry: (id, file) => ({ id, file, archivedAt: Date.now(), indexedAt: null }),
    })
    const archives = this.#files.archives
    for (const archive of archives) {
      const filters = archive.entry.indexedAt !== null ? this.#files.index.filters(archive.entry.id) : null
      if (filters) this.#filters.set(archive.entry.id, filters)
    }
    if (archives.length > 0) this.#scheduleIndexing()
  }

  /** The active epoch: its database and aggregate stores. Rotation replaces it. */
  get active(): Epoch {
    return this.#files.active
  }

  /** Archived epochs, newest first. */
  list(): { id: string; archivedAt: number; indexed: boolean }[] {
    return this.#newestFirst().map((a) => ({ id: a.entry.id, archivedAt: a.entry.archivedAt, indexed: this.#filters.has(a.entry.id) }))
  }

  /** Resolves once every archive has its filters (tests, diagnostics). */
  async indexed(): Promise<void> {
    while (!this.#closed && this.#unindexed() !== undefined) {
      this.#scheduleIndexing()
      await Bun.sleep(10)
    }
  }

  close(): void {
    this.#closed = true
    this.#files.close()
  }

  #newestFirst(): EpochArchive<S>[] {
    return [...this.#files.archives].reverse()
  }

  // -------------------------------------------------------------------------------------------
  // Rotation (§23.1)

  /**
   * Archives the active database and starts a new epoch; returns the archive's epoch id. The
   * runs that must stay live (plus those in `keep`) are copied keeping their ids, so the
   * orchestrator's in-memory state stays valid. Synchronous: nothing else runs meanwhile.
   */
  rotate(now: number, keep: KeepLive = {}): string {
    const entry = this.#files.rotate(
      now,
      (id, file) => ({ id, file, archivedAt: now, indexedAt: null }),
      (nextPath, active) => buildNextEpoch(this.#host, active.db, nextPath, keep),
    )
    this.#scheduleIndexing()
    return entry.id
  }

  /** Retention (§23.3): deletes the archives archived before `cutoff`; runs only there become unknown. Their ids. */
  deleteArchivedBefore(cutoff: number): string[] {
    const ids = this.#files.deleteArchivedBefore(cutoff).map((e) => e.id)
    for (const id of ids) this.#filters.delete(id)
    if (ids.length > 0) this.#recentRuns.clear()
    return ids
  }

  // -------------------------------------------------------------------------------------------
  // Background indexing (§23.2)

  #unindexed(): EpochArchive<S> | undefined {
    return this.#newestFirst().find((a) => !this.#filters.has(a.entry.id))
  }

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
      const archive = this.#unindexed()
      if (!archive || this.#closed) return
      // an archive deleted meanwhile (retention) stops its build: its database is closed
      const isGone = () => this.#closed || !this.#files.archives.includes(archive)
      const built = await buildFilters(archive.handle.db, isGone)
      if (this.#closed) return
      if (isGone()) continue
      if (!built) return
      this.#files.index.saveFilters(archive.entry.id, built, Date.now())
      this.#filters.set(archive.entry.id, built.filters)
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lookups (§23.2)

  /**
   * The archives that may hold a key, newest first: unindexed ones, and indexed ones whose
   * filter may contain it. Normally the unindexed archives are the newest (§23.2 searches them
   * first); keeping the newest-first order throughout also holds when an older one is still
   * unindexed, so a run copied forward at a rotation is always read from its latest epoch.
   */
  #candidates(kind: FilterKind, key: string, include: (a: EpochArchive<S>) => boolean = () => true): EpochArchive<S>[] {
    return this.#newestFirst().filter((a) => {
      const filters = this.#filters.get(a.entry.id)
      return include(a) && (filters === undefined || filters[kind].mayContain(key))
    })
  }

  /** Whether a run id exists in any archive (ids are unique across epochs, §2). */
  runIdTaken(externalId: string): boolean {
    return this.#candidates('runs', externalId).some((a) => a.handle.runs.getRunByExternalId(externalId) !== null)
  }

  /** Whether an asset id exists in any archive. */
  assetIdTaken(externalId: string): boolean {
    return this.#newestFirst().some((a) => a.handle.assets.getByExternalId(externalId) !== null)
  }

  /** The newest archived copy of a run (read-only). */
  findRun(externalId: string): Located<RunRecord, S> | null {
    for (const archive of this.#candidates('runs', externalId)) {
      const run = archive.handle.runs.getRunByExternalId(externalId)
      if (run) return { value: run, store: archive.handle, epochId: archive.entry.id }
    }
    return null
  }

  /** §22: a run with this idempotency key created at or after `since`, in an archive young enough to hold one. */
  findRunByIdempotencyKey(key: Uint8Array, since: number): Located<RunRecord, S> | null {
    const recent = (a: EpochArchive<S>) => a.entry.archivedAt >= since
    for (const archive of this.#candidates('idempotencyKeys', hex(key), recent)) {
      const run = archive.handle.runs.findRunByIdempotencyKey(key, since)
      if (run) return { value: run, store: archive.handle, epochId: archive.entry.id }
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
      const store = archive.handle
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
        return { executionExternalId: exec.externalId, value, epochId: archive.entry.id }
      }
    }
    return null
  }

  /** Runs of a workflow in the newest archives (§23.2: up to 5 of them), newest first. */
  recentRunsOfWorkflow(module: string, target: string, workspaceId: number, limit: number): RunRecord[] {
    const out: RunRecord[] = []
    for (const archive of this.#newestFirst().slice(0, RECENT_ARCHIVES)) {
      const key = `${archive.entry.id}\0${module}\0${target}\0${workspaceId}\0${limit}`
      let runs = this.#recentRuns.get(key)
      if (!runs) this.#recentRuns.set(key, (runs = archive.handle.runs.runsOfWorkflow(module, target, workspaceId, limit)))
      out.push(...runs)
    }
    return out
  }

  /** An archived asset (read-only), newest archive first. */
  findAsset(externalId: string): AssetRecord | null {
    for (const archive of this.#newestFirst()) {
      const asset = archive.handle.assets.getByExternalId(externalId)
      if (asset) return asset
    }
    return null
  }

  /** An execution of an archived run (read-only). */
  findExecution(externalId: string): Located<ExecutionRecord, S> | null {
    const parts = parseExecutionId(externalId)
    if (!parts) return null
    const run = this.findRun(parts.runId)
    const exec = run?.store.runs.getExecutionByParts(parts.runId, parts.step, parts.attempt)
    return run && exec ? { value: exec, store: run.store, epochId: run.epochId } : null
  }

  // -------------------------------------------------------------------------------------------
  // Copy-on-reference (§23.2)

  /**
   * Copies an archived run into the active epoch (with its parent runs and the runs its
   * unresolved redirects point into), giving the rows new ids there. Null when no archive has
   * it. The caller checks the active epoch first.
   */
  copyRun(externalId: string): CopiedRuns | null {
    const found = this.findRun(externalId)
    if (!found) return null
    const active = this.active
    const copier = new RunCopier(found.store.db, active.db, 'remap')
    try {
      return active.transaction(() => {
        active.db.exec('PRAGMA defer_foreign_keys = ON')
        const plan = copier.plan([found.value.id], (id) => active.runs.getRunByExternalId(id) !== null)
        const copied = copier.copy(plan)
        // the copy chose its ids: PostgreSQL's identity sequences continue after them
        if (dialectOf(active.db) === 'postgres') restartIdentities(active.db)
        return copied
      })
    } finally {
      copier.finalize()
    }
  }

  /** Copies an archived asset (content-addressed) into the active epoch; its id there. */
  copyAsset(externalId: string): number | null {
    for (const archive of this.#newestFirst()) {
      if (archive.handle.assets.getByExternalId(externalId) === null) continue
      const active = this.active
      const copier = new RunCopier(archive.handle.db, active.db, 'remap')
      try {
        return active.transaction(() => {
          const id = copier.copyAsset(externalId)
          if (dialectOf(active.db) === 'postgres') restartIdentities(active.db)
          return id
        })
      } finally {
        copier.finalize()
      }
    }
    return null
  }
}
