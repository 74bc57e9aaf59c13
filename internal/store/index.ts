import { Database } from 'bun:sqlite'
import { AssetStore } from './assets.ts'
import { migrate, openDatabase } from './db.ts'
import { InputStore } from './inputs.ts'
import { ManifestStore } from './manifests.ts'
import { PrincipalStore } from './principals.ts'
import { MetricDefinitionStore } from './metric-definitions.ts'
import { ORCHESTRATION_MIGRATIONS } from './migrations/index.ts'
import { PoolStore } from './pools.ts'
import { ResultStore } from './results.ts'
import { RunStore } from './runs.ts'
import { SessionStore } from './sessions.ts'
import { TokenStore } from './tokens.ts'
import { ValueStore } from './values.ts'
import { WorkerStore } from './workers.ts'
import { WorkspaceStore } from './workspaces.ts'
import { Epochs, recoverRotation, type CopiedRuns, type Located } from './epochs.ts'
import type { InputRecord } from './inputs.ts'
import type { ExecutionRecord, RunRecord } from './types.ts'

export * from './types.ts'
export { openDatabase, migrate } from './db.ts'
export type { Migration } from './db.ts'
export type { NewStep, CacheCandidate } from './runs.ts'
export type { NewResult } from './results.ts'
export type { AssetEntry, AssetRecord } from './assets.ts'
export type { InputRecord, InputResponseRecord, InputResponseType, InputLinkRole, NewInput } from './inputs.ts'
export { storedReference } from './values.ts'
export { LogStore } from './logs.ts'
export { isTokenUsable } from './tokens.ts'
export type { NewToken, TokenRecord } from './tokens.ts'
export { MetricStore, InvalidMetricCursorError, type NewMetricPoint, type MetricPoint, type MetricFilter } from './metrics.ts'
export type { MetricDefinition } from './metric-definitions.ts'
export type { PoolConfig, PoolRecord, LauncherConfig } from './pools.ts'
export { WORKER_STATE, type WorkerRecord, type WorkerStateName, type LaunchHandle } from './workers.ts'
export { Epochs, EPOCH_MAX_BYTES, EPOCH_CHECK_INTERVAL_MS, type Located, type CopiedRuns, type KeepLive, type ArchivedCacheHit } from './epochs.ts'

export interface StoreOptions {
  /** an archived epoch: opened read-only, never migrated here */
  readonly?: boolean
  /** the archives of the store this one replaces at rotation (it then has no `epochs` of its own) */
  archivesOf?: () => Epochs | null
  /** finish an interrupted rotation before opening (default true) */
  recover?: boolean
}

/** The orchestration store of one project: one SQLite file, one class per aggregate. */
export class OrchestrationStore {
  readonly db: Database
  readonly workspaces: WorkspaceStore
  readonly manifests: ManifestStore
  readonly runs: RunStore
  readonly results: ResultStore
  readonly values: ValueStore
  readonly sessions: SessionStore
  readonly assets: AssetStore
  readonly inputs: InputStore
  readonly principals: PrincipalStore
  readonly tokens: TokenStore
  readonly metricDefinitions: MetricDefinitionStore
  readonly pools: PoolStore
  readonly workers: WorkerStore
  /** archived epochs (semantics.md §23); null for archives, replacements and in-memory stores */
  readonly epochs: Epochs | null

