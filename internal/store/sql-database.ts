/**
 * The SQL database the stores are written against: the subset of bun:sqlite's `Database` they use,
 * so a SQLite handle is one as it is (no wrapper on the hot path) and the PostgreSQL handle
 * (postgres/database.ts) is another. Statements are synchronous in both: the orchestrator's state
 * changes and its writes happen in one event-loop turn (STYLE §8), whatever the backend.
 *
 * SQL is written in SQLite's dialect with `?` or `$name` parameters; the PostgreSQL handle
 * translates the few constructs that differ (postgres/dialect.ts). A query that cannot be said
 * in both checks `dialect`.
 */

import type { SQLQueryBindings } from 'bun:sqlite'

/** one parameter: a value, or (alone) an object of named values (`$name` in the SQL, `{ name }` here) */
export type SqlBinding = SQLQueryBindings

export interface SqlChanges {
  changes: number
  lastInsertRowid: number | bigint
}

export interface SqlStatement<Row = unknown, Params extends SqlBinding[] = any[]> {
  all(...params: Params): Row[]
  get(...params: Params): Row | null
  iterate(...params: Params): IterableIterator<Row>
  run(...params: Params): SqlChanges
  values(...params: Params): Array<Array<string | bigint | number | Uint8Array | null>>
  finalize(): void
}

export type SqlDialect = 'sqlite' | 'postgres'

export interface SqlDatabase {
  /** absent on a bun:sqlite `Database`: SQLite */
  readonly dialect?: SqlDialect
  /** A statement, cached by its text. */
  query<Row = unknown, Params extends SqlBinding | SqlBinding[] = SqlBinding[]>(sql: string): SqlStatement<Row, Params extends any[] ? Params : [Params]>
  /** A statement that is not cached: finalize it. */
  prepare<Row = unknown, Params extends SqlBinding | SqlBinding[] = SqlBinding[]>(sql: string): SqlStatement<Row, Params extends any[] ? Params : [Params]>
  /** One or more statements without parameters. */
  exec(sql: string): void
  /** `fn` in a transaction, or in a savepoint inside one already open. */
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T
  readonly inTransaction: boolean
  close(): void
}

export function dialectOf(db: SqlDatabase): SqlDialect {
  return db.dialect ?? 'sqlite'
}
