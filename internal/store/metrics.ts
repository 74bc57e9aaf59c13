/**
 * The metric store (semantics.md §25, http-api.md §13): points in their own SQLite file, written
 * like the log store through a buffer flushed every 500 ms or 1000 points in one transaction, and
 * handed to subscribers (the live `text/event-stream` reads) batch by batch.
 *
 * Points are read in the order the server accepted them, `(created_at, id)`, so cursors have the
 * log store's form `<partition>:<created_at>:<id>`; `at` is the user's x value and may be anything.
 */
import type { Database } from 'bun:sqlite'
import { migrate, openDatabase, type Migration } from './db.ts'
import { parseLogCursor, type LogCursor } from './logs.ts'
import m0001 from './migrations-metrics/0001_initial.sql' with { type: 'text' }

export const METRIC_MIGRATIONS: Migration[] = [{ version: 1, name: 'initial', sql: m0001 }]

export const DEFAULT_METRIC_LIMIT = 1000
export const MAX_METRIC_LIMIT = 10_000

/** One point as a worker posts it (the route has checked its shape and scope). */
export interface NewMetricPoint {
  runId: string
  executionId: string
  workspaceId: string
  key: string
  value: number
  at: number
}

/** One point as `GET /metrics` returns it. */
export interface MetricPoint {
  executionId: string
  workspaceId: string
  key: string
  value: number
  at: number
}

/** Which points: a run and/or an execution (at least one), optionally only some keys and workspaces. */
export type MetricFilter = ({ run: string; execution?: string } | { run?: string; execution: string }) & {
  /** only these keys; absent means any */
  keys?: readonly string[]
  /** only these workspaces; absent means any */
  workspaces?: readonly string[]
}

export type MetricQuery = MetricFilter & {
  /** a cursor from a previous page */
  after?: string | null
  /** Unix ms: only points accepted at or after `from` */
  from?: number
  /** default 1000, at most 10000 */
  limit?: number
}

export interface MetricPage {
  metrics: MetricPoint[]
  /** `<partition>:<created_at>:<id>` of the last point, null for an empty page */
  cursor: string | null
}

export interface MetricStoreOptions {
  flushIntervalMs?: number
  flushSize?: number
  /** failures of background flushes and of subscribers; points stay buffered and are retried */
  onError?: (err: unknown) => void
  /** the clock that stamps accepted points (tests) */
  now?: () => number
}

export class InvalidMetricCursorError extends Error {
  override readonly name = 'InvalidMetricCursorError'
  constructor(readonly cursor: string) {
    super(`invalid metric cursor: ${cursor}`)
  }
}

interface PendingPoint extends NewMetricPoint {
  createdAt: number
}

interface StoredPoint extends PendingPoint {
  id: number
}

interface Subscriber {
  execution: string | undefined
  from: number
  keys: Set<string> | null
  workspaces: Set<string> | null
  onBatch: (points: MetricPoint[]) => void
}

export class MetricStore {
  readonly #active: MetricPartition
  readonly #flushIntervalMs: number
  readonly #flushSize: number
  readonly #onError: (err: unknown) => void
  readonly #now: () => number
  #pending: PendingPoint[] = []
  #timer: ReturnType<typeof setTimeout> | null = null
  #closed = false
  /** the last stamp handed out: stamps never go back, so a cursor never skips a later batch */
  #lastCreatedAt: number
  /** run id → live readers of that run */
  readonly #subscribers = new Map<string, Set<Subscriber>>()

  constructor(path: string, options: MetricStoreOptions = {}) {
    const db = openDatabase(path)
    migrate(db, METRIC_MIGRATIONS)
    this.#active = new MetricPartition('', db)
    this.#lastCreatedAt = this.#active.lastCreatedAt()
    this.#flushIntervalMs = options.flushIntervalMs ?? 500
    this.#flushSize = options.flushSize ?? 1000
    this.#onError = options.onError ?? (() => {})
    this.#now = options.now ?? Date.now
  }

