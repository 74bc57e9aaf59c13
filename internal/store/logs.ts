/**
 * The log store (semantics.md §24, http-api.md §12): its own SQLite file, written through a
 * buffer that is flushed every 500 ms or 1000 entries in one transaction, so a busy run costs
 * a few commits per second rather than one per line. Each flushed batch is also handed to
 * subscribers (the live `text/event-stream` reads).
 *
 * Entries live in partitions; today only the active one (epoch id `''`). Rotation will add
 * archived partitions, searched before the active one, which is why cursors name a partition.
 */
import type { Database } from 'bun:sqlite'
import { RawJson, stringifyJson } from '../protocol/json.ts'
import type { LogMessage as WireLogMessage, LogPage as WireLogPage, NewLogEntry } from '../protocol/logs.ts'
import { migrate, openDatabase, type Migration } from './db.ts'
import m0001 from './migrations-logs/0001_initial.sql' with { type: 'text' }

export const LOG_MIGRATIONS: Migration[] = [{ version: 1, name: 'initial', sql: m0001 }]

export const DEFAULT_LOG_LIMIT = 1000
export const MAX_LOG_LIMIT = 10_000

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

export interface LogCursor {
  partition: string
  timestamp: number
  id: number
}

export interface LogStoreOptions {
  flushIntervalMs?: number
  flushSize?: number
  /** failures of background flushes and of subscribers; entries stay buffered and are retried */
  onError?: (err: unknown) => void
}

export class InvalidLogCursorError extends Error {
  override readonly name = 'InvalidLogCursorError'
  constructor(readonly cursor: string) {
    super(`invalid log cursor: ${cursor}`)
  }
}

/** `<partition>:<timestamp>:<id>`, or the older `<timestamp>:<id>` (the active partition); null if neither. */
export function parseLogCursor(text: string): LogCursor | null {
  const m = /^(?:([A-Za-z0-9_-]*):)?(-?\d{1,16}):(\d{1,16})$/.exec(text)
  if (!m) return null
  return { partition: m[1] ?? '', timestamp: Number(m[2]), id: Number(m[3]) }
}

interface PendingEntry extends Omit<NewLogEntry, 'values'> {
  valuesText: string
}

interface StoredEntry extends PendingEntry {
  id: number
}

interface Subscriber {
  filter: LogFilter
  workspaces: Set<string> | null
  onBatch: (logs: LogMessage[]) => void
}

export class LogStore {
  readonly #active: LogPartition
  readonly #flushIntervalMs: number
  readonly #flushSize: number
  readonly #onError: (err: unknown) => void
  #pending: PendingEntry[] = []
  #timer: ReturnType<typeof setTimeout> | null = null
  #closed = false
  readonly #subscribers = new Map<string, Set<Subscriber>>()

  constructor(path: string, options: LogStoreOptions = {}) {
    const db = openDatabase(path)
    migrate(db, LOG_MIGRATIONS)
    this.#active = new LogPartition('', db)
    this.#flushIntervalMs = options.flushIntervalMs ?? 500
    this.#flushSize = options.flushSize ?? 1000
    this.#onError = options.onError ?? (() => {})
  }

