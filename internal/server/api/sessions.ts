/** Sessions (http-api.md §9.8) and discovery (§9.1). */
import type { Hono } from 'hono'
import { createSession } from '../../orchestrator/index.ts'
import { API_VERSION, VERSION } from '../../protocol/version.ts'
import { jsonResponse, readJsonObject, requireProject, workspaceFor, type AppEnv, type ServerContext } from '../context.ts'
import { Validator } from './validate.ts'

export function registerSessionRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.get('/api/discover', (c) =>
    jsonResponse({ version: VERSION, api_version: API_VERSION, access: { workspaces: c.get('access').workspaces }, project: c.get('projectId') }),
  )

  app.post('/api/create_session', async (c) => {
    const body = await readJsonObject(c, server)
    const v = new Validator(body)
    const provides = v.tags('provides') ?? {}
    const accepts = v.tags('accepts') ?? {}
    v.finish()
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const { token } = createSession(project.orchestrator, { workspaceId: ws.id, provides, accepts })
    return jsonResponse({ sessionId: token })
  })
}
