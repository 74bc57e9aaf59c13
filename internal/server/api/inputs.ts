/** Inputs: get, respond, dismiss (http-api.md §9.6), scoped as §16.1. */
import type { Hono } from 'hono'
import { answerInput, ensureInputActive, inputByExternalId, type InputAnswer } from '../../orchestrator/index.ts'
import { ApiError, notFound } from '../../protocol/errors.ts'
import { parseJson, stringifyJson, type Json } from '../../protocol/json.ts'
import { describeErrors, JsonSchema } from '../../protocol/json-schema.ts'
import type { InputRecord, OrchestrationStore } from '../../store/index.ts'
import { requireWorkspaceAccess } from '../auth.ts'
import { jsonResponse, projectOf, readBodyText, readJsonObject, type AppContext, type AppEnv, type ServerContext } from '../context.ts'
import type { Project } from '../project.ts'
import { canReadInput, inputDetail } from '../topics/inputs.ts'
import { Validator } from './validate.ts'

const alreadyResponded = () => new ApiError(409, 'already_responded', 'the input already has a response')

/**
 * The body parsed losslessly: a response is stored and delivered as the JSON it is, numbers
 * included (values.md §6.2, §7), which `JSON.parse` would not preserve.
 */
async function readLosslessObject(c: AppContext, server: ServerContext): Promise<Record<string, Json>> {
  const text = await readBodyText(c, server.settings.maxBodyBytes)
  if (text.trim() === '') return {}
  let parsed: Json
  try {
    parsed = parseJson(text)
  } catch {
    throw new ApiError(400, 'bad_request', 'invalid JSON body', 'invalid_json')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError(400, 'bad_request', 'body must be a JSON object', 'invalid_json')
  }
  return parsed as Record<string, Json>
}

/**
 * The input named by `inputId` if the caller may see it; 404 otherwise (existence is not
 * revealed). Reading finds inputs of archived runs in place; acting on one (`act`) first copies
 * its run into the active epoch (semantics.md §23.2).
 */
function visibleInput(
  c: AppContext,
  server: ServerContext,
  body: Record<string, unknown>,
  act = false,
): { project: Project; input: InputRecord; store: OrchestrationStore } {
  const v = new Validator(body)
  const inputId = v.string('inputId', { required: true })
  v.finish()
  const project = projectOf(c, server)
  const active = project ? inputByExternalId(project.orchestrator, inputId) : null
  let found = project && active ? { value: active, store: project.store } : (project?.store.findInput(inputId!) ?? null)
  if (!project || !found || !canReadInput(project, c.get('access'), found.value, found.store)) throw notFound()
  if (act && found.store !== project.store) {
    const input = ensureInputActive(project.orchestrator, inputId)
    if (!input) throw notFound()
    found = { value: input, store: project.store }
  }
  return { project, input: found.value, store: found.store }
}

/** Responding and dismissing need write access to the input's own workspace (§6.8). */
function writableInput(c: AppContext, server: ServerContext, body: Record<string, unknown>): { project: Project; input: InputRecord } {
  const found = visibleInput(c, server, body, true)
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
  app.post('/api/get_input', async (c) => {
    const { project, input, store } = visibleInput(c, server, await readJsonObject(c, server))
    return jsonResponse(inputDetail(project, input, store))
  })

  app.post('/api/respond_input', async (c) => {
    const body = await readLosslessObject(c, server)
    // `value` may be null (a valid response), but it must be given
    if (!Object.hasOwn(body, 'value')) throw new ApiError(400, 'bad_request', 'value is required', { value: 'required' })
    const { project, input } = writableInput(c, server, body)
    if (project.store.inputs.response(input.id)) throw alreadyResponded()
    if (input.schema !== null) {
      const errors = JsonSchema.parse(input.schema).validate(body.value)
      if (errors.length > 0) throw new ApiError(422, 'validation_failed', 'the value does not match the schema', describeErrors(errors))
    }
    return answer(c, project, input, { type: 'value', value: stringifyJson(body.value) })
  })

  app.post('/api/dismiss_input', async (c) => {
    const { project, input } = writableInput(c, server, await readJsonObject(c, server))
    return answer(c, project, input, { type: 'dismissed' })
  })
}