  /** Buffers entries; they are persisted within the flush interval, or at once past the batch size. */
  append(entries: readonly NewLogEntry[]): void {
    if (this.#closed) throw new Error('log store is closed')
    for (const { values, ...entry } of entries) {
      // serialised now, so a caller mutating its objects later cannot change what is stored
      this.#pending.push({ ...entry, valuesText: stringifyJson(values) })
    }
    if (this.#pending.length >= this.#flushSize) this.#flushQuietly()
    else if (this.#pending.length > 0 && this.#timer === null) {
      this.#timer = setTimeout(() => this.#flushQuietly(), this.#flushIntervalMs)
      this.#timer.unref?.()
    }
  }

  /** Writes every buffered entry in one transaction, then notifies subscribers. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    if (this.#pending.length === 0) return
    const batch = this.#pending
    this.#pending = []
    let stored: StoredEntry[]
    try {
      stored = this.#active.insert(batch)
    } catch (err) {
      // keep them, in order, for the next attempt: the worker was already told they were accepted
      this.#pending = batch.concat(this.#pending)
      if (!this.#closed) {
        this.#timer = setTimeout(() => this.#flushQuietly(), this.#flushIntervalMs)
        this.#timer.unref?.()
      }
      throw err
    }
    this.#publish(stored)
  }

  /**
   * Calls `onBatch` with the matching entries of every batch flushed from now on. Reads are
   * synchronous, so `query` followed by `subscribe` in the same tick misses and repeats nothing.
   */
  subscribe(filter: LogFilter, onBatch: (logs: LogMessage[]) => void): () => void {
    const workspaces = filter.workspaces ? new Set(filter.workspaces) : null
    const subscriber: Subscriber = { filter, onBatch, workspaces }
    let set = this.#subscribers.get(filter.run)
    if (!set) this.#subscribers.set(filter.run, (set = new Set()))
    set.add(subscriber)
    return () => {
      set.delete(subscriber)
      if (set.size === 0 && this.#subscribers.get(filter.run) === set) this.#subscribers.delete(filter.run)
    }
  }

  /**
   * One page in `(timestamp, id)` order. Buffered entries are flushed first, so a read sees
   * everything already accepted.
   */
  query(query: LogQuery): LogPage {
    const cursor = query.after ? parseLogCursor(query.after) : null
    if (query.after && !cursor) throw new InvalidLogCursorError(query.after)
    this.#flushQuietly()
    const requested = Number.isFinite(query.limit) ? Math.floor(query.limit!) : DEFAULT_LOG_LIMIT
    const limit = Math.min(Math.max(requested, 1), MAX_LOG_LIMIT)
    // A cursor into another partition points into an archive, all of which precede the active one.
    const after = cursor && cursor.partition === this.#active.id ? cursor : null
    const rows = this.#active.select(query, after, query.from ?? null, limit)
    const last = rows.at(-1)
    return {
      logs: rows.map(toMessage),
      cursor: last ? `${this.#active.id}:${last.timestamp}:${last.id}` : null,
    }
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

  #flushQuietly(): void {
    try {
      this.flush()
    } catch (err) {
      this.#onError(err)
    }
  }

  #publish(stored: StoredEntry[]): void {
    if (this.#subscribers.size === 0) return
    for (const [run, subscribers] of this.#subscribers) {
      const entries = stored.filter((e) => e.runId === run)
      if (entries.length === 0) continue
      entries.sort((a, b) => a.timestamp - b.timestamp || a.id - b.id)
      for (const s of subscribers) {
        const matching = entries.filter(
          (e) =>
            (s.filter.execution === undefined || e.executionId === s.filter.execution) &&
            (s.workspaces === null || s.workspaces.has(e.workspaceId)),
        )
        if (matching.length === 0) continue
        try {
          s.onBatch(matching.map(toMessage))
        } catch (err) {
          this.#onError(err)
        }
      }
    }
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
class LogPartition {
  readonly #db: Database
  readonly #templateIds = new Map<string, number>()
  readonly #findTemplate
  readonly #insertTemplate
  readonly #insertMessage
  readonly #select

  constructor(
    readonly id: string,
    db: Database,
  ) {
    this.#db = db
    this.#findTemplate = db.query<{ id: number }, [string]>('SELECT id FROM templates WHERE text = ?')
    this.#insertTemplate = db.query<{ id: number }, [string]>('INSERT INTO templates (text) VALUES (?) RETURNING id')
    this.#insertMessage = db.query<never, [string, string, string, number, number, number | null, string]>(
      `INSERT INTO messages (run_id, execution_id, workspace_id, timestamp, level, template_id, values_json)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    // The row-value bound lets SQLite seek the (run_id, timestamp, id) index to the cursor
    // instead of scanning the run from its start for every page.
    this.#select = db.query<MessageRow, SelectParams>(
      `SELECT m.id, m.run_id, m.execution_id, m.workspace_id, m.timestamp, m.level, t.text AS template, m.values_json
       FROM messages m LEFT JOIN templates t ON t.id = m.template_id
       WHERE m.run_id = $run
         AND (m.timestamp, m.id) > ($afterTimestamp, $afterId)
         AND m.timestamp >= $fromTimestamp
         AND ($execution IS NULL OR m.execution_id = $execution)
         AND ($workspaces IS NULL OR m.workspace_id IN (SELECT value FROM json_each($workspaces)))
       ORDER BY m.timestamp, m.id
       LIMIT $limit`,
    )
  }

  insert(batch: readonly PendingEntry[]): StoredEntry[] {
    // template ids seen in this transaction are cached only once it has committed
    const learned = new Map<string, number>()
    const stored = this.#db.transaction(() =>
      batch.map((e) => {
        const templateId = e.template === null ? null : this.#templateId(e.template, learned)
        const { lastInsertRowid } = this.#insertMessage.run(
          e.runId, e.executionId, e.workspaceId, e.timestamp, e.level, templateId, e.valuesText,
        )
        return { ...e, id: Number(lastInsertRowid) }
      }),
    )()
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

  close(): void {
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    } catch {
      // best effort: the WAL is replayed on the next open anyway
    }
    this.#db.close()
  }

  #templateId(text: string, learned: Map<string, number>): number {
    const cached = this.#templateIds.get(text) ?? learned.get(text)
    if (cached !== undefined) return cached
    const id = this.#findTemplate.get(text)?.id ?? this.#insertTemplate.get(text)!.id
    learned.set(text, id)
    return id
  }
}
