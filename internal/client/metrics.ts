/**
 * Reading metrics (http-api.md §13): every page via `cursor`, and following a run's points via
 * Server-Sent Events, like logs.ts.
 */
import { parseJson } from '../protocol/json.ts'
import type { MetricPage, MetricPoint } from '../protocol/metrics.ts'
import type { ApiClient } from './api-client.ts'
import { readJsonResponse } from './api-client.ts'
import { sseData } from './logs.ts'

export interface MetricQuery {
  runId?: string
  executionId?: string
  /** only these keys */
  keys?: string[]
  after?: string
  limit?: number
}

function queryString(q: MetricQuery): string {
  const p = new URLSearchParams()
  if (q.runId) p.set('run', q.runId)
  if (q.executionId) p.set('execution', q.executionId)
  if (q.keys?.length) p.set('keys', q.keys.join(','))
  if (q.after) p.set('after', q.after)
  if (q.limit !== undefined) p.set('limit', String(q.limit))
  return p.toString()
}

/** One page of `GET /metrics`. */
export async function queryMetrics(client: ApiClient, q: MetricQuery): Promise<MetricPage> {
  const res = await client.fetch(`/metrics?${queryString(q)}`, { signal: AbortSignal.timeout(client.timeoutMs) })
  return (await readJsonResponse(res)) as MetricPage
}

/**
 * Follows a run's points (`Accept: text/event-stream`): yields batches (the first is everything
 * recorded so far) until `signal` aborts or the server closes the stream.
 *
 * @example
 * for await (const points of followMetrics(client, { runId }, signal)) chart.add(points)
 */
export async function* followMetrics(client: ApiClient, q: MetricQuery & { runId: string }, signal?: AbortSignal): AsyncGenerator<MetricPoint[]> {
  const res = await client.fetch(`/metrics?${queryString(q)}`, { headers: { accept: 'text/event-stream' }, signal })
  if (!res.ok || !res.body) {
    await readJsonResponse(res)
    return
  }
  try {
    for await (const data of sseData(res.body, signal)) {
      const parsed = parseJson(data) as unknown
      if (Array.isArray(parsed)) yield parsed.map(plainPoint)
    }
  } catch (err) {
    if (signal?.aborted) return
    throw err
  }
}

/** Lossless parsing may give `JsonNumber`s; a chart wants plain numbers. */
function plainPoint(raw: unknown): MetricPoint {
  const p = raw as Record<string, unknown>
  return { ...(p as unknown as MetricPoint), value: Number(p.value), at: Number(p.at) }
}
