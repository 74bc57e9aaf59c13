/**
 * A `SqlDatabase` on PostgreSQL: one connection (held by the bridge thread) whose search_path is
 * the schema standing for one SQLite file (host.ts). Statements are translated from the stores'
 * SQLite dialect once (dialect.ts) and run synchronously through the bridge (bridge.ts).
 *
 * Transactions nest as in bun:sqlite: the outermost is BEGIN … COMMIT, inner ones savepoints.
 * `exec('BEGIN')` / `exec('COMMIT')` (the orchestrator's write batch) are tracked the same way.
 * BEGIN, SAVEPOINT and RELEASE wait for the next statement and travel with it (a transaction's
 * round trips are its statements and its COMMIT); a savepoint in which nothing ran is never sent,
 * nor a transaction in which nothing ran.
 */
import type { SqlBinding, SqlChanges, SqlDatabase, SqlDialect, SqlStatement } from '../sql-database.ts'
import { bridge, PostgresError } from './bridge.ts'
import type { BridgeRequest, BridgeSuccess, QueryMode } from './bridge-protocol.ts'
import { toPostgres, type TranslatedSql } from './dialect.ts'

export interface PostgresDatabaseOptions {
  url: string
  schema: string
  statementTimeoutMs?: number
  /** a connection idle this long inside a transaction is closed by PostgreSQL (a paused owner) */
  idleInTransactionTimeoutMs?: number
  /** runs first in every top-level transaction (the project lease's fence) */
  fence?: Fence
  /**
   * The connection was lost inside a transaction: its writes are gone while its owner's memory
   * holds them, so this handle refuses everything from then on and its owner reopens from the
   * store (a lost connection outside a transaction just reconnects). Without it, the handle's
   * owner keeps nothing the transaction was to make durable: the transaction just fails (every
   * statement in it, and its COMMIT) and the handle reconnects for the next one.
   */
  onBroken?: () => void
}

/**
 * A statement without parameters that starts every top-level transaction, sent with its BEGIN
 * (no round trip of its own), and fails with SQLSTATE `sqlstate` when the handle may no longer
 * write; the transaction's first statement then throws `failure()` instead.
 */
export interface Fence {
  statement: string
  sqlstate: string
  failure: () => Error
}

class PostgresStatement<Row, Params extends SqlBinding[]> implements SqlStatement<Row, Params> {
  readonly #db: PostgresDatabase
  readonly #sql: TranslatedSql

  constructor(db: PostgresDatabase, sql: TranslatedSql) {
    this.#db = db
    this.#sql = sql
  }

