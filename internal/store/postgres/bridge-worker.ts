/**
 * The PostgreSQL bridge thread: holds the connections (Bun's built-in SQL client, one reserved
 * connection per store handle) and runs each request the store's thread posts, replying on the
 * port it was given and waking that thread through the shared flag (bridge.ts).
 *
 * Values come back as the SQLite handle gives them: int8 and numeric as numbers (ids, counts and
 * millisecond times all fit in 2^53), bytea as bytes.
 */
import { SQL, type ReservedSQL } from 'bun'
import { type MessagePort, workerData } from 'node:worker_threads'
import type { BridgeReply, BridgeRequest, OpenRequest } from './bridge-protocol.ts'

const { port, signal } = workerData as { port: MessagePort; signal: SharedArrayBuffer }
const flag = new Int32Array(signal)

const INT8 = 20
const NUMERIC = 1700

interface Column {
  name: string
  type: number
}

interface Connection {
  open: OpenRequest
  pool: SQL
  /** null once lost: the next request reconnects */
  reserved: ReservedSQL | null
  /** session settings run on it (`SET …`), replayed on a new connection */
  settings: string[]
}

const connections = new Map<number, Connection>()
let nextConnection = 1

function reply(message: BridgeReply): void {
  port.postMessage(message)
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
}

function converters(columns: Column[] | undefined): ((value: unknown) => unknown)[] {
  return (columns ?? []).map((c) => {
    if (c.type === INT8) return (v) => (typeof v === 'bigint' ? Number(v) : v)
    if (c.type === NUMERIC) return (v) => (typeof v === 'string' ? Number(v) : v)
    return (v) => v
  })
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A connection of `pool` in the request's schema, with its settings (and those made since). */
async function reserve(pool: SQL, open: OpenRequest, settings: string[]): Promise<ReservedSQL> {
  const reserved = await pool.reserve()
  try {
    await reserved.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(open.schema)}`)
    await reserved.unsafe(
      `SET search_path TO ${quoteIdentifier(open.schema)}; ` +
        `SET statement_timeout = ${Math.floor(open.statementTimeoutMs)}; ` +
        `SET idle_in_transaction_session_timeout = ${Math.floor(open.idleInTransactionTimeoutMs)}`,
    )
    for (const setting of settings) await reserved.unsafe(setting)
    return reserved
  } catch (err) {
    reserved.release()
    throw err
  }
}

/** Whether an error means the connection is gone (PostgreSQL restarted, the backend was terminated, the network broke). */
function isConnectionLoss(err: unknown): boolean {
  const e = err as { errno?: string; code?: string; message?: string }
  if (typeof e.errno === 'string' && /^(57P0[1-3]|08\w{3})$/.test(e.errno)) return true
  return typeof e.code === 'string' && /CONNECTION_CLOSED|CONNECTION_TIMEOUT|ERR_POSTGRES_(SERVER_)?CLOSED/.test(e.code)
}

async function handle(request: BridgeRequest): Promise<BridgeReply> {
  if (request.op === 'open') {
    const pool = new SQL(request.url, { max: 1, bigint: true, idleTimeout: 0, connectionTimeout: 10 })
    let reserved: ReservedSQL
    try {
      reserved = await reserve(pool, request, [])
    } catch (err) {
      await pool.close()
      throw err
    }
    const id = nextConnection++
    connections.set(id, { open: request, pool, reserved, settings: [] })
    return { ok: true, connection: id }
  }
  const connection = connections.get(request.connection)
  if (!connection) return { ok: false, message: `connection ${request.connection} is closed`, code: null }
  if (request.op === 'close') {
    connections.delete(request.connection)
    connection.reserved?.release()
    await connection.pool.close()
    return { ok: true }
  }
  try {
    return await run(connection, request)
  } catch (err) {
    if (!isConnectionLoss(err)) throw err
    try {
      connection.reserved?.release()
    } catch {
      // already gone
    }
    connection.reserved = null
    const e = err as { message?: string; errno?: string }
    return { ok: false, message: `connection to PostgreSQL lost: ${e.message ?? String(err)}`, code: typeof e.errno === 'string' ? e.errno : null, broken: true }
  }
}

async function run(connection: Connection, request: Exclude<BridgeRequest, OpenRequest | { op: 'close' }>): Promise<BridgeReply> {
  const reserved = (connection.reserved ??= await reserve(connection.pool, connection.open, connection.settings))
  if (request.op === 'exec') {
    await reserved.unsafe(request.text)
    // a session setting stays with the handle, whichever connection serves it
    if (/^\s*SET\s+(?!LOCAL\b|CONSTRAINTS\b|TRANSACTION\b)/i.test(request.text)) connection.settings.push(request.text)
    return { ok: true }
  }
  // sent together: the prelude's simple query and the statement go out without waiting between them
  const prelude = request.prelude ? reserved.unsafe(request.prelude).execute() : null
  const unsent = reserved.unsafe(request.text, request.params as unknown[])
  const query = request.mode === 'values' ? unsent.values() : unsent
  if (prelude) {
    query.execute()
    try {
      await prelude
    } catch (err) {
      query.catch(() => {}) // fails with it; the prelude's error is the one to report
      throw err
    }
  }
  if (request.mode === 'values') {
    const result = (await query) as unknown[][] & { columns?: Column[]; count?: number | null }
    const convert = converters(result.columns)
    const values = result.map((row) => row.map((v, i) => (convert[i] ? convert[i]!(v) : v)))
    return { ok: true, values, count: result.count ?? values.length }
  }
  const result = (await query) as Record<string, unknown>[] & { columns?: Column[]; count?: number | null }
  if (request.mode === 'run') return { ok: true, count: result.count ?? 0 }
  const columns = result.columns ?? []
  const convert = converters(columns)
  const rows = result.map((row) => {
    const out: Record<string, unknown> = {}
    columns.forEach((c, i) => (out[c.name] = convert[i]!(row[c.name])))
    return columns.length > 0 ? out : row
  })
  return { ok: true, rows, count: result.count ?? rows.length }
}

port.on('message', (request: BridgeRequest) => {
  handle(request).then(reply, (err: unknown) => {
    const e = err as { message?: string; errno?: string; code?: string }
    // Bun puts the SQLSTATE in errno; code is its own error kind (ERR_POSTGRES_…)
    const sqlstate = typeof e.errno === 'string' && /^[0-9A-Z]{5}$/.test(e.errno) ? e.errno : null
    reply({ ok: false, message: e.message ?? String(err), code: sqlstate })
  })
})
