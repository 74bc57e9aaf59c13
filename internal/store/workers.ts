import type { SqlDatabase } from './sql-database.ts'

/** A launched worker's state (semantics.md §21.5). */
export const WORKER_STATE = {
  /** receives executions */
  active: 0,
  /** kept for 0.12 compatibility of the shape; nothing sets it today */
  paused: 1,
  /** receives nothing new; stopped once idle */
  draining: 2,
} as const
export type WorkerStateName = keyof typeof WORKER_STATE
const WORKER_STATE_NAME: Record<number, WorkerStateName> = { 0: 'active', 1: 'paused', 2: 'draining' }

/** Opaque to the store and the orchestrator: what the launcher returned to find the worker again. */
export type LaunchHandle = Record<string, unknown>

export interface WorkerRecord {
  id: number
  /** UUID v4 */
  externalId: string
  poolId: number
  state: WorkerStateName
  startingAt: number
  startedAt: number | null
  startError: string | null
  handle: LaunchHandle | null
  stoppingAt: number | null
  stoppedAt: number | null
  stopError: string | null
  deactivatedAt: number | null
  error: string | null
  logs: string | null
}

interface Row {
  id: number
  external_id: string
  pool_id: number
  state: number
  starting_at: number
  started_at: number | null
  start_error: string | null
  handle: string | null
  stopping_at: number | null
  stopped_at: number | null
  stop_error: string | null
  deactivated_at: number | null
  error: string | null
  logs: string | null
}

function toRecord(r: Row): WorkerRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    poolId: r.pool_id,
    state: WORKER_STATE_NAME[r.state] ?? 'active',
    startingAt: r.starting_at,
    startedAt: r.started_at,
    startError: r.start_error,
    handle: r.handle === null ? null : (JSON.parse(r.handle) as LaunchHandle),
    stoppingAt: r.stopping_at,
    stoppedAt: r.stopped_at,
    stopError: r.stop_error,
    deactivatedAt: r.deactivated_at,
    error: r.error,
    logs: r.logs,
  }
}

/** Workers launched by pools. Every change returns the updated record. */
export class WorkerStore {
  readonly #insert
  readonly #byId
  readonly #byExternal
  readonly #running
  readonly #ofPool
  readonly #started
  readonly #startFailed
  readonly #state
  readonly #stopping
  readonly #stopped
  readonly #deactivate
  readonly #executions

  constructor(db: SqlDatabase) {
    this.#insert = db.query<Row, [string, number, number]>('INSERT INTO workers (external_id, pool_id, starting_at) VALUES (?, ?, ?) RETURNING *')
    this.#byId = db.query<Row, [number]>('SELECT * FROM workers WHERE id = ?')
    this.#byExternal = db.query<Row, [string]>('SELECT * FROM workers WHERE external_id = ?')
    this.#running = db.query<Row, []>('SELECT * FROM workers WHERE deactivated_at IS NULL ORDER BY id')
    // the pool topic shows recent launches; running workers are always included however old
    this.#ofPool = db.query<Row, [number, number, number]>(
      `SELECT * FROM workers WHERE pool_id = ? AND (deactivated_at IS NULL OR id IN
         (SELECT id FROM workers WHERE pool_id = ? ORDER BY starting_at DESC, id DESC LIMIT ?))
       ORDER BY starting_at, id`,
    )
    this.#started = db.query<Row, [string, number, number]>('UPDATE workers SET handle = ?, started_at = ? WHERE id = ? RETURNING *')
    this.#startFailed = db.query<Row, [string, number, number]>(
      'UPDATE workers SET start_error = ?, deactivated_at = COALESCE(deactivated_at, ?) WHERE id = ? RETURNING *',
    )
    this.#state = db.query<Row, [number, number]>('UPDATE workers SET state = ? WHERE id = ? RETURNING *')
    this.#stopping = db.query<Row, [number, number]>('UPDATE workers SET stopping_at = ? WHERE id = ? RETURNING *')
    this.#stopped = db.query<Row, [number, string | null, number]>('UPDATE workers SET stopped_at = ?, stop_error = ? WHERE id = ? RETURNING *')
    this.#deactivate = db.query<Row, [number, string | null, string | null, number]>(
      'UPDATE workers SET deactivated_at = ?, error = ?, logs = ? WHERE id = ? RETURNING *',
    )
    this.#executions = db.query<{ n: number }, [number]>(
      'SELECT COUNT(*) AS n FROM assignments a JOIN sessions s ON s.id = a.session_id WHERE s.worker_id = ?',
    )
  }

  create(poolId: number, now: number): WorkerRecord {
    return toRecord(this.#insert.get(crypto.randomUUID(), poolId, now)!)
  }

  get(id: number): WorkerRecord | null {
    const r = this.#byId.get(id)
    return r ? toRecord(r) : null
  }

  getByExternalId(externalId: string): WorkerRecord | null {
    const r = this.#byExternal.get(externalId)
    return r ? toRecord(r) : null
  }

  /** Workers not yet deactivated (start-up restore). */
  running(): WorkerRecord[] {
    return this.#running.all().map(toRecord)
  }

  /** The pool's `recent` latest launches plus every worker still running, oldest first. */
  ofPool(poolId: number, recent = 50): WorkerRecord[] {
    return this.#ofPool.all(poolId, poolId, recent).map(toRecord)
  }

  markStarted(id: number, handle: LaunchHandle, now: number): WorkerRecord {
    return toRecord(this.#started.get(JSON.stringify(handle), now, id)!)
  }

  /** A launch error deactivates the worker (semantics.md §21.2). */
  markStartFailed(id: number, error: string, now: number): WorkerRecord {
    return toRecord(this.#startFailed.get(error, now, id)!)
  }

  setState(id: number, state: WorkerStateName): WorkerRecord {
    return toRecord(this.#state.get(WORKER_STATE[state], id)!)
  }

  markStopping(id: number, now: number): WorkerRecord {
    return toRecord(this.#stopping.get(now, id)!)
  }

  markStopped(id: number, error: string | null, now: number): WorkerRecord {
    return toRecord(this.#stopped.get(now, error, id)!)
  }

  deactivate(id: number, error: string | null, logs: string | null, now: number): WorkerRecord {
    return toRecord(this.#deactivate.get(now, error, logs, id)!)
  }

  /** Executions ever assigned to the worker's sessions. */
  executionCount(id: number): number {
    return this.#executions.get(id)?.n ?? 0
  }
}
