/** Inputs: get, respond, dismiss (http-api.md §9.6), scoped as §16.1. */
import type { Context, Hono } from 'hono'
import { validator } from 'hono/validator'
import { answerInput, ensureInputActive, inputByExternalId, type InputAnswer } from '../../orchestrator/index.ts'
import { ApiError, notFound } from '../../protocol/errors.ts'
import { parseJson, stringifyJson, type Json } from '../../protocol/json.ts'
import { describeErrors, JsonSchema } from '../../protocol/json-schema.ts'
import type { InputRecord, OrchestrationStore } from '../../store/index.ts'
import { requireWorkspaceAccess } from '../auth.ts'
import { jsonResponse, projectOf, type AppContext, type AppEnv, type ServerContext } from '../context.ts'
import type { Project } from '../project.ts'
import { canReadInput, inputDetail } from '../topics/inputs.ts'
import { bodyReader, Fields, type JsonBody } from './body.ts'

const alreadyResponded = () => new ApiError(409, 'already_responded', 'the input already has a response')

/**
 * The input named by `inputId` if the caller may see it; 404 otherwise (existence is not
 * revealed). Reading finds inputs of archived runs in place; acting on one (`act`) first copies
 * its run into the active epoch (semantics.md §23.2).
 */
function visibleInput(c: AppContext, server: ServerContext, inputId: string, act = false): { project: Project; input: InputRecord; store: OrchestrationStore } {
  const project = projectOf(c, server)
  const active = project ? inputByExternalId(project.orchestrator, inputId) : null
  let found = project && active ? { value: active, store: project.store } : (project?.store.findInput(inputId) ?? null)
  if (!project || !found || !canReadInput(project, c.get('access'), found.value, found.store)) throw notFound()
  if (act && found.store !== project.store) {
    const input = ensureInputActive(project.orchestrator, inputId)
    if (!input) throw notFound()
    found = { value: input, store: project.store }
  }
  return { project, input: found.value, store: found.store }
}

/** Responding and dismissing need write access to the input's own workspace (§6.8). */
function writableInput(c: AppContext, server: ServerContext, inputId: string): { project: Project; input: InputRecord } {
  const found = visibleInput(c, server, inputId, true)
  const ws = found.project.store.workspaces.get(found.input.workspaceId)
  if (!ws) throw notFound()
  requireWorkspaceAccess(c.get('access'), ws.name)
  return found
}

/** Records the answer with the caller as its author; 409 when the input already has one. */
function answer(c: AppContext, project: Project, input: InputRecord, value: InputAnswer): Response {
  const principal = c.get('access').principal
  const createdBy = principal ? project.store.principals.ensure(principal) : null
  if (!answerInput(project.orchestrator, input, value, createdBy)) throw alreadyResponded()
  return jsonResponse({})
}

export function registerInputRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const readBody = bodyReader(server)

  app.post('/api/get_input', readBody, validator('json', parseInputRef), async (c) => {
    const { project, input, store } = visibleInput(c, server, c.req.valid('json').inputId)
    return jsonResponse(inputDetail(project, input, store))
  })

  app.post('/api/respond_input', readBody, validator('json', parseRespondInput), async (c) => {
    const body = c.req.valid('json')
    const { project, input } = writableInput(c, server, body.inputId)
    if (project.store.inputs.response(input.id)) throw alreadyResponded()
    if (input.schema !== null) {
      const errors = JsonSchema.parse(input.schema).validate(body.value)
      if (errors.length > 0) throw new ApiError(422, 'validation_failed', 'the value does not match the schema', describeErrors(errors))
    }
    return answer(c, project, input, { type: 'value', value: stringifyJson(body.value) })
  })

  app.post('/api/dismiss_input', readBody, validator('json', parseInputRef), async (c) => {
    const { project, input } = writableInput(c, server, c.req.valid('json').inputId)
    return answer(c, project, input, { type: 'dismissed' })
  })
}

function parseInputRef(body: JsonBody): { inputId: string } {
  const v = new Fields(body)
  const inputId = v.string('inputId', { required: true })
  v.finish()
  return { inputId: inputId! }
}

/**
 * The body read again losslessly: a response is stored and delivered as the JSON it is, numbers
 * included (values.md §6.2, §7), which `JSON.parse` would not preserve.
 */
async function parseRespondInput(_parsed: JsonBody, c: Context): Promise<{ inputId: string; value: Json }> {
  let body: Json
  try {
    body = parseJson(await c.req.text())
  } catch {
    throw new ApiError(400, 'bad_request', 'invalid JSON body', 'invalid_json')
  }
  const object = body as Record<string, Json>
  // `value` may be null (a valid response), but it must be given
  if (!Object.hasOwn(object, 'value')) throw new ApiError(400, 'bad_request', 'value is required', { value: 'required' })
  return { ...parseInputRef(object), value: object.value! }
}
