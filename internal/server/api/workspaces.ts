/** Workspace endpoints (http-api.md §9.2). */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import { ApiError } from '../../protocol/errors.ts'
import { archiveWorkspace } from '../../orchestrator/index.ts'
import { canAccessWorkspace } from '../auth.ts'
import { noContent, jsonResponse, requireProject, workspaceFor, type AppEnv, type ServerContext } from '../context.ts'
import { bodyReader, Fields, parseWorkspaceRef, WORKSPACE_NAME, type JsonBody } from './body.ts'

export function registerWorkspaceRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const readBody = bodyReader(server)

  app.post('/api/create_workspace', readBody, validator('json', parseCreateWorkspace), async (c) => {
    const { name, baseId: baseRef } = c.req.valid('json')
    if (!canAccessWorkspace(c.get('access'), name)) throw new ApiError(400, 'bad_request', 'restricted', { name: 'restricted' })
    const project = requireProject(c, server)
    const store = project.store.workspaces
    // what only the store can tell: the base exists, the name is free
    const v = new Fields({})
    let baseId: number | null = null
    if (baseRef !== undefined) {
      const base = project.workspace(baseRef)
      if (!base) v.fail('baseId', 'invalid')
      else baseId = base.id
    }
    if (store.getActiveByName(name)) v.fail('name', 'exists')
    v.finish()
    const ws = store.create(name, baseId, Date.now())
    project.orchestrator.emit({ kind: 'workspaces' })
    return jsonResponse({ id: ws.externalId })
  })

  app.post('/api/update_workspace', readBody, validator('json', parseUpdateWorkspace), async (c) => {
    const body = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const { name } = body
    const v = new Fields({})
    const changes: { name?: string; baseId?: number | null } = {}
    if (name !== undefined && name !== ws.name) {
      if (!canAccessWorkspace(c.get('access'), name)) v.fail('name', 'restricted')
      else if (project.store.workspaces.getActiveByName(name)) v.fail('name', 'exists')
      else changes.name = name
    }
    if (body.baseId !== undefined) {
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
    app.post(path, readBody, validator('json', parseWorkspaceRef), async (c) => {
      const body = c.req.valid('json')
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

  app.post('/api/archive_workspace', readBody, validator('json', parseWorkspaceRef), async (c) => {
    const body = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const dependants = project.store.workspaces.list().filter((w) => w.baseId === ws.id && w.state !== 'archived')
    if (dependants.length > 0) throw new ApiError(400, 'bad_request', 'has_dependencies', { workspaceId: 'has_dependencies' })
    archiveWorkspace(project.orchestrator, ws.id)
    return noContent()
  })
}

function parseCreateWorkspace(body: JsonBody): { name: string; baseId?: unknown } {
  const v = new Fields(body)
  const name = v.string('name', { required: true, pattern: WORKSPACE_NAME, max: 100 })
  v.finish()
  return { name: name!, baseId: v.has('baseId') ? body.baseId : undefined }
}

/** `baseId`: undefined = unchanged, null = no base. */
function parseUpdateWorkspace(body: JsonBody): { workspaceId: unknown; name?: string; baseId?: unknown } {
  const v = new Fields(body)
  const name = v.string('name', { pattern: WORKSPACE_NAME, max: 100 })
  v.finish()
  return { workspaceId: body.workspaceId, name, baseId: body.baseId }
}