  constructor(path: string, options: StoreOptions = {}) {
    const ownArchives = !options.readonly && !options.archivesOf && path !== ':memory:'
    if (ownArchives && options.recover !== false) recoverRotation(path)
    this.db = options.readonly ? new Database(path, { readonly: true, strict: true }) : openDatabase(path)
    if (!options.readonly) migrate(this.db, ORCHESTRATION_MIGRATIONS)
    const archives = options.archivesOf ?? (() => this.epochs)
    this.workspaces = new WorkspaceStore(this.db)
    this.manifests = new ManifestStore(this.db)
    this.runs = new RunStore(this.db, (id) => archives()?.runIdTaken(id) ?? false)
    this.results = new ResultStore(this.db)
    this.values = new ValueStore(this.db)
    this.sessions = new SessionStore(this.db)
    this.assets = new AssetStore(this.db, (id) => archives()?.assetIdTaken(id) ?? false)
    this.inputs = new InputStore(this.db)
    this.principals = new PrincipalStore(this.db)
    this.tokens = new TokenStore(this.db, this.principals)
    this.metricDefinitions = new MetricDefinitionStore(this.db)
    this.pools = new PoolStore(this.db)
    this.workers = new WorkerStore(this.db)
    this.epochs = ownArchives ? new Epochs(this, path, (p, o) => new OrchestrationStore(p, o), (fresh) => this.#adopt(fresh)) : null
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  /**
   * Rotation (semantics.md §23.1): takes over the database and aggregate stores of the new
   * active epoch, so everyone holding this facade uses it from now on. The aggregates' caches
   * of immutable rows go with the old instances.
   */
  #adopt(fresh: OrchestrationStore): void {
    const self = this as unknown as Record<string, unknown>
    for (const [key, value] of Object.entries(fresh)) if (key !== 'epochs') self[key] = value
  }

  /** A run by external id: the active epoch first, then the archives (read-only there, §23.2). */
  findRun(externalId: string): Located<RunRecord> | null {
    const run = this.runs.getRunByExternalId(externalId)
    if (run) return { value: run, store: this, epochId: null }
    return this.epochs?.findRun(externalId) ?? null
  }

  /** An execution by external id, in the active epoch or (read-only) an archive. */
  findExecution(externalId: string): Located<ExecutionRecord> | null {
    const parts = externalId.split(':')
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]!) || !/^\d+$/.test(parts[2]!)) return null
    const exec = this.runs.getExecutionByParts(parts[0]!, Number(parts[1]), Number(parts[2]))
    if (exec) return { value: exec, store: this, epochId: null }
    return this.epochs?.findExecution(externalId) ?? null
  }

  /** An input by external id (`<run>/i<n>`), in the active epoch or (read-only) an archive. */
  findInput(externalId: string): Located<InputRecord> | null {
    const input = this.inputs.getByExternalId(externalId)
    if (input) return { value: input, store: this, epochId: null }
    const at = externalId.lastIndexOf('/i')
    const run = at > 0 ? this.epochs?.findRun(externalId.slice(0, at)) : null
    const archived = run?.store.inputs.getByExternalId(externalId)
    return run && archived ? { value: archived, store: run.store, epochId: run.epochId } : null
  }

  /**
   * Copy-on-reference (§23.2): makes a run active, copying it (with its parent runs and the runs
   * its unresolved redirects point into) from the newest archive that has it. Returns the run
   * and what was copied (nothing when it was already active), or null when unknown.
   */
  ensureRunActive(externalId: string): { run: RunRecord; copied: CopiedRuns } | null {
    const run = this.runs.getRunByExternalId(externalId)
    if (run) return { run, copied: { runs: [], pending: [] } }
    const copied = this.epochs?.copyRun(externalId)
    const active = copied ? this.runs.getRunByExternalId(externalId) : null
    return copied && active ? { run: active, copied } : null
  }

  /**
   * The newest runs of a workflow started in a workspace: the active epoch's and those of the
   * newest archives (§23.2, read-only), a run copied between epochs counted once.
   */
  recentRunsOfWorkflow(module: string, target: string, workspaceId: number, limit = 50): RunRecord[] {
    const runs = new Map<string, RunRecord>()
    for (const run of this.runs.runsOfWorkflow(module, target, workspaceId, limit)) runs.set(run.externalId, run)
    for (const run of this.epochs?.recentRunsOfWorkflow(module, target, workspaceId, limit) ?? []) {
      if (!runs.has(run.externalId)) runs.set(run.externalId, run)
    }
    return [...runs.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, limit)
  }

  /** The active database's size in bytes (rotation threshold, §23.1). */
  sizeBytes(): number {
    return this.db.query<{ n: number }, []>('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()').get()?.n ?? 0
  }

  close(): void {
    this.epochs?.close()
    try {
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    } catch {
      // best effort: the WAL is replayed on the next open anyway
    }
    this.db.close()
  }
}
