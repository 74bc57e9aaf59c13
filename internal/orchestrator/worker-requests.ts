/**
 * Frames from a worker session (http-api.md §14, parameter layouts in protocol/worker.ts):
 * validated here, then applied to the orchestrator. A malformed frame is a ProtocolError (the
 * connection is closed); a request the server refuses gets an error reply.
 */
import { ProtocolError } from '../protocol/errors.ts'
import { toNumber } from '../protocol/json.ts'
import { isBlobKey, parseServerValue, type ServerValue } from '../protocol/values.ts'
import type { WorkerFrame } from '../protocol/worker.ts'
import type { DeclaredTargets } from '../protocol/executor.ts'
import type { CacheConfig, ErrorInfo, ExecutionRecord } from '../store/index.ts'
import { cancelExecution } from './cancellation.ts'
import { submitInput } from './input-submission.ts'
import { cancelInput, inputByExternalId } from './inputs.ts'
import { defineMetric } from './metrics.ts'
import type { Orchestrator } from './orchestrator.ts'
import { parseTagSet } from './routing.ts'
import { declareTargets, markStarted, notifyTerminated, recordHeartbeats, sendToSession } from './sessions.ts'
import { submitStep, type StepOptions } from './submissions.ts'
import type { LiveSession, ResolvedHandle } from './types.ts'
import { cancelLosers, firstResolved } from './waiters.ts'

/** A refused request: answered with `[3, id, message]`. */
export class RequestError extends Error {
  override readonly name = 'RequestError'
}

/** A frame naming an execution this session does not hold: close 4000 `execution_invalid`. */
export class ExecutionInvalidError extends Error {
  override readonly name = 'ExecutionInvalidError'
}

export interface FrameContext {
  session: LiveSession
  reply(id: number, result: unknown): void
  fail(id: number, message: string): void
}

const KEYED: ReadonlySet<string> = new Set(['submit', 'cancel', 'suspend', 'put_asset', 'get_asset', 'submit_input'])

export function handleWorkerFrame(o: Orchestrator, ctx: FrameContext, frame: WorkerFrame): void {
  const { id, key } = frame
  const remembered = key !== undefined && KEYED.has(frame.request) ? o.replies.get(key) : undefined
  if (remembered !== undefined && id !== undefined) {
    ctx.reply(id, remembered)
    return
  }
  const answer = (result: unknown, executionId?: number) => {
    if (key !== undefined && KEYED.has(frame.request)) {
      o.replies.set(key, result)
      if (executionId !== undefined) {
        const list = o.repliesByExecution.get(executionId) ?? []
        list.push(key)
        o.repliesByExecution.set(executionId, list)
      }
    }
    if (id !== undefined) ctx.reply(id, result)
  }
  try {
    dispatch(o, ctx, frame, answer)
  } catch (err) {
    if (err instanceof RequestError && id !== undefined) ctx.fail(id, err.message)
    else throw err
  }
}

