import type { SqlDatabase } from './sql-database.ts'
import { generateId } from '../protocol/ids.ts'
import { WORKSPACE_STATE, WORKSPACE_STATE_NAME, type WorkspaceRecord, type WorkspaceStateName } from './types.ts'

interface Row {
  id: number
  external_id: string
  name: string
  base_id: number | null
  state: number
  created_at: number
}

function toRecord(r: Row): WorkspaceRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    name: r.name,
    baseId: r.base_id,
    state: WORKSPACE_STATE_NAME[r.state]!,
    createdAt: r.created_at,
  }
}

const COLUMNS = 'id, external_id, name, base_id, state, created_at'

/** Workspaces and their history (semantics.md §18). */
export class WorkspaceStore {
  readonly #externalIds = new Map<number, string>()
  readonly #db: SqlDatabase
  readonly #all
  readonly #byId
  readonly #byExternal
  readonly #insert
  readonly #update
  readonly #history
  readonly #externalTaken

  constructor(db: SqlDatabase) {
    this.#db = db
    this.#all = db.query<Row, []>(`SELECT ${COLUMNS} FROM workspaces ORDER BY id`)
    this.#byId = db.query<Row, [number]>(`SELECT ${COLUMNS} FROM workspaces WHERE id = ?`)
    this.#byExternal = db.query<Row, [string]>(`SELECT ${COLUMNS} FROM workspaces WHERE external_id = ?`)
    this.#insert = db.query<Row, [string, string, number | null, number]>(
      `INSERT INTO workspaces (external_id, name, base_id, state, created_at) VALUES (?, ?, ?, 0, ?) RETURNING ${COLUMNS}`,
    )
    this.#update = db.query('UPDATE workspaces SET name = ?, base_id = ?, state = ? WHERE id = ?')
    this.#history = db.query(
      'INSERT INTO workspace_history (workspace_id, name, base_id, state, created_at) VALUES (?, ?, ?, ?, ?)',
    )
    this.#externalTaken = db.query<{ one: number }, [string]>('SELECT 1 AS one FROM workspaces WHERE external_id = ?')
  }

  list(): WorkspaceRecord[] {
    return this.#all.all().map(toRecord)
  }

  /** A workspace's external id (they never change): asked on every dispatch. */
  externalIdOf(id: number): string | null {
    const cached = this.#externalIds.get(id)
    if (cached) return cached
    const externalId = this.get(id)?.externalId ?? null
    if (externalId) this.#externalIds.set(id, externalId)
    return externalId
  }

  get(id: number): WorkspaceRecord | null {
    const r = this.#byId.get(id)
    return r ? toRecord(r) : null
  }

  getByExternalId(externalId: string): WorkspaceRecord | null {
    const r = this.#byExternal.get(externalId)
    return r ? toRecord(r) : null
  }

  /** The non-archived workspace with this exact name. */
  getActiveByName(name: string): WorkspaceRecord | null {
    return this.list().find((w) => w.name === name && w.state !== 'archived') ?? null
  }

  create(name: string, baseId: number | null, now: number): WorkspaceRecord {
    return this.#db.transaction(() => {
      const externalId = generateId('W', (id) => !!this.#externalTaken.get(id))
      const row = toRecord(this.#insert.get(externalId, name, baseId, now)!)
      this.#history.run(row.id, name, baseId, 0, now)
      return row
    })()
  }

  update(id: number, changes: { name?: string; baseId?: number | null; state?: WorkspaceStateName }, now: number): void {
    const current = this.get(id)
    if (!current) return
    const name = changes.name ?? current.name
    const baseId = changes.baseId === undefined ? current.baseId : changes.baseId
    const state = WORKSPACE_STATE[changes.state ?? current.state]
    this.#db.transaction(() => {
      this.#update.run(name, baseId, state, id)
      this.#history.run(id, name, baseId, state, now)
    })()
  }

  /** `[root, …, parent, self]` (semantics.md §18.3). */
  ancestry(id: number): number[] {
    const chain: number[] = []
    const seen = new Set<number>()
    let current: number | null = id
    while (current !== null && !seen.has(current)) {
      seen.add(current)
      chain.unshift(current)
      current = this.get(current)?.baseId ?? null
    }
    return chain
  }
}
