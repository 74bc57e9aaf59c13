/** Manifests (http-api.md §9.4). */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import { ApiError } from '../../protocol/errors.ts'
import type { WorkflowManifest } from '../../protocol/executor.ts'
import type { ScheduleSpec } from '../../protocol/schedules.ts'
import { noContent, requireProject, workspaceFor, type AppEnv, type ServerContext } from '../context.ts'
import { bodyReader, Fields, MODULE_NAME, TARGET_NAME, type JsonBody } from './body.ts'
import { parseScheduleSpec } from './schedules.ts'

export function registerManifestRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const readBody = bodyReader(server)

  app.post('/api/register_manifests', readBody, validator('json', parseRegisterManifests), async (c) => {
    const { workspaceId, manifests } = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, workspaceId)
    const changed = project.store.manifests.replace(ws.id, manifests, Date.now())
    if (changed.length > 0) {
      project.orchestrator.schedules.syncManifests(ws.id)
      project.orchestrator.emit({ kind: 'manifests', workspaceId: ws.id })
    }
    return noContent()
  })

  app.post('/api/archive_module', readBody, validator('json', parseArchiveModule), async (c) => {
    const body = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    if (typeof body.moduleName !== 'string' || !MODULE_NAME.test(body.moduleName)) {
      throw new ApiError(400, 'bad_request', 'invalid module', { moduleName: 'invalid' })
    }
    project.store.manifests.archiveModule(ws.id, body.moduleName)
    project.orchestrator.schedules.syncManifests(ws.id)
    project.orchestrator.emit({ kind: 'manifests', workspaceId: ws.id })
    return noContent()
  })
}

function parseRegisterManifests(body: JsonBody): { workspaceId: unknown; manifests: Record<string, Record<string, WorkflowManifest>> } {
  const v = new Fields(body)
  const manifests = parseManifests(v, body.manifests)
  v.finish()
  return { workspaceId: body.workspaceId, manifests }
}

/** The module name is checked after the workspace (404 before 400), as it always was. */
function parseArchiveModule(body: JsonBody): { workspaceId: unknown; moduleName: unknown } {
  return { workspaceId: body.workspaceId, moduleName: body.moduleName }
}

function parseManifests(v: Fields, raw: unknown): Record<string, Record<string, WorkflowManifest>> {
  const out: Record<string, Record<string, WorkflowManifest>> = {}
  if (raw === undefined || raw === null) {
    v.fail('manifests', 'required')
    return out
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    v.fail('manifests', 'invalid')
    return out
  }
  for (const [module, workflows] of Object.entries(raw as Record<string, unknown>)) {
    const path = `manifests.${module}`
    if (!MODULE_NAME.test(module) || module.length > 100 || !workflows || typeof workflows !== 'object' || Array.isArray(workflows)) {
      v.fail(path, 'invalid')
      continue
    }
    const entries: Record<string, WorkflowManifest> = {}
    for (const [name, manifest] of Object.entries(workflows as Record<string, unknown>)) {
      if (!TARGET_NAME.test(name) || name.length > 100) {
        v.fail(`${path}.${name}`, 'invalid')
        continue
      }
      const parsed = parseManifest(v, `${path}.${name}`, manifest)
      if (parsed) entries[name] = parsed
    }
    out[module] = entries
  }
  return out
}

function parseManifest(v: Fields, path: string, raw: unknown): WorkflowManifest | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return v.fail(path, 'invalid')
  const m = raw as Record<string, unknown>
  const params = m.parameters
  if (!Array.isArray(params) || params.length > 20) return v.fail(`${path}.parameters`, params === undefined ? 'required' : 'invalid')
  const parameters: WorkflowManifest['parameters'] = []
  for (const [i, p] of params.entries()) {
    const param = p as Record<string, unknown> | null
    if (!param || typeof param !== 'object' || typeof param.name !== 'string' || !TARGET_NAME.test(param.name)) {
      return v.fail(`${path}.parameters.${i}`, 'invalid')
    }
    const entry: WorkflowManifest['parameters'][number] = { name: param.name }
    if (typeof param.default === 'string') entry.default = param.default
    if (typeof param.annotation === 'string') entry.annotation = param.annotation
    parameters.push(entry)
  }
  const waitFor = v.indexes(`${path}.waitFor`, m.waitFor ?? [])
  const cache = v.cache(`${path}.cache`, m.cache)
  const defer = v.defer(`${path}.defer`, m.defer)
  const retries = v.retries(`${path}.retries`, m.retries)
  const requires = m.requires === undefined || m.requires === null ? null : v.tags(`${path}.requires`, m.requires)
  const delay = m.delay ?? 0
  const timeout = m.timeout ?? 0
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0) return v.fail(`${path}.delay`, 'invalid')
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0) return v.fail(`${path}.timeout`, 'invalid')
  const resumes = m.resumes ?? null
  if (resumes !== null && (typeof resumes !== 'number' || !Number.isInteger(resumes) || resumes < 0)) return v.fail(`${path}.resumes`, 'invalid')
  const priority = m.priority ?? null
  if (priority !== null && (typeof priority !== 'number' || !Number.isSafeInteger(priority))) return v.fail(`${path}.priority`, 'invalid')
  const concurrency = v.concurrency(`${path}.concurrency`, m.concurrency)
  const schedule = m.schedule === undefined || m.schedule === null ? null : parseManifestSchedule(v, `${path}.schedule`, m.schedule)
  const instruction = m.instruction ?? null
  if (instruction !== null && (typeof instruction !== 'string' || instruction.length > 5000)) return v.fail(`${path}.instruction`, 'invalid')
  if (waitFor === undefined || cache === undefined || defer === undefined || retries === undefined || requires === undefined || concurrency === undefined || schedule === undefined) return undefined
  return {
    parameters,
    waitFor,
    cache: cache ?? null,
    defer: defer ?? null,
    delay,
    retries: retries ? { limit: retries.limit < 0 ? null : retries.limit, backoffMin: retries.backoffMin, backoffMax: retries.backoffMax } : null,
    recurrent: m.recurrent === true,
    timeout,
    requires: requires && Object.keys(requires).length ? requires : null,
    memo: m.memo === true,
    resumes,
    priority,
    concurrency,
    ...(schedule ? { schedule } : {}),
    instruction: instruction as string | null,
  }
}

function parseManifestSchedule(v: Fields, path: string, raw: unknown): ScheduleSpec | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return v.fail(path, 'invalid')
  return parseScheduleSpec(v, `${path}.`, raw as Record<string, unknown>)
}
