/** Runs: submit, cancel, rerun (http-api.md §9.5). */
import type { Hono } from 'hono'
import { ApiError, notFound } from '../../protocol/errors.ts'
import { convertCliArgument } from '../../protocol/values.ts'
import type { RawJson } from '../../protocol/json.ts'
import { cancelExecution, ensureExecutionActive, rerunStep, submitWorkflow } from '../../orchestrator/index.ts'
import { jsonResponse, readJsonObject, requireProject, workspaceFor, type AppEnv, type ServerContext } from '../context.ts'
import { MODULE_NAME, TARGET_NAME, Validator } from './validate.ts'

export function registerRunRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.post('/api/submit_workflow', async (c) => {
    const body = await readJsonObject(c, server)
    const v = new Validator(body)
    if (!v.has('workspaceId')) v.fail('workspaceId', 'required')
    const module = v.string('module', { required: true, pattern: MODULE_NAME, max: 100 })
    const target = v.string('target', { required: true, pattern: TARGET_NAME, max: 100 })
    const args = parseArguments(v)
    const waitFor = v.indexes('waitFor') ?? []
    const cache = v.cache('cache')
    const defer = v.defer('defer')
    const delay = v.integer('delay', { min: 0 }) ?? 0
    const retries = v.retries('retries')
    const recurrent = v.boolean('recurrent') ?? false
    const timeout = v.integer('timeout', { min: 0 }) ?? 0
    const requires = v.tags('requires') ?? {}
    const memo = v.boolean('memo') ?? false
    const idempotencyKey = v.string('idempotencyKey', { max: 200 }) ?? null
    v.finish()
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const result = submitWorkflow(project.orchestrator, {
      workspaceId: ws.id,
      module: module!,
      target: target!,
      arguments: args!,
      waitFor,
      cache: cache ?? null,
      defer: defer ?? null,
      delay,
      retries: retries ?? null,
      recurrent,
      timeout,
      requires,
      memo,
      idempotencyKey,
      createdBy: null,
    })
    return jsonResponse(result)
  })

  app.post('/api/cancel_execution', async (c) => {
    const body = await readJsonObject(c, server)
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    // an archived execution is copied into the active epoch first (§23.2)
    const exec = typeof body.executionId === 'string' ? ensureExecutionActive(project.orchestrator, body.executionId) : null
    if (!exec) throw notFound()
    cancelExecution(project.orchestrator, exec.id, ws.id)
    return jsonResponse({})
  })

  app.post('/api/rerun_step', async (c) => {
    const body = await readJsonObject(c, server)
    if (typeof body.stepId !== 'string') throw new ApiError(400, 'bad_request', 'stepId is required', { stepId: 'required' })
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    return jsonResponse(rerunStep(project.orchestrator, body.stepId, ws.id))
  })
}

/** Each argument is `["json", "<JSON text>"]` (values.md §8). */
function parseArguments(v: Validator): RawJson[] | undefined {
  const raw = v.body.arguments
  if (raw === undefined || raw === null) return v.fail('arguments', 'required')
  if (!Array.isArray(raw) || raw.length > 20) return v.fail('arguments', 'invalid')
  const out: RawJson[] = []
  raw.forEach((arg, i) => {
    if (!Array.isArray(arg) || arg.length !== 2 || arg[0] !== 'json' || typeof arg[1] !== 'string') {
      v.fail(`arguments.${i}`, 'invalid')
      return
    }
    try {
      out.push(convertCliArgument(arg[1]))
    } catch {
      v.fail(`arguments.${i}`, 'not_json')
    }
  })
  return out
}
