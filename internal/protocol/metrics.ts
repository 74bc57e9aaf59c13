/**
 * The `/metrics` wire types (http-api.md §13): the points a worker posts and the points and
 * pages a reader gets back. The metric store, the worker's recorder and the route import these.
 */

/** One point as `GET /metrics` returns it (and as each `text/event-stream` event lists them). */
export interface MetricPoint {
  executionId: string
  workspaceId: string
  key: string
  value: number
  /** seconds since the execution started, or the user's own x axis */
  at: number
}

/**
 * One point as a worker posts it: `POST /metrics` with `{ entries: NewMetricPoint[] }`.
 *
 * @example
 * const point: NewMetricPoint = { runId, executionId, workspaceId, key: 'loss', value: 0.25, at: 12 }
 */
export interface NewMetricPoint extends MetricPoint {
  runId: string
}

/** One page of `GET /metrics`; pass `cursor` back as `after` for the next one. */
export interface MetricPage {
  metrics: MetricPoint[]
  /** `<partition>:<created_at>:<id>` of the last point, null for an empty page */
  cursor: string | null
}

/** §13: the four strings and two (finite) numbers. */
export function isNewMetricPoint(raw: unknown): raw is NewMetricPoint {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return false
  const e = raw as Record<string, unknown>
  return (
    typeof e.runId === 'string' &&
    typeof e.executionId === 'string' &&
    typeof e.workspaceId === 'string' &&
    typeof e.key === 'string' &&
    Number.isFinite(e.value) &&
    Number.isFinite(e.at)
  )
}
