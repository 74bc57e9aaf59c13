/** Runs: submit, cancel, rerun (http-api.md §9.5). */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import { ApiError, notFound } from '../../protocol/errors.ts'
import { convertCliArgument } from '../../protocol/values.ts'
import type { RawJson } from '../../protocol/json.ts'
import { cancelExecution, ensureExecutionActive, rerunStep, submitWorkflow } from '../../orchestrator/index.ts'
import { jsonResponse, requireProject, workspaceFor, type AppEnv, type ServerContext } from '../context.ts'
import { bodyReader, Fields, MODULE_NAME, TARGET_NAME, type JsonBody } from './body.ts'

export function registerRunRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const readBody = bodyReader(server)

  app.post('/api/submit_workflow', readBody, validator('json', parseSubmitWorkflow), async (c) => {
    const { workspaceId, ...request } = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, workspaceId)
    return jsonResponse(submitWorkflow(project.orchestrator, { workspaceId: ws.id, ...request, createdBy: null }))
  })

  app.post('/api/cancel_execution', readBody, validator('json', parseCancelExecution), async (c) => {
    const body = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    // an archived execution is copied into the active epoch first (§23.2)
    const exec = typeof body.executionId === 'string' ? ensureExecutionActive(project.orchestrator, body.executionId) : null
    if (!exec) throw notFound()
    cancelExecution(project.orchestrator, exec.id, ws.id)
    return jsonResponse({})
  })

  app.post('/api/rerun_step', readBody, validator('json', parseRerunStep), async (c) => {
    const body = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    return jsonResponse(rerunStep(project.orchestrator, body.stepId, ws.id))
  })
}

/** A checked `submit_workflow` body: what `submitWorkflow` takes, with the workspace still to look up. */
type SubmitWorkflowBody = Omit<Parameters<typeof submitWorkflow>[1], 'workspaceId' | 'createdBy'> & { workspaceId: unknown }

function parseSubmitWorkflow(body: JsonBody): SubmitWorkflowBody {
  const v = new Fields(body)
  if (!v.has('workspaceId')) v.fail('workspaceId', 'required')
  const module = v.string('module', { required: true, pattern: MODULE_NAME, max: 100 })
  const target = v.string('target', { required: true, pattern: TARGET_NAME, max: 100 })
  const args = parseArguments(v)
  const waitFor = v.indexes('waitFor') ?? []
  const cache = v.cache('cache')
  const defer = v.defer('defer')
  const delay = v.integer('delay', { min: 0 }) ?? 0
  const retries = v.retries('retries')
  const resumes = v.integer('resumes', { min: 0 }) ?? null
  const recurrent = v.boolean('recurrent') ?? false
  const timeout = v.integer('timeout', { min: 0 }) ?? 0
  const requires = v.tags('requires') ?? {}
  const memo = v.boolean('memo') ?? false
  const idempotencyKey = v.string('idempotencyKey', { max: 200 }) ?? null
  const priority = v.integer('priority') ?? null
  const concurrency = v.concurrency('concurrency')
  v.finish()
  return {
    workspaceId: body.workspaceId,
    module: module!,
    target: target!,
    arguments: args!,
    waitFor,
    cache: cache ?? null,
    defer: defer ?? null,
    delay,
    retries: retries ?? null,
    resumes,
    priority,
    concurrency: concurrency ?? null,
    recurrent,
    timeout,
    requires,
    memo,
    idempotencyKey,
  }
}

function parseCancelExecution(body: JsonBody): { workspaceId: unknown; executionId: unknown } {
  return { workspaceId: body.workspaceId, executionId: body.executionId }
}

function parseRerunStep(body: JsonBody): { workspaceId: unknown; stepId: string } {
  if (typeof body.stepId !== 'string') throw new ApiError(400, 'bad_request', 'stepId is required', { stepId: 'required' })
  return { workspaceId: body.workspaceId, stepId: body.stepId }
}

/** Each argument is `["json", "<JSON text>"]` (values.md §8). */
function parseArguments(v: Fields): RawJson[] | undefined {
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
