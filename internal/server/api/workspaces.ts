/** Workspace endpoints (http-api.md §9.2). */
import type { Hono } from 'hono'
import { ApiError } from '../../protocol/errors.ts'
import { archiveWorkspace } from '../../orchestrator/index.ts'
import { canAccessWorkspace } from '../auth.ts'
import { noContent, jsonResponse, readJsonObject, requireProject, workspaceFor, type AppEnv, type ServerContext } from '../context.ts'
import { Validator, WORKSPACE_NAME } from './validate.ts'

export function registerWorkspaceRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.post('/api/create_workspace', async (c) => {
    const v = new Validator(await readJsonObject(c, server))
    const name = v.string('name', { required: true, pattern: WORKSPACE_NAME, max: 100 })
    v.finish()
    if (!canAccessWorkspace(c.get('access'), name!)) throw new ApiError(400, 'bad_request', 'restricted', { name: 'restricted' })
    const project = requireProject(c, server)
    const store = project.store.workspaces
    let baseId: number | null = null
    if (v.has('baseId')) {
      const base = project.workspace(v.body.baseId)
      if (!base) v.fail('baseId', 'invalid')
      else baseId = base.id
    }
    if (store.getActiveByName(name!)) v.fail('name', 'exists')
    v.finish()
    const ws = store.create(name!, baseId, Date.now())
    project.orchestrator.emit({ kind: 'workspaces' })
    return jsonResponse({ id: ws.externalId })
  })

  app.post('/api/update_workspace', async (c) => {
    const body = await readJsonObject(c, server)
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const v = new Validator(body)
    const name = v.string('name', { pattern: WORKSPACE_NAME, max: 100 })
    v.finish()
    const changes: { name?: string; baseId?: number | null } = {}
    if (name !== undefined && name !== ws.name) {
      if (!canAccessWorkspace(c.get('access'), name)) v.fail('name', 'restricted')
      else if (project.store.workspaces.getActiveByName(name)) v.fail('name', 'exists')
      else changes.name = name
    }
    if ('baseId' in body) {
      if (body.baseId === null) changes.baseId = null
      else {
        const base = project.workspace(body.baseId)
        // a base may be neither the workspace itself nor one of its descendants (§18.2)
        if (!base || project.store.workspaces.ancestry(base.id).includes(ws.id)) v.fail('baseId', 'invalid')
        else changes.baseId = base.id
      }
    }
    v.finish()
    project.store.workspaces.update(ws.id, changes, Date.now())
    project.orchestrator.emit({ kind: 'workspaces' })
    return noContent()
  })

  const setState = (path: string, state: 'active' | 'paused') =>
    app.post(path, async (c) => {
      const body = await readJsonObject(c, server)
      const project = requireProject(c, server)
      const ws = workspaceFor(c, project, body.workspaceId)
      if (ws.state !== state) project.store.workspaces.update(ws.id, { state }, Date.now())
      project.orchestrator.emit({ kind: 'workspaces' })
      project.orchestrator.emit({ kind: 'queue', workspaceId: ws.id })
      project.orchestrator.wake()
      return noContent()
    })
  setState('/api/pause_workspace', 'paused')
  setState('/api/resume_workspace', 'active')

  app.post('/api/archive_workspace', async (c) => {
    const body = await readJsonObject(c, server)
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const dependants = project.store.workspaces.list().filter((w) => w.baseId === ws.id && w.state !== 'archived')
    if (dependants.length > 0) throw new ApiError(400, 'bad_request', 'has_dependencies', { workspaceId: 'has_dependencies' })
    archiveWorkspace(project.orchestrator, ws.id)
    return noContent()
  })
}
