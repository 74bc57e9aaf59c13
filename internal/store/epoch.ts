/**
 * One orchestration database and its aggregate stores: the active epoch's, or an archived one's
 * (read-only). Each aggregate prepares its statements on this database once; a rotation opens a
 * new `Epoch` on the new database rather than changing this one.
 */
import type { SqlDatabase } from './sql-database.ts'
import { AssetStore } from './assets.ts'
import { closeDatabase } from './db.ts'
import { InputStore } from './inputs.ts'
import { ManifestStore } from './manifests.ts'
import { MetricDefinitionStore } from './metric-definitions.ts'
import { PoolStore } from './pools.ts'
import { PrincipalStore } from './principals.ts'
import { ResultStore } from './results.ts'
import { RunStore } from './runs.ts'
import { ScheduleStore } from './schedules.ts'
import { SessionStore } from './sessions.ts'
import { TokenStore } from './tokens.ts'
import { ValueStore } from './values.ts'
import { WorkerStore } from './workers.ts'
import { WorkspaceStore } from './workspaces.ts'

/** Ids taken in the archives: new ones must be unique across epochs (semantics.md §2). */
export interface ArchivedIds {
  runIdTaken(externalId: string): boolean
  assetIdTaken(externalId: string): boolean
}

export class Epoch {
  readonly db: SqlDatabase
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
  readonly schedules: ScheduleStore

  /** `archived`: the ids of the archives, for the active epoch (none for an archive itself). */
  constructor(db: SqlDatabase, archived: ArchivedIds | null = null) {
    this.db = db
    this.workspaces = new WorkspaceStore(db)
    this.manifests = new ManifestStore(db)
    this.runs = new RunStore(db, (id) => archived?.runIdTaken(id) ?? false)
    this.results = new ResultStore(db)
    this.values = new ValueStore(db)
    this.sessions = new SessionStore(db)
    this.assets = new AssetStore(db, (id) => archived?.assetIdTaken(id) ?? false)
    this.inputs = new InputStore(db)
    this.principals = new PrincipalStore(db)
    this.tokens = new TokenStore(db, this.principals)
    this.metricDefinitions = new MetricDefinitionStore(db)
    this.pools = new PoolStore(db)
    this.workers = new WorkerStore(db)
    this.schedules = new ScheduleStore(db)
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  /** Folds the WAL back into the file (best effort, as an archive is read-only), then closes it. */
  close(): void {
    closeDatabase(this.db)
  }
}
