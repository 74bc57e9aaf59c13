/** `/metrics` (http-api.md §13): batched points scoped to the caller's executions, paged and live reads. */
import type { Hono } from 'hono'
import { ApiError } from '../protocol/errors.ts'
import { isNewMetricPoint, type NewMetricPoint } from '../protocol/metrics.ts'
import { InvalidMetricCursorError, type MetricFilter } from '../store/index.ts'
import { jsonResponse, projectOf, requireProject, type AppEnv, type ServerContext } from './context.ts'
import { emptyEventStream, eventStream } from './event-stream.ts'
import { invalidRequest, splitList, writableExecution, type WritableExecution } from './execution-scope.ts'
import { readBatch, readParameters } from './telemetry-request.ts'

export function registerMetricRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.post('/metrics', async (c) => {
    const entries = await readBatch(c, server, 'entries')
    // every entry's shape first, so a malformed batch is a 400 wherever the bad entry sits
    if (!entries.every(isNewMetricPoint)) throw invalidRequest('entries', 'invalid entry structure')
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
    const project = projectOf(c, server)
    const { workspaces, after, from, limit, isStream } = readParameters(c, project)
    const filter = { run, execution, keys: splitList(c.req.query('keys')), workspaces } as MetricFilter
    if (isStream && !run) throw new ApiError(400, 'run_required', 'a live stream needs run')
    if (!project) return isStream ? emptyEventStream() : jsonResponse({ metrics: [], cursor: null })
    if (isStream) {
      return eventStream({
        readPage: (after, limit) => {
          const page = project.metrics.query({ ...filter, after, from, limit })
          return { items: page.metrics, cursor: page.cursor }
        },
        subscribe: (send) => project.metrics.subscribe({ ...filter, run: run!, from }, send),
      })
    }
    try {
      return jsonResponse(project.metrics.query({ ...filter, after, from, limit }))
    } catch (err) {
      if (err instanceof InvalidMetricCursorError) throw invalidRequest('after', 'invalid cursor')
      throw err
    }
  })
}
