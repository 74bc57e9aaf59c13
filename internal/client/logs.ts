/**
 * Reading logs (http-api.md §12): every page via `cursor` (0.12 stopped after the first 1000),
 * and following via Server-Sent Events.
 */
import { parseJson } from '../protocol/json.ts'
import type { ApiClient } from './api-client.ts'
import { readJsonResponse } from './api-client.ts'
import type { LogEntry, LogPage } from '../protocol/api.ts'

export interface LogQuery {
  runId: string
  /** workspace ids (comma-joined on the wire) */
  workspaceIds?: string[]
  executionId?: string
  /** strict: only entries with timestamp ≥ from (ms) */
  from?: number
  after?: string
  limit?: number
}

function queryString(q: LogQuery): string {
  const p = new URLSearchParams({ run: q.runId })
  if (q.workspaceIds?.length) p.set('workspaces', q.workspaceIds.join(','))
  if (q.executionId) p.set('execution', q.executionId)
  if (q.from !== undefined) p.set('from', String(q.from))
  if (q.after) p.set('after', q.after)
  if (q.limit !== undefined) p.set('limit', String(q.limit))
  return p.toString()
}

/** One page of `GET /logs`. */
export async function queryLogs(client: ApiClient, q: LogQuery): Promise<LogPage> {
  const res = await client.fetch(`/logs?${queryString(q)}`, { signal: AbortSignal.timeout(client.timeoutMs) })
  return (await readJsonResponse(res)) as LogPage
}

/**
 * Every matching entry, following `cursor` until a page comes back empty. Returns the entries
 * and the last cursor (`null` when there were none).
 */
export async function fetchAllLogs(client: ApiClient, q: LogQuery): Promise<LogPage> {
  const logs: LogEntry[] = []
  let cursor: string | null = null
  let after = q.after
  for (;;) {
    const page = await queryLogs(client, { ...q, after })
    if (page.logs.length === 0 || !page.cursor) break
    logs.push(...page.logs)
    cursor = page.cursor
    if (page.cursor === after) break // a server that ignores `after` must not loop forever
    after = page.cursor
  }
  return { logs, cursor }
}

/**
 * Follows `GET /logs` with `Accept: text/event-stream`: yields batches of entries (the first is
 * everything existing) until `signal` aborts or the server closes the stream.
 */
export async function* followLogs(client: ApiClient, q: LogQuery, signal?: AbortSignal): AsyncGenerator<LogEntry[]> {
  const res = await client.fetch(`/logs?${queryString(q)}`, { headers: { accept: 'text/event-stream' }, signal })
  if (!res.ok || !res.body) {
    await readJsonResponse(res)
    return
  }
  try {
    for await (const data of sseData(res.body, signal)) {
      const parsed = parseJson(data) as unknown
      if (Array.isArray(parsed)) yield parsed as LogEntry[]
      else if (parsed && typeof parsed === 'object') {
        const obj = parsed as { logs?: unknown }
        yield (Array.isArray(obj.logs) ? obj.logs : [parsed]) as LogEntry[]
      }
    }
  } catch (err) {
    if (signal?.aborted) return
    throw err
  }
}

/**
 * The `data` of each Server-Sent Event (multi-line data joined by `\n`). Lines that are not
 * `data:` fields (comments like `: ping`, `event:`, `id:`) are ignored.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<string> {
  const reader = body.getReader()
  const onAbort = () => void reader.cancel().catch(() => {})
  signal?.addEventListener('abort', onAbort, { once: true })
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string[] = []
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      let nl: number
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, '')
        buffer = buffer.slice(nl + 1)
        if (line === '') {
          if (data.length) yield data.join('\n')
          data = []
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5))
        }
      }
    }
    if (data.length) yield data.join('\n')
  } finally {
    signal?.removeEventListener('abort', onAbort)
    reader.releaseLock()
  }
}
