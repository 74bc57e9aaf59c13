/**
 * The log store (semantics.md §24, http-api.md §12): its own SQLite file, written through a
 * `BufferedWriter` (one transaction every 500 ms or 1000 entries; each batch also goes to the
 * live `text/event-stream` readers).
 *
 * Entries live in partitions (`partitions.ts`): the active one (`''` in cursors) and the archives
 * that rotation leaves, read before it. Live readers subscribe to the writer, not to a partition,
 * so their streams go on across a rotation.
 */
import type { SqlDatabase } from './sql-database.ts'
import { RawJson, stringifyJson } from '../protocol/json.ts'
import type { LogMessage as WireLogMessage, LogPage as WireLogPage, NewLogEntry } from '../protocol/logs.ts'
import { BufferedWriter, type BufferedWriterOptions } from './buffered-writer.ts'
import type { DatabaseHost } from './database-host.ts'
import type { MigrationSet } from './db.ts'
import m0001 from './migrations-logs/0001_initial.sql' with { type: 'text' }
import m0002 from './migrations-logs/0002_runs.sql' with { type: 'text' }
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, parseCursor, readPage, type Cursor } from './pages.ts'
import { PartitionFile, Partitions } from './partitions.ts'
import { PartitionedStore } from './partitioned-store.ts'
import { PG_LOG_MIGRATIONS } from './postgres/migrations/index.ts'

export const LOG_MIGRATIONS: MigrationSet = {
  sqlite: [
    { version: 1, name: 'initial', sql: m0001 },
    { version: 2, name: 'runs', sql: m0002 },
  ],
  postgres: PG_LOG_MIGRATIONS,
}

export const DEFAULT_LOG_LIMIT = DEFAULT_PAGE_LIMIT
export const MAX_LOG_LIMIT = MAX_PAGE_LIMIT

/** One entry as a worker posts it (the route has checked its shape). */
export type { NewLogEntry }

/** One entry as `GET /logs` returns it; `values` is the stored JSON text, spliced verbatim. */
export type LogMessage = WireLogMessage<RawJson>

export interface LogFilter {
  run: string
  execution?: string
  /** only these workspaces; absent means any */
  workspaces?: readonly string[]
}

export interface LogQuery extends LogFilter {
  /** a cursor from a previous page */
  after?: string | null
  /** Unix ms: only entries with `timestamp ≥ from` */
  from?: number
  /** default 1000, at most 10000 */
  limit?: number
}

export type LogPage = WireLogPage<RawJson>

export type LogCursor = Cursor

export interface LogStoreOptions extends BufferedWriterOptions {
  /** where the databases live: SQLite files (the default) or PostgreSQL schemas */
  host?: DatabaseHost
}

export class InvalidLogCursorError extends Error {
  override readonly name = 'InvalidLogCursorError'
  constructor(readonly cursor: string) {
    super(`invalid log cursor: ${cursor}`)
  }
}

export { parseCursor as parseLogCursor }

interface PendingEntry extends Omit<NewLogEntry, 'values'> {
  valuesText: string
}

interface StoredEntry extends PendingEntry {
  id: number
}

export class LogStore extends PartitionedStore<LogPartition, PendingEntry, StoredEntry> {
  constructor(path: string, options: LogStoreOptions = {}) {
    super(
      new Partitions(path, LOG_MIGRATIONS, (id, db, after) => new LogPartition(id, db, after), options.host),
      (partitions) =>
        new BufferedWriter('log store', (batch) => partitions.active.insert(batch), {
          ...options,
          order: (a, b) => a.timestamp - b.timestamp || a.id - b.id,
        }),
    )
  }

  /** Buffers entries; they are persisted within the flush interval, or at once past the batch size. */
  append(entries: readonly NewLogEntry[]): void {
    // serialised now, so a caller mutating its objects later cannot change what is stored
    this.writer.append(entries.map(({ values, ...entry }) => ({ ...entry, valuesText: stringifyJson(values) })))
  }

  /**
   * Calls `onBatch` with the matching entries of every batch flushed from now on. Reads are
   * synchronous, so `query` followed by `subscribe` in the same tick misses and repeats nothing.
   */
  subscribe(filter: LogFilter, onBatch: (logs: LogMessage[]) => void): () => void {
    const workspaces = filter.workspaces ? new Set(filter.workspaces) : null
    return this.writer.subscribe(
      filter.run,
      (e) => (filter.execution === undefined || e.executionId === filter.execution) && (workspaces === null || workspaces.has(e.workspaceId)),
      (entries) => onBatch(entries.map(toMessage)),
    )
  }

