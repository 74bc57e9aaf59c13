/** `/logs` (http-api.md §12): batched writes scoped to the caller's executions, paged and live reads. */
import type { Hono } from 'hono'
import { ApiError } from '../protocol/errors.ts'
import { parseLogValues } from '../protocol/values.ts'
import { InvalidLogCursorError, type NewLogEntry } from '../store/logs.ts'
import type { Access } from './auth.ts'
import { jsonResponse, projectOf, requireProject, type AppEnv, type ServerContext } from './context.ts'
import { emptyEventStream, eventStream } from './event-stream.ts'
import { invalidRequest, writableExecution } from './execution-scope.ts'
import type { Project } from './project.ts'
import { readBatch, readParameters } from './telemetry-request.ts'

export function registerLogRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.post('/logs', async (c) => {
    const messages = await readBatch(c, server, 'messages')
    const project = requireProject(c, server)
    const access = c.get('access')
    const entries = messages.map((m) => parseEntry(access, project, m))
    project.logs.append(entries)
    return jsonResponse({ ok: true })
  })

  app.get('/logs', async (c) => {
    const run = c.req.query('run')
    if (!run) throw new ApiError(400, 'run_required', 'run is required')
    const project = projectOf(c, server)
    const { workspaces, after, from, limit, isStream } = readParameters(c, project)
    const filter = { run, execution: c.req.query('execution') || undefined, workspaces }
    if (!project) return isStream ? emptyEventStream() : jsonResponse({ logs: [], cursor: null })
    if (isStream) {
      return eventStream({
        readPage: (after, limit) => {
          const page = project.logs.query({ ...filter, after, from, limit })
          return { items: page.logs, cursor: page.cursor }
        },
        // the store filters live batches by run, execution and workspaces; `from` is applied here
        subscribe: (send) =>
          project.logs.subscribe(filter, (logs) => {
            const fresh = from === undefined ? logs : logs.filter((l) => l.timestamp >= from)
            if (fresh.length > 0) send(fresh)
          }),
      })
    }
    try {
      return jsonResponse(project.logs.query({ ...filter, after, from, limit }))
    } catch (err) {
      if (err instanceof InvalidLogCursorError) throw invalidRequest('after', 'invalid cursor')
      throw err
    }
  })
}

/** One posted entry, if its shape is right and the caller may write for its execution (§16.2). */
function parseEntry(access: Access, project: Project, raw: unknown): NewLogEntry {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest('messages', 'invalid entry structure')
  const m = raw as Record<string, unknown>
  if (typeof m.executionId !== 'string') throw invalidRequest('executionId', 'required')
  const { execution, workspace } = writableExecution(access, project, { executionId: m.executionId, runId: m.runId, workspaceId: m.workspaceId })
  if (typeof m.timestamp !== 'number' || !Number.isFinite(m.timestamp)) throw invalidRequest('timestamp', 'invalid')
  if (typeof m.level !== 'number' || !Number.isInteger(m.level) || m.level < 0 || m.level > 5) throw invalidRequest('level', 'invalid')
  if (m.template !== undefined && m.template !== null && typeof m.template !== 'string') throw invalidRequest('template', 'invalid')
  let values
  try {
    values = parseLogValues(m.values ?? {})
  } catch {
    throw invalidRequest('values', 'invalid structure')
  }
  return {
    runId: execution.runExternalId,
    executionId: execution.externalId,
    workspaceId: workspace.externalId,
    timestamp: Math.trunc(m.timestamp),
    level: m.level,
    template: (m.template as string | null | undefined) ?? null,
    values,
  }
}
