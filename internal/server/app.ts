/**
 * The HTTP surface: request pipeline (version check → project → authentication, http-api.md
 * §4) and the routes, mounted from one module per area. Errors render once, in `onError`.
 */
import { Hono } from 'hono'
import { ApiError } from '../protocol/errors.ts'
import { API_VERSION, VERSION } from '../protocol/version.ts'
import { registerInputRoutes } from './api/inputs.ts'
import { registerManifestRoutes } from './api/manifests.ts'
import { registerPoolRoutes } from './api/pools.ts'
import { registerScheduleRoutes } from './api/schedules.ts'
import { registerRunRoutes } from './api/runs.ts'
import { registerSessionRoutes } from './api/sessions.ts'
import { registerTokenRoutes, UNAUTHENTICATED_PATHS } from './api/tokens.ts'
import { registerWorkspaceRoutes } from './api/workspaces.ts'
import { authenticate } from './auth.ts'
import { registerBlobRoutes } from './blobs.ts'
import { jsonResponse, projectOf, type AppEnv, type ServerContext } from './context.ts'
import { errorHeaders } from './ownership.ts'
import { registerLogRoutes } from './logs.ts'
import { registerMetricRoutes } from './metrics.ts'
import { resolveProject } from './project-resolution.ts'
import { topicValue } from './topics/index.ts'
import { registerUiRoutes } from './ui/routes.ts'

export function versionMismatch(expected: string): ApiError {
  return new ApiError(409, 'version_mismatch', 'version mismatch', { server: VERSION, expected })
}

export function createApp(server: ServerContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  registerUiRoutes(app, server) // before the pipeline: the UI page loads without project or token (§15)

  app.use('*', async (c, next) => {
    const version = c.req.header('x-api-version')
    if (version && version !== API_VERSION) throw versionMismatch(version)
    if (c.req.method === 'OPTIONS') return new Response(null, { status: 204 })
    const projectId = resolveProject(
      server.settings,
      c.req.header('host') ?? null,
      c.req.header('x-project') || c.req.query('project') || null,
    )
    c.set('projectId', projectId)
    // a device login starts without credentials: those two paths get no access at all
    const access = UNAUTHENTICATED_PATHS.has(c.req.path)
      ? { type: 'none' as const, workspaces: [] }
      : await authenticate(c.req.header('authorization'), server.settings, server.projects.get(projectId), {
          projectId,
          host: c.req.header('host'),
          logger: server.logger,
        })
    c.set('access', access)
    await next()
    // what a request changed is on disk before its answer goes out (worker frames in the same
    // turn share the orchestrator's write batch)
    server.projects.commitAll()
  })

  registerSessionRoutes(app, server)
  registerTokenRoutes(app, server)
  registerWorkspaceRoutes(app, server)
  registerRunRoutes(app, server)
  registerInputRoutes(app, server)
  registerManifestRoutes(app, server)
  registerPoolRoutes(app, server)
  registerScheduleRoutes(app, server)
  registerBlobRoutes(app, server)
  registerLogRoutes(app, server)
  registerMetricRoutes(app, server)

  app.get('/topics/*', (c) => {
    const segments = new URL(c.req.url).pathname
      .slice('/topics/'.length)
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s))
    const value = topicValue(projectOf(c, server), c.get('access'), segments)
    if (value === null || value === undefined) return jsonResponse({ error: 'not_found' }, 404)
    return jsonResponse(value)
  })

  app.all('/api/*', (c) => {
    if (c.req.method !== 'POST' && c.req.method !== 'GET') {
      return jsonResponse({ error: 'method_not_allowed' }, 405, { allow: 'GET, POST, OPTIONS' })
    }
    return jsonResponse({ error: 'not_found' }, 404)
  })

  app.notFound(() => jsonResponse({ error: 'not_found' }, 404))

  app.onError((err, c) => {
    if (err instanceof ApiError) return jsonResponse(err.toBody(), err.status, errorHeaders(err, c.req.url))
    server.logger.error(`${c.req.method} ${new URL(c.req.url).pathname}: ${(err as Error).stack ?? String(err)}`)
    return jsonResponse({ error: 'internal_error' }, 500)
  })

  return app
}

/** CORS headers (http-api.md §4), added to every response. */
export function withCors(res: Response, origin: string | null, allowed: string[]): Response {
  const headers = new Headers(res.headers)
  headers.set('access-control-allow-methods', 'OPTIONS, GET, POST, PUT, PATCH, DELETE')
  headers.set('access-control-allow-headers', 'content-type,authorization,x-api-version,x-project,if-match')
  headers.set('access-control-max-age', '86400')
  headers.set('access-control-expose-headers', 'etag, coflux-owner, location')
  headers.set('vary', 'origin')
  if (origin && allowed.some((pattern) => originMatches(pattern, origin))) headers.set('access-control-allow-origin', origin)
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers })
}

function originMatches(pattern: string, origin: string): boolean {
  const star = pattern.indexOf('*')
  if (star < 0) return pattern === origin
  const before = pattern.slice(0, star)
  const after = pattern.slice(star + 1)
  return origin.startsWith(before) && origin.endsWith(after) && origin.length > before.length + after.length
}
