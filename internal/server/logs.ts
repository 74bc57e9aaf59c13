/** `/logs` (http-api.md §12): batched writes scoped to the caller's executions, paged and live reads. */
import type { Hono } from 'hono'
import { ApiError } from '../protocol/errors.ts'
import { parseLogValues } from '../protocol/values.ts'
import { InvalidLogCursorError, type LogMessage, type NewLogEntry } from '../store/logs.ts'
import { canAccessWorkspace } from './auth.ts'
import { jsonResponse, projectOf, readBodyText, requireProject, type AppContext, type AppEnv, type ServerContext } from './context.ts'
import { stringifyJson } from '../protocol/json.ts'
import type { Project } from './project.ts'

const invalid = (field: string, reason: string) => new ApiError(400, 'invalid_request', `${field}: ${reason}`, { field, reason })

export function registerLogRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.post('/logs', async (c) => {
    const text = await readBodyText(c, server.settings.maxBodyBytes)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new ApiError(400, 'invalid_json', 'invalid JSON body')
    }
    const messages = (body as { messages?: unknown } | null)?.messages
    if (messages === undefined || messages === null) throw invalid('messages', 'required')
    if (!Array.isArray(messages)) throw invalid('messages', 'must be an array')
    const project = requireProject(c, server)
    const entries = messages.map((m) => parseEntry(c, project, m))
    project.logs.append(entries)
    return jsonResponse({ ok: true })
  })

  app.get('/logs', async (c) => {
    const run = c.req.query('run')
    if (!run) throw new ApiError(400, 'run_required', 'run is required')
    const project = projectOf(c, server)
    const filter = {
      run,
      execution: c.req.query('execution') || undefined,
      workspaces: allowedWorkspaces(c, project, c.req.query('workspaces')),
    }
    const from = c.req.query('from') ? Number(c.req.query('from')) : undefined
    const limit = c.req.query('limit') ? Number(c.req.query('limit')) : undefined
    if ((from !== undefined && !Number.isFinite(from)) || (limit !== undefined && !Number.isFinite(limit))) {
      throw invalid('from', 'invalid')
    }
    const sse = (c.req.header('accept') ?? '').includes('text/event-stream')
    if (!project) return sse ? emptyStream() : jsonResponse({ logs: [], cursor: null })
    try {
      if (!sse) return jsonResponse(project.logs.query({ ...filter, after: c.req.query('after') ?? null, from, limit }))
      return streamLogs(project, filter, from)
    } catch (err) {
      if (err instanceof InvalidLogCursorError) throw invalid('after', 'invalid cursor')
      throw err
    }
  })
}

/** §16.2: the execution must exist; session tokens may only write for their own executions. */
function parseEntry(c: AppContext, project: Project, raw: unknown): NewLogEntry {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('messages', 'invalid entry structure')
  const m = raw as Record<string, unknown>
  if (typeof m.executionId !== 'string') throw invalid('executionId', 'required')
  const exec = project.orchestrator.executionByExternalId(m.executionId)
  if (!exec) throw invalid('executionId', 'unknown execution')
  const ws = project.store.workspaces.get(exec.workspaceId)!
  const access = c.get('access')
  const forbidden = () => new ApiError(403, 'forbidden', 'forbidden', { executionId: m.executionId })
  if (access.type === 'session') {
    if (project.store.results.assignment(exec.id)?.sessionId !== access.sessionId) throw forbidden()
  } else if (!canAccessWorkspace(access, ws.name)) throw forbidden()
  if (m.runId !== undefined && m.runId !== exec.runExternalId) throw invalid('runId', 'does not match the execution')
  if (m.workspaceId !== undefined && m.workspaceId !== ws.externalId) throw invalid('workspaceId', 'does not match the execution')
  if (typeof m.timestamp !== 'number' || !Number.isFinite(m.timestamp)) throw invalid('timestamp', 'invalid')
  if (typeof m.level !== 'number' || !Number.isInteger(m.level) || m.level < 0 || m.level > 5) throw invalid('level', 'invalid')
  if (m.template !== undefined && m.template !== null && typeof m.template !== 'string') throw invalid('template', 'invalid')
  let values
  try {
    values = parseLogValues(m.values ?? {})
  } catch {
    throw invalid('values', 'invalid structure')
  }
  return {
    runId: exec.runExternalId,
    executionId: exec.externalId,
    workspaceId: ws.externalId,
    timestamp: Math.trunc(m.timestamp),
    level: m.level,
    template: (m.template as string | null | undefined) ?? null,
    values,
  }
}

/** Workspace ids the caller may read, intersected with the requested ones (§16.1). */
function allowedWorkspaces(c: AppContext, project: Project | null, requested: string | undefined): string[] | undefined {
  const wanted = requested ? requested.split(',').map((s) => s.trim()).filter(Boolean) : undefined
  const access = c.get('access')
  if (access.workspaces.includes('*')) return wanted
  const visible = (project?.store.workspaces.list() ?? []).filter((w) => canAccessWorkspace(access, w.name)).map((w) => w.externalId)
  return wanted ? wanted.filter((w) => visible.includes(w)) : visible
}

function sseEvent(logs: LogMessage[]): string {
  return `data: ${stringifyJson(logs)}\n\n`
}

function emptyStream(): Response {
  return new Response('data: []\n\n', { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
}

/** First event: everything so far (in events of ≤ 1000); then one event per flushed batch. */
function streamLogs(project: Project, filter: { run: string; execution?: string; workspaces?: string[] }, from?: number): Response {
  const encoder = new TextEncoder()
  let unsubscribe = () => {}
  let ping: ReturnType<typeof setInterval> | null = null
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          unsubscribe()
        }
      }
      let after: string | null = null
      let first = true
      for (;;) {
        const page = project.logs.query({ ...filter, after, from, limit: 1000 })
        if (page.logs.length > 0 || first) send(sseEvent(page.logs))
        first = false
        if (page.logs.length < 1000) break
        after = page.cursor
      }
      unsubscribe = project.logs.subscribe(filter, (logs) => {
        const fresh = from === undefined ? logs : logs.filter((l) => l.timestamp >= from)
        if (fresh.length > 0) send(sseEvent(fresh))
      })
      ping = setInterval(() => send(': ping\n\n'), 15_000)
    },
    cancel() {
      unsubscribe()
      if (ping) clearInterval(ping)
    },
  })
  return new Response(stream, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
}
