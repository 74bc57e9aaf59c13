/**
 * The metric store (semantics.md §25, http-api.md §13): points in their own SQLite file, written
 * like the log store through a `BufferedWriter` (one transaction every 500 ms or 1000 points; each
 * batch also goes to the live `text/event-stream` readers).
 *
 * Points are read in the order the server accepted them, `(created_at, id)`, so cursors have the
 * log store's form `<partition>:<created_at>:<id>`; `at` is the user's x value and may be anything.
 * The store is partitioned and rotated like the log store (`partitions.ts`).
 */
import type { SqlDatabase } from './sql-database.ts'
import { runIdOf } from '../protocol/ids.ts'
import type { MetricPage, MetricPoint, NewMetricPoint } from '../protocol/metrics.ts'
import { BufferedWriter, type BufferedWriterOptions } from './buffered-writer.ts'
import type { DatabaseHost } from './database-host.ts'
import type { MigrationSet } from './db.ts'
import m0001 from './migrations-metrics/0001_initial.sql' with { type: 'text' }
import m0002 from './migrations-metrics/0002_runs.sql' with { type: 'text' }
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, readPage, type Cursor } from './pages.ts'
import { PartitionFile, Partitions } from './partitions.ts'
import { PartitionedStore } from './partitioned-store.ts'
import { PG_METRIC_MIGRATIONS } from './postgres/migrations/index.ts'

export const METRIC_MIGRATIONS: MigrationSet = {
  sqlite: [
    { version: 1, name: 'initial', sql: m0001 },
    { version: 2, name: 'runs', sql: m0002 },
  ],
  postgres: PG_METRIC_MIGRATIONS,
}

export const DEFAULT_METRIC_LIMIT = DEFAULT_PAGE_LIMIT
export const MAX_METRIC_LIMIT = MAX_PAGE_LIMIT

/** The wire types (the route has checked a posted point's shape and scope). */
export type { MetricPage, MetricPoint, NewMetricPoint }

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

export interface MetricStoreOptions extends BufferedWriterOptions {
  /** the clock that stamps accepted points (tests) */
  now?: () => number
  /** where the databases live: SQLite files (the default) or PostgreSQL schemas */
  host?: DatabaseHost
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

export class MetricStore extends PartitionedStore<MetricPartition, PendingPoint, StoredPoint> {
  readonly #now: () => number
  /** the last stamp handed out: stamps never go back, so a cursor never skips a later batch */
  #lastCreatedAt: number

  constructor(path: string, options: MetricStoreOptions = {}) {
    super(
      new Partitions(path, METRIC_MIGRATIONS, (id, db, after) => new MetricPartition(id, db, after), options.host),
      (partitions) => new BufferedWriter('metric store', (batch) => partitions.active.insert(batch), options),
    )
    this.#lastCreatedAt = this.partitions.lastStamp()
    this.#now = options.now ?? Date.now
  }

  /** Buffers points; they are persisted within the flush interval, or at once past the batch size. */
  append(points: readonly NewMetricPoint[]): void {
    // the clock may step back (NTP); the stamp orders reads, so it must not
    const createdAt = (this.#lastCreatedAt = Math.max(this.#now(), this.#lastCreatedAt))
    // copied field by field, so a caller mutating its objects later cannot change what is stored
    this.writer.append(
      points.map((p) => ({ runId: p.runId, executionId: p.executionId, workspaceId: p.workspaceId, key: p.key, value: p.value, at: p.at, createdAt })),
    )
  }

  /**
   * Calls `onBatch` with the matching points of every batch flushed from now on. Reads are
   * synchronous, so `query` followed by `subscribe` in the same tick misses and repeats nothing.
   */
  subscribe(filter: MetricFilter & { run: string; from?: number }, onBatch: (points: MetricPoint[]) => void): () => void {
    const { execution } = filter
    const from = filter.from ?? Number.MIN_SAFE_INTEGER
    const keys = filter.keys ? new Set(filter.keys) : null
    const workspaces = filter.workspaces ? new Set(filter.workspaces) : null
    return this.writer.subscribe(
      filter.run,
      (p) =>
        p.createdAt >= from &&
        (execution === undefined || p.executionId === execution) &&
        (keys === null || keys.has(p.key)) &&
        (workspaces === null || workspaces.has(p.workspaceId)),
      (points) => onBatch(points.map(toPoint)),
    )
  }

  /** One page in `(created_at, id)` order. Buffered points are flushed first, so a read sees everything accepted. */
  query(query: MetricQuery): MetricPage {
    // an execution id starts with its run's id: the archives' run filters apply to both reads
    const run = query.run ?? runIdOf(query.execution!)
    const { rows, cursor } = readPage(
      query,
      (after) => new InvalidMetricCursorError(after),
      (after) => {
        this.writer.flushQuietly()
        return this.partitions.readOrder(after, run)
      },
      (partition, after, limit) => partition.select(query, after, query.from ?? null, limit),
      (row) => row.createdAt,
    )
    return { metrics: rows.map(toPoint), cursor }
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
  AND (CAST($keys AS TEXT) IS NULL OR key IN (SELECT value FROM json_each($keys)))
  AND (CAST($workspaces AS TEXT) IS NULL OR workspace_id IN (SELECT value FROM json_each($workspaces)))
  ORDER BY created_at, id
  LIMIT $limit`

/** One SQLite file of points. Stamps only grow with ids, so the newest row holds the largest. */
class MetricPartition extends PartitionFile {
  readonly #insert
  readonly #selectByRun
  readonly #selectByExecution

  constructor(id: string, db: SqlDatabase, after: number) {
    super(id, db, 'points', 'created_at', after)
    this.#insert = db.query<never, [number, string, string, string, string, number, number, number]>(
      'INSERT INTO points (id, run_id, execution_id, workspace_id, key, value, at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    // Two statements rather than `($run IS NULL OR run_id = $run)`, which would keep SQLite from
    // seeking either index; the row-value bound then seeks straight to the cursor.
    this.#selectByRun = db.query<PointRow, SelectParams>(
      `SELECT * FROM points WHERE run_id = $run AND (CAST($execution AS TEXT) IS NULL OR execution_id = $execution) ${CONDITIONS}`,
    )
    this.#selectByExecution = db.query<PointRow, SelectParams>(
      `SELECT * FROM points WHERE execution_id = $execution AND (CAST($run AS TEXT) IS NULL OR run_id = $run) ${CONDITIONS}`,
    )
  }

  insert(batch: readonly PendingPoint[]): StoredPoint[] {
    return this.write(batch, (p, id) => {
      this.#insert.run(id, p.runId, p.executionId, p.workspaceId, p.key, p.value, p.at, p.createdAt)
      return { ...p, id }
    })
  }

  select(filter: MetricFilter, after: Cursor | null, from: number | null, limit: number): StoredPoint[] {
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
}
