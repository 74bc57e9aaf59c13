/**
 * The orchestration store of one project: what the orchestrator and the server hold.
 *
 * Its aggregate stores (`runs`, `results`, …) are the current epoch's, read through on each
 * access: a rotation replaces the active `Epoch` inside `Epochs`, and everyone holding this store
 * sees the new one from then on. Lookups by external id go on into the archives, read-only
 * (semantics.md §23.2); there the store is an `OrchestrationStore` opened read-only on the archive.
 */
import type { SqlDatabase } from './sql-database.ts'
import { parseExecutionId, parseInputId } from '../protocol/ids.ts'
import type { AssetStore } from './assets.ts'
import { sqliteHost, type DatabaseHost } from './database-host.ts'
import { migrate, openDatabase } from './db.ts'
import { Epoch } from './epoch.ts'
import { Epochs, type CopiedRuns, type Located } from './epochs.ts'
import type { InputRecord, InputStore } from './inputs.ts'
import type { ManifestStore } from './manifests.ts'
import type { MetricDefinitionStore } from './metric-definitions.ts'
import { ORCHESTRATION_MIGRATIONS } from './migrations/index.ts'
import type { PoolStore } from './pools.ts'
import type { PrincipalStore } from './principals.ts'
import type { ResultStore } from './results.ts'
import type { RunStore } from './runs.ts'
import type { ScheduleStore } from './schedules.ts'
import type { SessionStore } from './sessions.ts'
import type { TokenStore } from './tokens.ts'
import type { ExecutionRecord, RunRecord } from './types.ts'
import type { ValueStore } from './values.ts'
import type { WorkerStore } from './workers.ts'
import type { WorkspaceStore } from './workspaces.ts'

export interface StoreOptions {
  /** an archived epoch: brought up to date if an older version wrote it, then opened read-only */
  readonly?: boolean
  /** where the databases live: SQLite files (the default) or PostgreSQL schemas */
  host?: DatabaseHost
}

/** Where the store finds its current epoch: the rotating `Epochs`, or one epoch that never changes. */
interface EpochSource {
  readonly active: Epoch
  close(): void
}

function fixed(epoch: Epoch): EpochSource {
  return { active: epoch, close: () => epoch.close() }
}

export class OrchestrationStore {
  /** archived epochs (semantics.md §23); null for archives and in-memory stores */
  readonly epochs: Epochs<OrchestrationStore> | null
  readonly #source: EpochSource
  readonly #host: DatabaseHost
  readonly #path: string

  constructor(path: string, options: StoreOptions = {}) {
    const host = (this.#host = options.host ?? sqliteHost)
    this.#path = path
    if (options.readonly) {
      this.epochs = null
      this.#source = fixed(new Epoch(host.openArchive(path, ORCHESTRATION_MIGRATIONS)))
    } else if (path === ':memory:') {
      const db = openDatabase(path)
      migrate(db, ORCHESTRATION_MIGRATIONS)
      this.epochs = null
      this.#source = fixed(new Epoch(db))
    } else {
      this.epochs = new Epochs(path, (archive) => new OrchestrationStore(archive, { readonly: true, host }), host)
      this.#source = this.epochs
    }
  }

  /** The current epoch's database. */
  get db(): SqlDatabase {
    return this.#source.active.db
  }

  get workspaces(): WorkspaceStore {
    return this.#source.active.workspaces
  }
  get manifests(): ManifestStore {
    return this.#source.active.manifests
  }
  get runs(): RunStore {
    return this.#source.active.runs
  }
  get results(): ResultStore {
    return this.#source.active.results
  }
  get values(): ValueStore {
    return this.#source.active.values
  }
  get sessions(): SessionStore {
    return this.#source.active.sessions
  }
  get assets(): AssetStore {
    return this.#source.active.assets
  }
  get inputs(): InputStore {
    return this.#source.active.inputs
  }
  get principals(): PrincipalStore {
    return this.#source.active.principals
  }
  get tokens(): TokenStore {
    return this.#source.active.tokens
  }
  get metricDefinitions(): MetricDefinitionStore {
    return this.#source.active.metricDefinitions
  }
  get pools(): PoolStore {
    return this.#source.active.pools
  }
  get workers(): WorkerStore {
    return this.#source.active.workers
  }
  get schedules(): ScheduleStore {
    return this.#source.active.schedules
  }

  transaction<T>(fn: () => T): T {
    return this.#source.active.transaction(fn)
  }

  /**
   * Opens a write batch: until `commitBatch`, writes share one transaction (transactions run
   * inside it become savepoints). Whoever opens one must not let anything that depends on its
   * writes leave the process (an acknowledgement, a reply) before it commits.
   */
  beginBatch(): void {
    if (!this.db.inTransaction) this.db.exec('BEGIN')
  }

  commitBatch(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT')
  }

  /** A run by external id: the active epoch first, then the archives (read-only there, §23.2). */
  findRun(externalId: string): Located<RunRecord, OrchestrationStore> | null {
    const run = this.runs.getRunByExternalId(externalId)
    if (run) return { value: run, store: this, epochId: null }
    return this.epochs?.findRun(externalId) ?? null
  }

  /** An execution by external id, in the active epoch or (read-only) an archive. */
  findExecution(externalId: string): Located<ExecutionRecord, OrchestrationStore> | null {
    const parts = parseExecutionId(externalId)
    if (!parts) return null
    const exec = this.runs.getExecutionByParts(parts.runId, parts.step, parts.attempt)
    if (exec) return { value: exec, store: this, epochId: null }
    return this.epochs?.findExecution(externalId) ?? null
  }

  /** An input by external id (`<run>/i<n>`), in the active epoch or (read-only) an archive. */
  findInput(externalId: string): Located<InputRecord, OrchestrationStore> | null {
    const input = this.inputs.getByExternalId(externalId)
    if (input) return { value: input, store: this, epochId: null }
    const parts = parseInputId(externalId)
    const run = parts ? this.epochs?.findRun(parts.runId) : null
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
    return this.#host.sizeBytes(this.#path, this.db)
  }

  close(): void {
    this.#source.close()
  }
}
