/** `/metrics` (http-api.md §13): batched points scoped to the caller's executions, paged and live reads. */
import type { Hono } from 'hono'
import { ApiError } from '../protocol/errors.ts'
import { stringifyJson } from '../protocol/json.ts'
import { InvalidMetricCursorError, type MetricFilter, type MetricPoint, type NewMetricPoint } from '../store/index.ts'
import { jsonResponse, projectOf, readBodyText, requireProject, type AppEnv, type ServerContext } from './context.ts'
import { invalidRequest, readableWorkspaces, splitList, writableExecution, type WritableExecution } from './execution-scope.ts'
import type { Project } from './project.ts'

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
const SSE_PAGE = 1000
const PING_MS = 15_000

export function registerMetricRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.post('/metrics', async (c) => {
    const text = await readBodyText(c, server.settings.maxBodyBytes)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new ApiError(400, 'invalid_json', 'invalid JSON body')
    }
    const entries = (body as { entries?: unknown } | null)?.entries
    if (entries === undefined || entries === null) throw invalidRequest('entries', 'required')
    if (!Array.isArray(entries)) throw invalidRequest('entries', 'must be an array')
    // every entry's shape first, so a malformed batch is a 400 wherever the bad entry sits
    if (!entries.every(isEntry)) throw invalidRequest('entries', 'invalid entry structure')
    if (entries.length === 0) return jsonResponse({ ok: true })
    const project = requireProject(c, server)
    const access = c.get('access')
    // all entries are checked before any is stored: a refused batch writes nothing (§16.2);
    // a batch is mostly one execution's points, so each distinct claim is checked once
    const checked = new Map<string, WritableExecution>()
    const points: NewMetricPoint[] = entries.map((e) => {
      const claim = `${e.executionId}\0${e.runId}\0${e.workspaceId}`
      let scope = checked.get(claim)
      if (!scope) checked.set(claim, (scope = writableExecution(access, project, e)))
      const { execution, workspace } = scope
      return { runId: execution.runExternalId, executionId: execution.externalId, workspaceId: workspace.externalId, key: e.key, value: e.value, at: e.at }
    })
    project.metrics.append(points)
    return jsonResponse({ ok: true })
  })

  app.get('/metrics', (c) => {
    const run = c.req.query('run') || undefined
    const execution = c.req.query('execution') || undefined
    if (!run && !execution) throw new ApiError(400, 'run_or_execution_required', 'run or execution is required')
    const from = optionalNumber(c.req.query('from'), 'from')
    const limit = optionalNumber(c.req.query('limit'), 'limit')
    const project = projectOf(c, server)
    const filter = {
      run,
      execution,
      keys: splitList(c.req.query('keys')),
      workspaces: readableWorkspaces(c.get('access'), project, c.req.query('workspaces')),
    } as MetricFilter
    const isStream = (c.req.header('accept') ?? '').includes('text/event-stream')
    if (isStream && !run) throw new ApiError(400, 'run_required', 'a live stream needs run')
    if (!project) return isStream ? new Response('data: []\n\n', { headers: SSE_HEADERS }) : jsonResponse({ metrics: [], cursor: null })
    if (isStream) return streamMetrics(project, { ...filter, run: run! }, from)
    try {
      return jsonResponse(project.metrics.query({ ...filter, after: c.req.query('after') ?? null, from, limit }))
    } catch (err) {
      if (err instanceof InvalidMetricCursorError) throw invalidRequest('after', 'invalid cursor')
      throw err
    }
  })
}

interface Entry {
  runId: string
  executionId: string
  workspaceId: string
  key: string
  value: number
  at: number
}

/** §13: the four strings and two (finite) numbers. */
function isEntry(raw: unknown): raw is Entry {
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

function optionalNumber(text: string | undefined, field: string): number | undefined {
  if (text === undefined || text === '') return undefined
  const n = Number(text)
  if (!Number.isFinite(n)) throw invalidRequest(field, 'invalid')
  return n
}

/** First event: everything so far (in events of ≤ 1000); then one event per flushed batch. */
function streamMetrics(project: Project, filter: MetricFilter & { run: string }, from: number | undefined): Response {
  const encoder = new TextEncoder()
  let stop = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let unsubscribe = () => {}
      let ping: ReturnType<typeof setInterval> | undefined
      stop = () => {
        unsubscribe()
        clearInterval(ping)
      }
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          stop() // the client has gone
        }
      }
      const event = (points: MetricPoint[]) => send(`data: ${stringifyJson(points)}\n\n`)
      let after: string | null = null
      for (let first = true; ; first = false) {
        const page = project.metrics.query({ ...filter, after, from, limit: SSE_PAGE })
        if (page.metrics.length > 0 || first) event(page.metrics)
        if (page.metrics.length < SSE_PAGE) break
        after = page.cursor
      }
      // same tick as the last read: nothing is missed or repeated
      unsubscribe = project.metrics.subscribe({ ...filter, from }, event)
      ping = setInterval(() => send(': ping\n\n'), PING_MS)
    },
    cancel() {
      stop()
    },
  })
  return new Response(stream, { headers: SSE_HEADERS })
}
