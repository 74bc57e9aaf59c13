import type { SqlDatabase } from './sql-database.ts'
import type { LauncherConfig, TagSet } from '../protocol/api.ts'
import { generateId } from '../protocol/ids.ts'

/** What a pool declares (semantics.md §21.1). */
export interface PoolConfig {
  /** module patterns (`app.*`) */
  modules: string[]
  provides: TagSet
  accepts: TagSet
  launcher: LauncherConfig | null
}

export interface PoolRecord extends PoolConfig {
  id: number
  externalId: string
  workspaceId: number
  name: string
  disabled: boolean
  createdAt: number
  updatedAt: number
  deletedAt: number | null
}

interface Row {
  id: number
  external_id: string
  workspace_id: number
  name: string
  modules: string
  provides: string
  accepts: string
  launcher: string | null
  disabled: number
  created_at: number
  updated_at: number
  deleted_at: number | null
}

function toRecord(r: Row): PoolRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    workspaceId: r.workspace_id,
    name: r.name,
    modules: JSON.parse(r.modules) as string[],
    provides: JSON.parse(r.provides) as TagSet,
    accepts: JSON.parse(r.accepts) as TagSet,
    launcher: r.launcher === null ? null : (JSON.parse(r.launcher) as LauncherConfig),
    disabled: r.disabled !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
  }
}

/** Pools per workspace. A deleted pool keeps its row so its workers' history stays readable. */
export class PoolStore {
  readonly #insert
  readonly #byId
  readonly #byName
  readonly #ofWorkspace
  readonly #live
  readonly #update
  readonly #disable
  readonly #delete
  readonly #taken

  constructor(db: SqlDatabase) {
    this.#insert = db.query<Row, [string, number, string, string, string, string, string | null, number, number]>(
      'INSERT INTO pools (external_id, workspace_id, name, modules, provides, accepts, launcher, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
    )
    this.#byId = db.query<Row, [number]>('SELECT * FROM pools WHERE id = ?')
    this.#byName = db.query<Row, [number, string]>('SELECT * FROM pools WHERE workspace_id = ? AND name = ? AND deleted_at IS NULL')
    this.#ofWorkspace = db.query<Row, [number]>('SELECT * FROM pools WHERE workspace_id = ? AND deleted_at IS NULL ORDER BY name')
    this.#live = db.query<Row, []>('SELECT * FROM pools WHERE deleted_at IS NULL ORDER BY id')
    this.#update = db.query('UPDATE pools SET modules = ?, provides = ?, accepts = ?, launcher = ?, updated_at = ? WHERE id = ?')
    this.#disable = db.query('UPDATE pools SET disabled = ?, updated_at = ? WHERE id = ?')
    this.#delete = db.query('UPDATE pools SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL')
    this.#taken = db.query<{ one: number }, [string]>('SELECT 1 AS one FROM pools WHERE external_id = ?')
  }

  create(workspaceId: number, name: string, config: PoolConfig, now: number): PoolRecord {
    const externalId = generateId('P', (id) => !!this.#taken.get(id))
    const row = this.#insert.get(externalId, workspaceId, name, ...serialise(config), now, now)!
    return toRecord(row)
  }

  get(id: number): PoolRecord | null {
    const r = this.#byId.get(id)
    return r ? toRecord(r) : null
  }

  /** The pool (not deleted) with this name in the workspace. */
  getByName(workspaceId: number, name: string): PoolRecord | null {
    const r = this.#byName.get(workspaceId, name)
    return r ? toRecord(r) : null
  }

  /** The workspace's pools (not deleted), by name. */
  list(workspaceId: number): PoolRecord[] {
    return this.#ofWorkspace.all(workspaceId).map(toRecord)
  }

  /** Every pool that is not deleted, in every workspace. */
  live(): PoolRecord[] {
    return this.#live.all().map(toRecord)
  }

  update(id: number, config: PoolConfig, now: number): void {
    this.#update.run(...serialise(config), now, id)
  }

  setDisabled(id: number, disabled: boolean, now: number): void {
    this.#disable.run(disabled ? 1 : 0, now, id)
  }

  delete(id: number, now: number): void {
    this.#delete.run(now, id)
  }
}

function serialise(c: PoolConfig): [string, string, string, string | null] {
  return [JSON.stringify(c.modules), JSON.stringify(c.provides), JSON.stringify(c.accepts), c.launcher ? JSON.stringify(c.launcher) : null]
}
