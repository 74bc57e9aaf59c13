import type { Database } from 'bun:sqlite'
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

  constructor(path: string) {
    this.db = openDatabase(path)
    migrate(this.db, ORCHESTRATION_MIGRATIONS)
    this.workspaces = new WorkspaceStore(this.db)
    this.manifests = new ManifestStore(this.db)
    this.runs = new RunStore(this.db)
    this.results = new ResultStore(this.db)
    this.values = new ValueStore(this.db)
    this.sessions = new SessionStore(this.db)
    this.assets = new AssetStore(this.db)
    this.inputs = new InputStore(this.db)
    this.principals = new PrincipalStore(this.db)
    this.tokens = new TokenStore(this.db, this.principals)
    this.metricDefinitions = new MetricDefinitionStore(this.db)
    this.pools = new PoolStore(this.db)
    this.workers = new WorkerStore(this.db)
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  close(): void {
    try {
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    } catch {
      // best effort: the WAL is replayed on the next open anyway
    }
    this.db.close()
  }
}