  all(...params: Params): Row[] {
    return (this.#db.run(this.#sql, params, 'rows').rows ?? []) as Row[]
  }

  get(...params: Params): Row | null {
    return (this.all(...params)[0] as Row | undefined) ?? null
  }

  *iterate(...params: Params): IterableIterator<Row> {
    yield* this.all(...params)
  }

  run(...params: Params): SqlChanges {
    return { changes: this.#db.run(this.#sql, params, 'run').count ?? 0, lastInsertRowid: 0 }
  }

  values(...params: Params): Array<Array<string | bigint | number | Uint8Array | null>> {
    return (this.#db.run(this.#sql, params, 'values').values ?? []) as Array<Array<string | bigint | number | Uint8Array | null>>
  }

  finalize(): void {}
}

export class PostgresDatabase implements SqlDatabase {
  readonly dialect: SqlDialect = 'postgres'
  readonly schema: string
  readonly #connection: number
  readonly #statements = new Map<string, TranslatedSql>()
  readonly #fence: Fence | null
  readonly #onBroken: (() => void) | null
  #depth = 0
  #closed = false
  #broken = false
  /** the open transaction went with its connection (a handle without `onBroken`): it can only end */
  #isLost = false
  /**
   * Statements without parameters deferred to the next request (BEGIN, SAVEPOINT, RELEASE); an
   * open transaction whose BEGIN is still first here has sent nothing yet.
   */
  #pending: string[] = []
  #roundTrips = 0

  constructor(options: PostgresDatabaseOptions) {
    this.schema = options.schema
    this.#fence = options.fence ?? null
    this.#onBroken = options.onBroken ?? null
    const opened = bridge().request({
      op: 'open',
      url: options.url,
      schema: options.schema,
      statementTimeoutMs: options.statementTimeoutMs ?? 60_000,
      idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs ?? 30_000,
    })
    this.#connection = opened.connection!
  }

  /** Requests this handle has made of PostgreSQL (each one a round trip through the bridge). */
  get roundTrips(): number {
    return this.#roundTrips
  }

  /** A handle whose transaction was lost stays "in" it: its owner's COMMIT must fail, not pass for done. */
  get inTransaction(): boolean {
    return this.#depth > 0 || this.#broken
  }

  query<Row = unknown, Params extends SqlBinding | SqlBinding[] = SqlBinding[]>(sql: string): SqlStatement<Row, Params extends any[] ? Params : [Params]> {
    return new PostgresStatement(this, this.#translate(sql))
  }

  prepare<Row = unknown, Params extends SqlBinding | SqlBinding[] = SqlBinding[]>(sql: string): SqlStatement<Row, Params extends any[] ? Params : [Params]> {
    return this.query<Row, Params>(sql)
  }

  exec(sql: string): void {
    const word = sql.trim().replace(/;$/, '').toUpperCase()
    if (word === 'BEGIN' || word === 'BEGIN TRANSACTION' || word === 'BEGIN IMMEDIATE') return this.#begin()
    if (word === 'COMMIT' || word === 'END') return this.#end('COMMIT')
    if (word === 'ROLLBACK') return this.#end('ROLLBACK')
    // SQLite's tuning (journal mode, checkpoints, foreign keys) means nothing here
    if (/^\s*PRAGMA\b/i.test(sql)) return
    const pending = this.#takePending()
    this.#request({ op: 'exec', connection: this.#connection, text: pending ? `${pending}; ${sql}` : sql })
  }

  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
    return (...args: A) => {
      const savepoint = this.#depth > 0 ? `s${this.#depth}` : null
      if (savepoint) {
        this.#pending.push(`SAVEPOINT ${savepoint}`)
        this.#depth++
      } else this.#begin()
      let result: T
      try {
        result = fn(...args)
      } catch (err) {
        if (savepoint) {
          this.#depth--
          this.#closeSavepoint(savepoint, null)
        } else {
          this.#depth = 0
          this.#rollbackQuietly()
        }
        throw err
      }
      // a COMMIT that fails has ended the transaction: nothing is left to roll back
      if (savepoint) {
        this.#depth--
        this.#closeSavepoint(savepoint, `RELEASE SAVEPOINT ${savepoint}`)
      } else this.#end('COMMIT')
      return result
    }
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    try {
      bridge().request({ op: 'close', connection: this.#connection })
    } catch {
      // already gone: nothing to release
    }
  }

  /** Runs a translated statement; its parameters are positional, or one object of named values. */
  run(sql: TranslatedSql, params: SqlBinding[], mode: QueryMode): BridgeSuccess {
    let values: SqlBinding[] = params
    if (sql.names.length > 0) {
      const named = (params[0] ?? {}) as Record<string, SqlBinding>
      values = sql.names.map((n) => named[n] ?? named[`$${n}`] ?? null)
    }
    if (values.length !== sql.count) throw new PostgresError(`statement takes ${sql.count} parameters, got ${values.length}: ${sql.text}`, null)
    if (sql.text === '') return { ok: true as const, rows: [], values: [], count: 0 }
    // a write outside any transaction is fenced too: it gets a transaction of its own
    if (this.#depth === 0 && this.#fence && mode === 'run') {
      return this.transaction(() => this.run(sql, params, mode))()
    }
    const request = { op: 'query' as const, connection: this.#connection, text: sql.text, params: values, mode, prelude: this.#takePending() }
    const isRead = mode !== 'run' && /^\s*(SELECT|WITH)\b/i.test(sql.text)
    return this.#request(request, isRead && this.#depth === 0)
  }

  #translate(sql: string): TranslatedSql {
    let translated = this.#statements.get(sql)
    if (!translated) {
      translated = toPostgres(sql)
      this.#statements.set(sql, translated)
    }
    return translated
  }

  #begin(): void {
    if (this.#depth > 0) throw new PostgresError('cannot start a transaction within a transaction', null)
    this.#pending = this.#fence ? ['BEGIN', this.#fence.statement] : ['BEGIN']
    this.#depth = 1
  }

  #end(verb: 'COMMIT' | 'ROLLBACK'): void {
    if (this.#broken && verb === 'COMMIT') throw new PostgresError(`database ${this.schema} lost its connection inside the transaction being committed`, null, true)
    if (this.#depth === 0) return
    this.#depth = 0
    if (verb === 'ROLLBACK') return this.#rollbackQuietly(true)
    if (this.#isLost) {
      this.#rollbackQuietly()
      throw this.#lostError()
    }
    // nothing reached PostgreSQL since BEGIN was deferred: there is nothing to commit
    if (!this.#isBegun()) {
      this.#pending = []
      return
    }
    const text = this.#takePending()
    this.#request({ op: 'exec', connection: this.#connection, text: text ? `${text}; COMMIT` : 'COMMIT' })
  }

  /** Leaves a savepoint: released (`release`) or rolled back to (null); unsent when nothing ran in it. */
  #closeSavepoint(savepoint: string, release: string | null): void {
    if (this.#pending.at(-1) === `SAVEPOINT ${savepoint}`) {
      this.#pending.pop()
      return
    }
    if (release) {
      this.#pending.push(release)
      return
    }
    if (this.#isLost) return // the transaction is gone, its savepoints with it
    const text = [...this.#pending.splice(0), `ROLLBACK TO SAVEPOINT ${savepoint}`, `RELEASE SAVEPOINT ${savepoint}`].join('; ')
    try {
      this.#request({ op: 'exec', connection: this.#connection, text })
    } catch {
      // the connection is gone, and the transaction with it
    }
  }

  /** The deferred statements, joined, for the request about to go (BEGIN among them is sent by it). */
  #takePending(): string | undefined {
    if (this.#pending.length === 0) return undefined
    return this.#pending.splice(0).join('; ')
  }

  /** Whether the open (or just ended) transaction's BEGIN has been sent. */
  #isBegun(): boolean {
    return this.#pending[0] !== 'BEGIN'
  }

  #rollbackQuietly(throwing = false): void {
    const begun = this.#isBegun()
    this.#pending = []
    if (this.#isLost) {
      this.#isLost = false // nothing to roll back on the new connection
      return
    }
    if (!begun) return
    try {
      this.#request({ op: 'exec', connection: this.#connection, text: 'ROLLBACK' })
    } catch (err) {
      // the connection is gone, and the transaction with it
      if (throwing) throw err
    }
  }

  #lostError(): PostgresError {
    return new PostgresError(`database ${this.schema} lost its connection inside the transaction; it was not committed`, null, true)
  }

  /**
   * Sends a request. One that finds the connection lost is sent once more, on a new connection,
   * when nothing of it can have taken effect: a read outside a transaction (`isRepeatable`), or
   * the request that opens a transaction (its BEGIN goes with it, so nothing of the transaction
   * reached PostgreSQL before it).
   */
  #request(request: BridgeRequest, isRepeatable = false): BridgeSuccess {
    if (this.#closed) throw new PostgresError(`database ${this.schema} is closed`, null)
    if (this.#broken) throw new PostgresError(`database ${this.schema} lost its connection inside a transaction; it is being reopened`, null, true)
    if (this.#isLost && this.#depth > 0) throw this.#lostError()
    try {
      try {
        this.#roundTrips++
        return bridge().request(request)
      } catch (err) {
        if (!(err instanceof PostgresError && err.broken && (isRepeatable || opensTransaction(request)))) throw err
        this.#roundTrips++
        return bridge().request(request)
      }
    } catch (err) {
      if (err instanceof PostgresError && err.broken && this.#depth > 0) {
        if (this.#onBroken) {
          this.#depth = 0
          this.#broken = true
          setTimeout(this.#onBroken, 0)
        } else this.#isLost = true
      }
      if (err instanceof PostgresError && this.#fence && err.code === this.#fence.sqlstate) throw this.#fence.failure()
      throw err
    }
  }
}

function opensTransaction(request: BridgeRequest): boolean {
  const text = request.op === 'query' ? request.prelude : request.op === 'exec' ? request.text : undefined
  return text !== undefined && /^BEGIN\b/.test(text)
}
