/**
 * Frames from a worker session (http-api.md §14, parameter layouts in protocol/worker.ts):
 * validated here, then applied to the orchestrator. A malformed frame is a ProtocolError (the
 * connection is closed); a request the server refuses gets an error reply.
 */
import { ProtocolError } from '../protocol/errors.ts'
import { toNumber } from '../protocol/json.ts'
import type { WorkerFrame } from '../protocol/worker.ts'
import type { ExecutionRecord } from '../store/index.ts'
import { cancelExecution } from './cancellation.ts'
import { submitInput } from './input-submission.ts'
import { cancelInput } from './inputs.ts'
import { defineMetric } from './metrics.ts'
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'
import { ensureAssetActive, ensureExecutionActive, ensureInputActive, ensureReferencesActive } from './rotation.ts'
import { startSelect } from './select.ts'
import { declareTargets, drainSession, markStarted, notifyTerminated, recordHeartbeats } from './sessions.ts'
import { submitStep } from './submissions.ts'
import { suspendCaller } from './suspension.ts'
import { ExecutionInvalidError, RequestError } from './request-errors.ts'
import {
  int,
  name,
  optionalInt,
  optionalString,
  parseAssetEntries,
  parseError,
  parseHeartbeats,
  parseStepOptions,
  parseTargets,
  parseValue,
  parseValues,
  str,
} from './request-params.ts'
import type { ResolvedHandle } from './types.ts'

export interface FrameContext {
  session: LiveSession
  reply(id: number, result: unknown): void
  fail(id: number, message: string): void
}

const KEYED: ReadonlySet<string> = new Set(['submit', 'cancel', 'suspend', 'put_asset', 'get_asset', 'submit_input'])

export function handleWorkerFrame(o: Core, ctx: FrameContext, frame: WorkerFrame): void {
  const { id, key } = frame
  const remembered = key !== undefined && KEYED.has(frame.request) ? o.replies.get(key) : undefined
  if (remembered !== undefined && id !== undefined) {
    ctx.reply(id, remembered)
    return
  }
  const answer = (result: unknown, executionId?: number) => {
    if (key !== undefined && KEYED.has(frame.request)) o.replies.remember(key, result, executionId)
    if (id !== undefined) ctx.reply(id, result)
  }
  try {
    dispatch(o, ctx, frame, answer)
  } catch (err) {
    if (err instanceof RequestError && id !== undefined) ctx.fail(id, err.message)
    else throw err
  }
}

function dispatch(o: Core, ctx: FrameContext, frame: WorkerFrame, answer: (r: unknown, e?: number) => void): void {
  const p = frame.params
  const { session } = ctx
  switch (frame.request) {
    case 'declare_targets':
      declareTargets(o, session, parseTargets(p[0]), int(p[1] ?? 1, 'concurrency'), p[2] === undefined || p[2] === null ? undefined : int(p[2], 'max_waiting'))
      return
    case 'session_draining':
      drainSession(o, session)
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
      const args = parseValues(p[3])
      ensureReferencesActive(o, args) // §23.2: handles in new arguments are copied from archives
      const exec = submitStep(o, parent, name(p[0], 'module'), name(p[1], 'target'), args, optionalInt(p[5]), parseStepOptions(p))
      answer([exec.externalId, exec.module, exec.target], parent.id)
      return
    }
    case 'select': {
      const caller = held(o, session, p[1])
      const handles = parseHandles(o, p[0], caller, true)
      if (handles.length === 0) throw new RequestError('no handles')
      const timeout = p[2] === null || p[2] === undefined ? null : Math.max(0, int(p[2], 'timeout'))
      const reply = (value: unknown) => {
        if (frame.id !== undefined) ctx.reply(frame.id, value)
      }
      startSelect(o, session, caller, { handles, timeout, suspend: p[3] === true, cancelRemaining: p[4] === true, key: frame.key, reply })
      return
    }
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
      const asset = ensureAssetActive(o, str(p[0], 'asset id'))
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
// Parameters that need the orchestrator (the rest are in request-params.ts)

/** The execution named by a frame; it must be assigned to this session. */
function held(o: Core, session: LiveSession, v: unknown): ExecutionRecord {
  const exec = typeof v === 'string' ? o.executionByExternalId(v) : null
  // the session's held set is the assignment in memory; the store answers for the rest (a
  // completion re-sent after a server restart names an execution the session no longer holds)
  if (!exec || (!session.holds(exec.id) && o.store.results.assignment(exec.id)?.sessionId !== session.record.id)) {
    throw new ExecutionInvalidError(`execution not held by this session: ${String(v)}`)
  }
  return exec
}

function parseHandles(o: Core, v: unknown, caller: ExecutionRecord, recordUse: boolean): ResolvedHandle[] {
  if (!Array.isArray(v)) throw new ProtocolError('handles must be a list')
  return v.map((h) => {
    const kind = Array.isArray(h) ? h[0] : (h as { type?: unknown })?.type
    const ref = Array.isArray(h) ? h[1] : (h as { id?: unknown })?.id
    if (kind === 'execution') {
      const exec = typeof ref === 'string' ? ensureExecutionActive(o, ref) : null
      if (!exec) throw new RequestError('not_found')
      if (recordUse) o.store.runs.recordDependency(caller.id, exec.id)
      return { kind: 'execution', id: exec.id }
    }
    if (kind === 'input') {
      const input = ensureInputActive(o, ref)
      if (!input) throw new RequestError('input_not_found')
      if (recordUse) o.store.inputs.link(input.id, caller.id, 'selected')
      return { kind: 'input', id: input.id }
    }
    throw new ProtocolError('bad handle')
  })
}


export { ExecutionInvalidError, RequestError }
