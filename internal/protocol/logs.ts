/**
 * The `/logs` wire types (http-api.md §12): the entries a worker posts and the messages and
 * pages a reader gets back. The log store, the worker's batcher and the client import these.
 */
import type { LogValue } from './values.ts'

/**
 * One entry as `GET /logs` returns it (and as each `text/event-stream` event lists them): the
 * posted entry without `runId`. `Values` is how a side holds the `values` map: the store splices
 * its stored JSON text (`RawJson`), the client reads it parsed.
 */
export interface LogMessage<Values = Record<string, LogValue>> {
  executionId: string
  workspaceId: string
  /** Unix ms */
  timestamp: number
  /** 0 debug, 1 stdout, 2 info, 3 stderr, 4 warning, 5 error (`LOG_LEVEL` in executor.ts) */
  level: number
  template: string | null
  values: Values
}

/**
 * One entry as a worker posts it: `POST /logs` with `{ messages: NewLogEntry[] }`.
 *
 * @example
 * const entry: NewLogEntry = { runId, executionId, workspaceId, timestamp: Date.now(), level: 2, template: 'hi {name}', values }
 */
export interface NewLogEntry extends LogMessage {
  runId: string
}

/** One page of `GET /logs`; pass `cursor` back as `after` for the next one. */
export interface LogPage<Values = Record<string, LogValue>> {
  logs: LogMessage<Values>[]
  /** `<partition>:<timestamp>:<id>` of the last entry, null for an empty page */
  cursor: string | null
}