function dispatch(o: Orchestrator, ctx: FrameContext, frame: WorkerFrame, answer: (r: unknown, e?: number) => void): void {
  const p = frame.params
  const { session } = ctx
  switch (frame.request) {
    case 'declare_targets':
      declareTargets(o, session, parseTargets(p[0]), int(p[1] ?? 1, 'concurrency'))
      return
    case 'session_draining':
      session.draining = true
      o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
      return
    case 'record_heartbeats':
      recordHeartbeats(o, session, parseHeartbeats(p[0]))
      return
    case 'started':
      markStarted(o, session, held(o, session, p[0]).id)
      return
    case 'register_group': {
      const exec = held(o, session, p[0])
      o.store.runs.registerGroup(exec.id, int(p[1], 'group id'), optionalString(p[2], 'group name'))
      o.emit({ kind: 'run', runId: exec.runId })
      return
    }
    case 'define_metric':
      defineMetric(o, held(o, session, p[0]), p[1], p[2])
      return
    case 'put_result': {
      const exec = held(o, session, p[0])
      const value = parseValue(p[1])
      o.recordResult(exec.id, { type: 'value', valueId: o.store.values.put(value) })
      acknowledgeResult(session, exec)
      return
    }
    case 'put_error': {
      const exec = held(o, session, p[0])
      const { error, retryable } = parseError(p[1])
      o.recordResult(exec.id, { type: 'error', error, retryable })
      acknowledgeResult(session, exec)
      return
    }
    case 'put_timeout': {
      const exec = held(o, session, p[0])
      o.recordResult(exec.id, { type: 'timeout' })
      acknowledgeResult(session, exec)
      return
    }
    case 'notify_terminated': {
      const ids = Array.isArray(p[0]) ? p[0] : [p[0]]
      notifyTerminated(o, session, ids.map((x) => held(o, session, x).id))
      return
    }
    case 'submit': {
      const parent = held(o, session, p[4])
      const exec = submitStep(o, parent, name(p[0], 'module'), name(p[1], 'target'), parseValues(p[3]), optionalInt(p[5]), parseStepOptions(p))
      answer([exec.externalId, exec.module, exec.target], parent.id)
      return
    }
    case 'select':
      handleSelect(o, ctx, frame, held(o, session, p[1]))
      return
    case 'cancel': {
      const caller = held(o, session, p[1])
      for (const handle of parseHandles(o, p[0], caller, false)) {
        if (handle.kind === 'input') cancelInput(o, handle.id)
        else if (!o.resolve(handle.id).final) cancelExecution(o, handle.id, caller.workspaceId)
      }
      answer(null, caller.id)
      return
    }
    case 'suspend': {
      const caller = held(o, session, p[0])
      const after = p[1] === null || p[1] === undefined ? null : toNumber(p[1])
      if (after !== null && (after === undefined || !Number.isInteger(after))) throw new RequestError('execute_after must be an integer')
      answer(null, caller.id)
      suspendCaller(o, session, caller, [], after !== null && after > o.now() ? after : null)
      return
    }
    case 'put_asset': {
      const caller = held(o, session, p[0])
      const asset = o.store.assets.put(optionalString(p[1], 'asset name'), parseAssetEntries(p[2]), caller.id, o.now())
      o.emit({ kind: 'run', runId: caller.runId })
      answer([asset.externalId, asset.name, asset.totalCount, asset.totalSize], caller.id)
      return
    }
    case 'get_asset': {
      const caller = held(o, session, p[1])
      const asset = o.store.assets.getByExternalId(str(p[0], 'asset id'))
      if (!asset) throw new RequestError('not_found')
      o.store.assets.recordUse(asset.id, caller.id)
      const entries = o.store.assets.entries(asset.id)
      answer(Object.fromEntries(Object.entries(entries).map(([path, e]) => [path, [e.blobKey, e.size, e.metadata]])), caller.id)
      o.emit({ kind: 'run', runId: caller.runId })
      return
    }
    case 'submit_input': {
      const caller = held(o, session, p[0])
      answer(submitInput(o, caller, p), caller.id)
      return
    }
    default: {
      const unknown: never = frame.request as never
      throw new ProtocolError(`unknown request: ${String(unknown)}`)
    }
  }
}

function acknowledgeResult(session: LiveSession, exec: ExecutionRecord): void {
  // the result is committed (or already existed): the worker may forget it
  if (session.channel?.supportsAcks) session.channel.send([4, exec.externalId, 'result'])
}

// ---------------------------------------------------------------------------------------------
// select and suspension (semantics.md §14)

function handleSelect(o: Orchestrator, ctx: FrameContext, frame: WorkerFrame, caller: ExecutionRecord): void {
  const p = frame.params
  const id = frame.id
  const handles = parseHandles(o, p[0], caller, true)
  if (handles.length === 0) throw new RequestError('no handles')
  const timeout = p[2] === null || p[2] === undefined ? null : Math.max(0, int(p[2], 'timeout'))
  const suspend = p[3] === true
  const cancelRemaining = p[4] === true
  const reply = (value: unknown) => {
    if (id !== undefined) ctx.reply(id, value)
  }
  const won = firstResolved(o, { handles })
  if (won) {
    reply(won.reply)
    if (cancelRemaining) cancelLosers(o, { handles, callerId: caller.id }, won.index)
    return
  }
  if (timeout === 0) {
    if (suspend) suspendCaller(o, ctx.session, caller, handles, null)
    else reply(null)
    return
  }
  o.addWaiter(
    { sessionId: ctx.session.record.id, callerId: caller.id, handles, suspend, cancelRemaining, reply, key: frame.key },
    timeout,
    (w) => {
      o.removeWaiter(w)
      if (w.suspend) suspendCaller(o, ctx.session, caller, handles, null)
      else w.reply(null)
    },
  )
}

/**
 * §14.5/§14.6: record `suspended` with a successor attempt (gated on the pending handles, any-of,
 * or due at `executeAfter`) and kill the running process.
 */
