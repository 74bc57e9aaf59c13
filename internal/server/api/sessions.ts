/** Sessions (http-api.md §9.8) and discovery (§9.1). */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import { createSession } from '../../orchestrator/index.ts'
import { API_VERSION, VERSION } from '../../protocol/version.ts'
import type { TagSet } from '../../protocol/api.ts'
import { jsonResponse, requireProject, workspaceFor, type AppEnv, type ServerContext } from '../context.ts'
import { bodyReader, Fields, type JsonBody } from './body.ts'

export function registerSessionRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.get('/api/discover', (c) =>
    jsonResponse({ version: VERSION, api_version: API_VERSION, access: { workspaces: c.get('access').workspaces }, project: c.get('projectId') }),
  )

  app.post('/api/create_session', bodyReader(server), validator('json', parseCreateSession), async (c) => {
    const { workspaceId, provides, accepts } = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, workspaceId)
    const { token } = createSession(project.orchestrator, { workspaceId: ws.id, provides, accepts })
    return jsonResponse({ sessionId: token })
  })
}

function parseCreateSession(body: JsonBody): { workspaceId: unknown; provides: TagSet; accepts: TagSet } {
  const v = new Fields(body)
  const provides = v.tags('provides') ?? {}
  const accepts = v.tags('accepts') ?? {}
  v.finish()
  return { workspaceId: body.workspaceId, provides, accepts }
}
