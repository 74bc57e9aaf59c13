/**
 * `submit_input` from an execution (semantics.md §26, executor-protocol.md §6.9): the request
 * is checked (schema, initial value, routing tags), then an earlier input with the same key is
 * reused or a new `<run>/i<n>` is created. Refusals are answered with the reason the adapter
 * shows (`invalid_schema: …`, `invalid_initial: …`, `input_mismatch`).
 */
import type { TagSet } from '../protocol/api.ts'
import { canonicalJson, stringifyJson, type Json } from '../protocol/json.ts'
import { describeErrors, InvalidSchemaError, JsonSchema } from '../protocol/json-schema.ts'
import { parseServerValue, type ServerValue } from '../protocol/values.ts'
import type { ExecutionRecord, InputRecord } from '../store/index.ts'
import type { Core } from './core.ts'
import { parseTagSet } from './routing.ts'
import { RequestError } from './request-errors.ts'

/** A checked `submit_input`, with placeholder values already stored. */
type InputRequest = Pick<InputRecord, 'template' | 'placeholders' | 'schema' | 'key' | 'title' | 'actions' | 'initial' | 'requires'>

const MAX_KEY_LENGTH = 200
const MAX_TITLE_LENGTH = 1_000
const MAX_PLACEHOLDERS = 100

function optionalString(v: unknown, what: string, max = Infinity): string | null {
  if (v === null || v === undefined) return null
  if (typeof v !== 'string') throw new RequestError(`${what} must be a string`)
  if (v.length > max) throw new RequestError(`${what} is longer than ${max} characters`)
  return v
}

function parseActions(v: unknown): [string, string] | null {
  if (v === null || v === undefined) return null
  if (!Array.isArray(v) || v.length !== 2 || v.some((a) => typeof a !== 'string')) {
    throw new RequestError('actions must be [respond label, dismiss label]')
  }
  return [v[0], v[1]]
}

/** The schema text, checked; `invalid_schema: <reason>` otherwise. */
function parseSchema(text: string | null): JsonSchema | null {
  if (text === null) return null
  try {
    return JsonSchema.parse(text)
  } catch (err) {
    if (err instanceof InvalidSchemaError) throw new RequestError(`invalid_schema: ${err.message}`)
    throw err
  }
}

/** §26 step 2: a pre-filled value needs a schema and must fit it as a partial form. */
function parseInitial(v: unknown, schema: JsonSchema | null): string | null {
  if (v === null || v === undefined) return null
  if (!schema) throw new RequestError('invalid_initial: initial value requires a schema')
  const errors = schema.withoutRequired().validate(v)
  if (errors.length > 0) throw new RequestError(`invalid_initial: ${describeErrors(errors)}`)
  return stringifyJson(v)
}

function parsePlaceholders(v: unknown): [string, ServerValue][] {
  if (v === null || v === undefined) return []
  if (typeof v !== 'object' || Array.isArray(v)) throw new RequestError('placeholders must be an object')
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length > MAX_PLACEHOLDERS) throw new RequestError(`at most ${MAX_PLACEHOLDERS} placeholders`)
  return entries.map(([name, value]) => [name, parseServerValue(value)])
}

/** Params `[executionId, template, placeholders, schema, key, title, actions, initial, requires]`. */
function parseRequest(o: Core, p: unknown[]): InputRequest {
  const template = p[1]
  if (typeof template !== 'string') throw new RequestError('template must be a string')
  const values = parsePlaceholders(p[2])
  const schemaText = optionalString(p[3], 'schema')
  const schema = parseSchema(schemaText)
  const requires = parseTagSet(p[8])
  if (requires === null) throw new RequestError('invalid requires')
  const key = optionalString(p[4], 'key', MAX_KEY_LENGTH)
  const title = optionalString(p[5], 'title', MAX_TITLE_LENGTH)
  const actions = parseActions(p[6])
  const initial = parseInitial(p[7] as Json | undefined, schema)
  // placeholder values are stored only once the request is known to be acceptable
  const placeholders: Record<string, number> = {}
  for (const [name, value] of values) placeholders[name] = o.store.values.put(value)
  return { template, placeholders, schema: schemaText, key, title, actions, initial, requires }
}

/**
 * §26 step 4: the newest input of the caller's run with this key, in the caller's workspace
 * ancestry. It is the same input only if prompt, schema and requires are identical.
 */
function findByKey(o: Core, caller: ExecutionRecord, request: InputRequest & { key: string }): InputRecord | null {
  const ancestry = new Set(o.store.workspaces.ancestry(caller.workspaceId))
  const existing = o.store.inputs.withKey(caller.runId, request.key).find((i) => ancestry.has(i.workspaceId))
  if (!existing) return null
  const same =
    existing.promptId === o.store.inputs.promptId(request.template, request.placeholders) &&
    existing.schema === request.schema &&
    canonicalJson(existing.requires) === canonicalJson(request.requires)
  if (!same) throw new RequestError('input_mismatch')
  return existing
}

/** Handles `submit_input` for `caller`; returns the input's id. */
export function submitInput(o: Core, caller: ExecutionRecord, params: unknown[]): string {
  const request = parseRequest(o, params)
  const input = o.store.transaction(() => {
    const reused = request.key !== null ? findByKey(o, caller, { ...request, key: request.key }) : null
    if (reused) {
      o.store.inputs.link(reused.id, caller.id, 'submitted')
      return reused
    }
    return o.store.inputs.create({ ...request, runId: caller.runId, runExternalId: caller.runExternalId, workspaceId: caller.workspaceId, executionId: caller.id }, o.now())
  })
  o.emit({ kind: 'run', runId: caller.runId })
  o.emit({ kind: 'inputs' })
  return input.externalId
}