  /** Buffers points; they are persisted within the flush interval, or at once past the batch size. */
  append(points: readonly NewMetricPoint[]): void {
    if (this.#closed) throw new Error('metric store is closed')
    // the clock may step back (NTP); the stamp orders reads, so it must not
    const createdAt = (this.#lastCreatedAt = Math.max(this.#now(), this.#lastCreatedAt))
    for (const p of points) {
      // copied field by field, so a caller mutating its objects later cannot change what is stored
      this.#pending.push({
        runId: p.runId, executionId: p.executionId, workspaceId: p.workspaceId, key: p.key, value: p.value, at: p.at, createdAt,
      })
    }
    if (this.#pending.length >= this.#flushSize) this.#flushQuietly()
    else if (this.#pending.length > 0 && this.#timer === null) this.#schedule()
  }

  /** Writes every buffered point in one transaction, then notifies subscribers. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    if (this.#pending.length === 0) return
    const batch = this.#pending
    this.#pending = []
    let stored: StoredPoint[]
    try {
      stored = this.#active.insert(batch)
    } catch (err) {
      // keep them, in order, for the next attempt: the worker was already told they were accepted
      this.#pending = batch.concat(this.#pending)
      if (!this.#closed) this.#schedule()
      throw err
    }
    this.#publish(stored)
  }

  /**
   * Calls `onBatch` with the matching points of every batch flushed from now on. Reads are
   * synchronous, so `query` followed by `subscribe` in the same tick misses and repeats nothing.
   */
  subscribe(filter: MetricFilter & { run: string; from?: number }, onBatch: (points: MetricPoint[]) => void): () => void {
    const subscriber: Subscriber = {
      execution: filter.execution,
      from: filter.from ?? Number.MIN_SAFE_INTEGER,
      keys: filter.keys ? new Set(filter.keys) : null,
      workspaces: filter.workspaces ? new Set(filter.workspaces) : null,
      onBatch,
    }
    let set = this.#subscribers.get(filter.run)
    if (!set) this.#subscribers.set(filter.run, (set = new Set()))
    set.add(subscriber)
    return () => {
      set.delete(subscriber)
      if (set.size === 0 && this.#subscribers.get(filter.run) === set) this.#subscribers.delete(filter.run)
    }
  }

  /** One page in `(created_at, id)` order. Buffered points are flushed first, so a read sees everything accepted. */
  query(query: MetricQuery): MetricPage {
    const cursor = query.after ? parseLogCursor(query.after) : null
    if (query.after && !cursor) throw new InvalidMetricCursorError(query.after)
    this.#flushQuietly()
    const requested = Number.isFinite(query.limit) ? Math.floor(query.limit!) : DEFAULT_METRIC_LIMIT
    const limit = Math.min(Math.max(requested, 1), MAX_METRIC_LIMIT)
    // a cursor into another partition points into an archive, all of which precede the active one
    const after = cursor && cursor.partition === this.#active.id ? cursor : null
    const rows = this.#active.select(query, after, query.from ?? null, limit)
    const last = rows.at(-1)
    return { metrics: rows.map(toPoint), cursor: last ? `${this.#active.id}:${last.createdAt}:${last.id}` : null }
  }

  /** Persists everything still buffered and closes the file. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    try {
      this.flush()
    } finally {
      this.#active.close()
      this.#subscribers.clear()
    }
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#flushQuietly(), this.#flushIntervalMs)
    this.#timer.unref?.()
  }

  #flushQuietly(): void {
    try {
      this.flush()
    } catch (err) {
      this.#onError(err)
    }
  }

  #publish(stored: StoredPoint[]): void {
    if (this.#subscribers.size === 0) return
    for (const [run, subscribers] of this.#subscribers) {
      const points = stored.filter((p) => p.runId === run)
      if (points.length === 0) continue
      for (const s of subscribers) {
        const matching = points.filter(
          (p) =>
            p.createdAt >= s.from &&
            (s.execution === undefined || p.executionId === s.execution) &&
            (s.keys === null || s.keys.has(p.key)) &&
            (s.workspaces === null || s.workspaces.has(p.workspaceId)),
        )
        if (matching.length === 0) continue
        try {
          s.onBatch(matching.map(toPoint))
        } catch (err) {
          this.#onError(err)
        }
      }
    }
  }
}

function toPoint(p: StoredPoint): MetricPoint {
  return { executionId: p.executionId, workspaceId: p.workspaceId, key: p.key, value: p.value, at: p.at }
}

interface PointRow {
  id: number
  run_id: string
  execution_id: string
  workspace_id: string
  key: string
  value: number
  at: number
  created_at: number
}

// a type alias, not an interface: bun:sqlite wants bindings with an implicit index signature
type SelectParams = {
  run: string | null
  execution: string | null
  /** JSON array texts, or null for any */
  keys: string | null
  workspaces: string | null
  fromCreatedAt: number
  afterCreatedAt: number
  afterId: number
  limit: number
}

const CONDITIONS = `
  AND (created_at, id) > ($afterCreatedAt, $afterId)
  AND created_at >= $fromCreatedAt
  AND ($keys IS NULL OR key IN (SELECT value FROM json_each($keys)))
  AND ($workspaces IS NULL OR workspace_id IN (SELECT value FROM json_each($workspaces)))
  ORDER BY created_at, id
  LIMIT $limit`

/** One SQLite file of points. */
class MetricPartition {
  readonly #db: Database
  readonly #insert
  readonly #selectByRun
  readonly #selectByExecution
  readonly #newest

  constructor(
    readonly id: string,
    db: Database,
  ) {
    this.#db = db
    this.#insert = db.query<never, [string, string, string, string, number, number, number]>(
      'INSERT INTO points (run_id, execution_id, workspace_id, key, value, at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    // stamps only grow with ids, so the newest row holds the largest (without scanning the table)
    this.#newest = db.query<{ created_at: number }, []>('SELECT created_at FROM points ORDER BY id DESC LIMIT 1')
    // Two statements rather than `($run IS NULL OR run_id = $run)`, which would keep SQLite from
    // seeking either index; the row-value bound then seeks straight to the cursor.
    this.#selectByRun = db.query<PointRow, SelectParams>(
      `SELECT * FROM points WHERE run_id = $run AND ($execution IS NULL OR execution_id = $execution) ${CONDITIONS}`,
    )
    this.#selectByExecution = db.query<PointRow, SelectParams>(
      `SELECT * FROM points WHERE execution_id = $execution AND ($run IS NULL OR run_id = $run) ${CONDITIONS}`,
    )
  }

  lastCreatedAt(): number {
    return this.#newest.get()?.created_at ?? 0
  }

  insert(batch: readonly PendingPoint[]): StoredPoint[] {
    return this.#db.transaction(() =>
      batch.map((p) => {
        const { lastInsertRowid } = this.#insert.run(p.runId, p.executionId, p.workspaceId, p.key, p.value, p.at, p.createdAt)
        return { ...p, id: Number(lastInsertRowid) }
      }),
    )()
  }

  select(filter: MetricFilter, after: LogCursor | null, from: number | null, limit: number): StoredPoint[] {
    const params: SelectParams = {
      run: filter.run ?? null,
      execution: filter.execution ?? null,
      keys: filter.keys ? JSON.stringify(filter.keys) : null,
      workspaces: filter.workspaces ? JSON.stringify(filter.workspaces) : null,
      fromCreatedAt: from ?? Number.MIN_SAFE_INTEGER,
      afterCreatedAt: after?.timestamp ?? Number.MIN_SAFE_INTEGER,
      afterId: after?.id ?? 0,
      limit,
    }
    const rows = params.run !== null ? this.#selectByRun.all(params) : this.#selectByExecution.all(params)
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      executionId: r.execution_id,
      workspaceId: r.workspace_id,
      key: r.key,
      value: r.value,
      at: r.at,
      createdAt: r.created_at,
    }))
  }

  close(): void {
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    } catch {
      // best effort: the WAL is replayed on the next open anyway
    }
    this.#db.close()
  }
}
