/**
 * Messages between the store's thread and the PostgreSQL bridge thread (bridge.ts,
 * bridge-worker.ts). One request is in flight at a time: the store's thread waits for its reply.
 */
import type { SqlBinding } from '../sql-database.ts'

export interface OpenRequest {
  op: 'open'
  url: string
  /** the schema statements run in (search_path), created when absent */
  schema: string
  /** statement and idle-in-transaction timeouts, ms */
  statementTimeoutMs: number
  idleInTransactionTimeoutMs: number
}

export type QueryMode = 'rows' | 'values' | 'run'

export interface QueryRequest {
  op: 'query'
  connection: number
  /**
   * Statements without parameters run first, in the same request (a deferred BEGIN or SAVEPOINT,
   * database.ts): a transaction's opening costs no round trip of its own.
   */
  prelude?: string
  text: string
  params: SqlBinding[]
  mode: QueryMode
}

/** Statements without parameters, several allowed (the simple query protocol). */
export interface ExecRequest {
  op: 'exec'
  connection: number
  text: string
}

export interface CloseRequest {
  op: 'close'
  connection: number
}

export type BridgeRequest = OpenRequest | QueryRequest | ExecRequest | CloseRequest

export interface BridgeFailure {
  ok: false
  message: string
  /** SQLSTATE, when PostgreSQL answered; a connection failure has none */
  code: string | null
  /** the connection was lost (and with it any open transaction); the next request opens another */
  broken?: boolean
}

export interface BridgeSuccess {
  ok: true
  /** `open`: the new connection's number */
  connection?: number
  /** `rows` mode */
  rows?: Record<string, unknown>[]
  /** `values` mode */
  values?: unknown[][]
  /** rows returned or changed */
  count?: number
}

export type BridgeReply = BridgeSuccess | BridgeFailure