export function suspendCaller(
  o: Orchestrator,
  session: LiveSession,
  caller: ExecutionRecord,
  handles: ResolvedHandle[],
  executeAfter: number | null,
): void {
  const now = o.now()
  const successor = o.store.transaction(() => {
    if (o.store.results.get(caller.id)) return null
    const next = o.store.runs.createExecution(caller.stepId, caller.workspaceId, executeAfter, now)
    for (const h of handles) {
      if (h.kind === 'execution') o.store.runs.addSuspensionGate(next.id, h.id, null)
      else o.store.runs.addSuspensionGate(next.id, null, h.id)
    }
    return next
  })
  if (!successor) return
  o.removeWaitersOfCaller(caller.id)
  o.recordResult(caller.id, { type: 'suspended', successorId: successor.id })
  o.track(successor)
  sendToSession(session, [1, { command: 'abort', params: [caller.externalId] }])
  o.wake()
}

// ---------------------------------------------------------------------------------------------
// Parameter parsing

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ProtocolError(`${what} must be a string`)
  return v
}

function optionalString(v: unknown, what: string): string | null {
  return v === null || v === undefined ? null : str(v, what)
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

function name(v: unknown, what: string): string {
  const s = str(v, what)
  if (s.length > 100 || !NAME.test(s)) throw new RequestError(`invalid ${what}: ${s}`)
  return s
}

function int(v: unknown, what: string): number {
  const n = toNumber(v)
  if (n === undefined || !Number.isInteger(n)) throw new ProtocolError(`${what} must be an integer`)
  return n
}

function optionalInt(v: unknown): number | null {
  return v === null || v === undefined ? null : int(v, 'integer')
}

/** The execution named by a frame; it must be assigned to this session. */
function held(o: Orchestrator, session: LiveSession, v: unknown): ExecutionRecord {
  const exec = typeof v === 'string' ? o.executionByExternalId(v) : null
  if (!exec || o.store.results.assignment(exec.id)?.sessionId !== session.record.id) {
    throw new ExecutionInvalidError(`execution not held by this session: ${String(v)}`)
  }
  return exec
}

function parseValue(v: unknown): ServerValue {
  return parseServerValue(v)
}

function parseValues(v: unknown): ServerValue[] {
  if (!Array.isArray(v)) throw new ProtocolError('arguments must be a list')
  if (v.length > 20) throw new RequestError('at most 20 arguments')
  return v.map(parseValue)
}

function parseTargets(v: unknown): DeclaredTargets {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('targets must be an object')
  const out: DeclaredTargets = {}
  for (const [module, byType] of Object.entries(v as Record<string, unknown>)) {
    if (!byType || typeof byType !== 'object') throw new ProtocolError('bad targets')
    const entry: DeclaredTargets[string] = {}
    for (const type of ['task', 'workflow'] as const) {
      const names = (byType as Record<string, unknown>)[type]
      if (names === undefined || names === null) continue
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new ProtocolError('bad targets')
      entry[type] = names as string[]
    }
    out[module] = entry
  }
  return out
}

function parseHeartbeats(v: unknown): Record<string, number> {
  if (v === null || v === undefined) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('heartbeats must be an object')
  return v as Record<string, number>
}

function parseError(v: unknown): { error: ErrorInfo; retryable: boolean | null } {
  if (!Array.isArray(v) || v.length < 2) throw new ProtocolError('error must be [type, message, frames]')
  const frames = Array.isArray(v[2]) ? v[2] : []
  return {
    error: {
      type: str(v[0], 'error type'),
      message: typeof v[1] === 'string' ? v[1] : String(v[1] ?? ''),
      frames: frames.map((f) => {
        if (!Array.isArray(f)) throw new ProtocolError('bad frame')
        return [String(f[0] ?? ''), toNumber(f[1]) ?? 0, String(f[2] ?? ''), f[3] === null || f[3] === undefined ? null : String(f[3])]
      }),
    },
    retryable: typeof v[3] === 'boolean' ? v[3] : null,
  }
}

function parseHandles(o: Orchestrator, v: unknown, caller: ExecutionRecord, recordUse: boolean): ResolvedHandle[] {
  if (!Array.isArray(v)) throw new ProtocolError('handles must be a list')
  return v.map((h) => {
    const kind = Array.isArray(h) ? h[0] : (h as { type?: unknown })?.type
    const ref = Array.isArray(h) ? h[1] : (h as { id?: unknown })?.id
    if (kind === 'execution') {
      const exec = typeof ref === 'string' ? o.executionByExternalId(ref) : null
      if (!exec) throw new RequestError('not_found')
      if (recordUse) o.store.runs.recordDependency(caller.id, exec.id)
      return { kind: 'execution', id: exec.id }
    }
    if (kind === 'input') {
      const input = inputByExternalId(o, ref)
      if (!input) throw new RequestError('input_not_found')
      if (recordUse) o.store.inputs.link(input.id, caller.id, 'selected')
      return { kind: 'input', id: input.id }
    }
    throw new ProtocolError('bad handle')
  })
}

function indexes(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > 20) throw new RequestError(`invalid ${what}`)
  return v.map((i) => {
    const n = toNumber(i)
    if (n === undefined || !Number.isInteger(n) || n < 0) throw new RequestError(`invalid ${what}`)
    return n
  })
}

