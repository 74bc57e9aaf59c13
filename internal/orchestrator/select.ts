/**
 * Waiting on handles (semantics.md §14): the answer to a select, answering waiters when one of
 * their handles resolves (an execution's final result, an input's response), re-registering
 * them along successor chains otherwise, and cancelling the losers when asked.
 */
import { RawJson } from '../protocol/json.ts'
import type { SelectReply } from '../protocol/worker.ts'
import type { ExecutionRecord, InputResponseRecord, ResultRecord } from '../store/index.ts'
import { cancelExecution } from './cancellation.ts'
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'
import { suspendCaller } from './suspension.ts'
import type { ResolvedHandle } from './types.ts'
import type { Waiter } from './waiter-registry.ts'

/** The select answer for a final resolution (executor-protocol.md §6.2). */
export function resultSelectReply(o: Core, winner: number, result: ResultRecord): SelectReply {
  switch (result.type) {
    case 'value':
    case 'cached':
    case 'deferred':
    case 'spawned': {
      const value = result.valueId !== null ? o.store.values.get(result.valueId) : null
      return { winner, status: 'ok', value: value ? o.refillValue(value) : ['raw', new RawJson('null'), []] }
    }
    case 'error':
      return { winner, status: 'error', error: result.error ?? { type: 'builtins.Exception', message: '', frames: [] } }
    case 'abandoned':
      return { winner, status: 'abandoned' }
    case 'timeout':
      return { winner, status: 'timeout' }
    default:
      return { winner, status: 'cancelled' }
  }
}

/**
 * The select answer for an input's response (executor-protocol.md §6.2): the response is raw
 * JSON exactly as given, never converted to tagged dicts (values.md §7).
 */
export function inputSelectReply(winner: number, response: InputResponseRecord): SelectReply {
  switch (response.type) {
    case 'value':
      return { winner, status: 'ok', value: ['raw', new RawJson(response.value ?? 'null'), []] }
    case 'dismissed':
      return { winner, status: 'dismissed' }
    case 'cancelled':
      return { winner, status: 'cancelled' }
  }
}

/** The first resolved handle in the given order, with its answer, if any. */
export function firstResolved(o: Core, waiter: Pick<Waiter, 'handles'>): { index: number; reply: SelectReply } | null {
  for (let i = 0; i < waiter.handles.length; i++) {
    const handle = waiter.handles[i]!
    if (handle.kind === 'input') {
      const response = o.store.inputs.response(handle.id)
      if (response) return { index: i, reply: inputSelectReply(i, response) }
      continue
    }
    const r = o.resolve(handle.id)
    if (r.final) return { index: i, reply: resultSelectReply(o, i, r.result) }
  }
  return null
}

/** Something the waiter watches resolved or moved on: answer it, or watch the successor. */
export function reevaluateWaiter(o: Core, waiter: Waiter): void {
  const won = firstResolved(o, waiter)
  if (!won) {
    o.waiters.rewatch(waiter)
    return
  }
  o.waiters.remove(waiter)
  waiter.reply(won.reply)
  // the caller runs again and takes a slot (it may exceed the concurrency for a while)
  const session = o.sessions.get(waiter.sessionId)
  if (session) o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
  if (waiter.cancelRemaining) cancelLosers(o, waiter, won.index)
}

/** §14.3: cancel the other execution handles that are still pending (never inputs). */
export function cancelLosers(o: Core, waiter: Pick<Waiter, 'handles' | 'callerId'>, winner: number): void {
  const caller = o.execution(waiter.callerId)
  if (!caller) return
  waiter.handles.forEach((handle, i) => {
    if (i === winner || handle.kind !== 'execution') return
    if (!o.resolve(handle.id).final) cancelExecution(o, handle.id, caller.workspaceId)
  })
}

export interface SelectRequest {
  handles: ResolvedHandle[]
  /** ms; 0 polls, null waits indefinitely */
  timeout: number | null
  /** on timeout, suspend instead of answering null (§14.5) */
  suspend: boolean
  cancelRemaining: boolean
  key?: string
  reply: (value: unknown) => void
}

/** `select` (§14.1): answered now when a handle has resolved, else a waiter is registered. */
export function startSelect(o: Core, session: LiveSession, caller: ExecutionRecord, request: SelectRequest): void {
  const { handles, timeout, suspend, cancelRemaining, key, reply } = request
  const won = firstResolved(o, { handles })
  if (won) {
    reply(won.reply)
    if (cancelRemaining) cancelLosers(o, { handles, callerId: caller.id }, won.index)
    return
  }
  if (timeout === 0) {
    if (suspend) suspendCaller(o, session, caller, handles, null)
    else reply(null)
    return
  }
  const spec = { sessionId: session.id, callerId: caller.id, handles, suspend, cancelRemaining, timeoutMs: timeout, reply, key }
  o.waiters.add(spec, o.now(), (w) => {
    o.waiters.remove(w)
    if (w.suspend) suspendCaller(o, session, caller, handles, null)
    else w.reply(null)
  })
  // the caller no longer runs: its slot is free for other work (see capacity.ts)
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
  o.wake()
}