  /**
   * One page in `(timestamp, id)` order. Buffered entries are flushed first, so a read sees
   * everything already accepted.
   */
  query(query: LogQuery): LogPage {
    const { rows, cursor } = readPage(
      query,
      (after) => new InvalidLogCursorError(after),
      (after) => {
        this.writer.flushQuietly()
        return this.partitions.readOrder(after, query.run)
      },
      (partition, after, limit) => partition.select(query, after, query.from ?? null, limit),
      (row) => row.timestamp,
    )
    return { logs: rows.map(toMessage), cursor }
  }
}

function toMessage(e: StoredEntry): LogMessage {
  return {
    executionId: e.executionId,
    workspaceId: e.workspaceId,
    timestamp: e.timestamp,
    level: e.level,
    template: e.template,
    values: new RawJson(e.valuesText),
  }
}

interface MessageRow {
  id: number
  run_id: string
  execution_id: string
  workspace_id: string
  timestamp: number
  level: number
  template: string | null
  values_json: string
}

// a type alias, not an interface: bun:sqlite wants bindings with an implicit index signature
type SelectParams = {
  run: string
  execution: string | null
  /** JSON array text, or null for any workspace */
  workspaces: string | null
  fromTimestamp: number
  afterTimestamp: number
  afterId: number
  limit: number
}

// Template ids are cached per partition; past this many distinct templates the cache restarts.
const TEMPLATE_CACHE_SIZE = 10_000

/** One SQLite file of log entries. */
class LogPartition extends PartitionFile {
  readonly #templateIds = new Map<string, number>()
  readonly #findTemplate
  readonly #insertTemplate
  readonly #insertMessage
  readonly #select

  constructor(id: string, db: SqlDatabase, after: number) {
    super(id, db, 'messages', 'timestamp', after)
    this.#findTemplate = db.query<{ id: number }, [string]>('SELECT id FROM templates WHERE text = ?')
    this.#insertTemplate = db.query<{ id: number }, [string]>('INSERT INTO templates (text) VALUES (?) RETURNING id')
    this.#insertMessage = db.query<never, [number, string, string, string, number, number, number | null, string]>(
      `INSERT INTO messages (id, run_id, execution_id, workspace_id, timestamp, level, template_id, values_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    // The row-value bound lets SQLite seek the (run_id, timestamp, id) index to the cursor
    // instead of scanning the run from its start for every page.
    this.#select = db.query<MessageRow, SelectParams>(
      `SELECT m.id, m.run_id, m.execution_id, m.workspace_id, m.timestamp, m.level, t.text AS template, m.values_json
       FROM messages m LEFT JOIN templates t ON t.id = m.template_id
       WHERE m.run_id = $run
         AND (m.timestamp, m.id) > ($afterTimestamp, $afterId)
         AND m.timestamp >= $fromTimestamp
         -- CAST: PostgreSQL cannot type a parameter that is only tested for NULL
         AND (CAST($execution AS TEXT) IS NULL OR m.execution_id = $execution)
         AND (CAST($workspaces AS TEXT) IS NULL OR m.workspace_id IN (SELECT value FROM json_each($workspaces)))
       ORDER BY m.timestamp, m.id
       LIMIT $limit`,
    )
  }

  insert(batch: readonly PendingEntry[]): StoredEntry[] {
    // template ids seen in this transaction are cached only once it has committed
    const learned = new Map<string, number>()
    const stored = this.write(batch, (e, id) => {
      const templateId = e.template === null ? null : this.#templateId(e.template, learned)
      this.#insertMessage.run(id, e.runId, e.executionId, e.workspaceId, e.timestamp, e.level, templateId, e.valuesText)
      return { ...e, id }
    })
    if (this.#templateIds.size + learned.size > TEMPLATE_CACHE_SIZE) this.#templateIds.clear()
    for (const [text, id] of learned) this.#templateIds.set(text, id)
    return stored
  }

  select(filter: LogFilter, after: LogCursor | null, from: number | null, limit: number): StoredEntry[] {
    const rows = this.#select.all({
      run: filter.run,
      execution: filter.execution ?? null,
      workspaces: filter.workspaces ? JSON.stringify(filter.workspaces) : null,
      fromTimestamp: from ?? Number.MIN_SAFE_INTEGER,
      afterTimestamp: after?.timestamp ?? Number.MIN_SAFE_INTEGER,
      afterId: after?.id ?? 0,
      limit,
    })
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      executionId: r.execution_id,
      workspaceId: r.workspace_id,
      timestamp: r.timestamp,
      level: r.level,
      template: r.template,
      valuesText: r.values_json,
    }))
  }

  #templateId(text: string, learned: Map<string, number>): number {
    const cached = this.#templateIds.get(text) ?? learned.get(text)
    if (cached !== undefined) return cached
    const id = this.#findTemplate.get(text)?.id ?? this.#insertTemplate.get(text)!.id
    learned.set(text, id)
    return id
  }
}