function parseStepOptions(p: unknown[]): StepOptions {
  const type = p[2] === 'workflow' ? 'workflow' : 'task'
  const waitFor = p[6] === true ? true : p[6] === null || p[6] === undefined ? [] : indexes(p[6], 'wait_for')
  let cache: CacheConfig | null = null
  if (p[7] && typeof p[7] === 'object') {
    const c = p[7] as Record<string, unknown>
    cache = {
      params: c.params === true || c.params === undefined || c.params === null ? true : c.params === false ? false : indexes(c.params, 'cache params'),
      maxAge: c.max_age === null || c.max_age === undefined ? null : int(c.max_age, 'max_age'),
      namespace: c.namespace === null || c.namespace === undefined ? null : str(c.namespace, 'namespace'),
      version: c.version === null || c.version === undefined ? null : str(c.version, 'version'),
    }
  }
  let defer: StepOptions['defer'] = null
  if (p[8] && typeof p[8] === 'object') {
    const d = (p[8] as Record<string, unknown>).params
    defer = { params: d === true || d === undefined || d === null ? true : indexes(d, 'defer params') }
  }
  const memo = p[9] === true ? true : p[9] === false ? false : p[9] === null || p[9] === undefined ? null : indexes(p[9], 'memo')
  let retries: StepOptions['retries'] = null
  if (p[11] && typeof p[11] === 'object') {
    const r = p[11] as Record<string, unknown>
    const limit = r.limit === null || r.limit === undefined ? -1 : int(r.limit, 'retry limit')
    if (limit !== 0) {
      retries = {
        limit,
        backoffMin: r.backoff_min === undefined || r.backoff_min === null ? 0 : int(r.backoff_min, 'backoff_min'),
        backoffMax: r.backoff_max === undefined || r.backoff_max === null ? 0 : int(r.backoff_max, 'backoff_max'),
      }
    }
  }
  const requires = p[13] === null || p[13] === undefined ? null : parseTagSet(p[13], { allowEmptyLists: true })
  if (requires === null && p[13] !== null && p[13] !== undefined) throw new RequestError('invalid requires')
  const delay = Math.max(0, Math.trunc(toNumber(p[10]) ?? 0))
  const timeout = p[14] === null || p[14] === undefined ? 0 : Math.max(0, int(p[14], 'timeout'))
  return { type, waitFor, cache, defer, memo, delay, retries, recurrent: p[12] === true, timeout, requires }
}

function parseAssetEntries(v: unknown): Record<string, { blobKey: string; size: number; metadata: Record<string, unknown> }> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RequestError('entries must be an object')
  const out: Record<string, { blobKey: string; size: number; metadata: Record<string, unknown> }> = {}
  for (const [path, entry] of Object.entries(v as Record<string, unknown>)) {
    if (!Array.isArray(entry) || !isBlobKey(entry[0])) throw new RequestError(`invalid entry ${path}`)
    if (path.length === 0 || path.length > 1000 || path.startsWith('/') || path.split('/').includes('..')) {
      throw new RequestError(`invalid entry path ${path}`)
    }
    const size = toNumber(entry[1])
    if (size === undefined || !Number.isInteger(size) || size < 0) throw new RequestError(`invalid size for ${path}`)
    const metadata = entry[2] && typeof entry[2] === 'object' && !Array.isArray(entry[2]) ? (entry[2] as Record<string, unknown>) : {}
    out[path] = { blobKey: entry[0], size, metadata }
  }
  if (Object.keys(out).length === 0) throw new RequestError('asset has no entries')
  return out
}
