/**
 * Select waiters (semantics.md §14.4): answered when one of their handles resolves (an
 * execution's final result, an input's response), moved along successor chains otherwise.
 */
import { RawJson } from '../protocol/json.ts'
import type { SelectReply } from '../protocol/worker.ts'
import type { InputResponseRecord } from '../store/index.ts'
import { cancelExecution } from './cancellation.ts'
import type { Orchestrator } from './orchestrator.ts'
import type { Waiter } from './types.ts'

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
export function firstResolved(o: Orchestrator, waiter: Pick<Waiter, 'handles'>): { index: number; reply: SelectReply } | null {
  for (let i = 0; i < waiter.handles.length; i++) {
    const handle = waiter.handles[i]!
    if (handle.kind === 'input') {
      const response = o.store.inputs.response(handle.id)
      if (response) return { index: i, reply: inputSelectReply(i, response) }
      continue
    }
    const r = o.resolve(handle.id)
    if (r.final) return { index: i, reply: o.selectReply(i, r.result) }
  }
  return null
}

export function reevaluateWaiter(o: Orchestrator, waiter: Waiter): void {
  const won = firstResolved(o, waiter)
  if (!won) {
    o.watch(waiter)
    return
  }
  o.removeWaiter(waiter)
  waiter.reply(won.reply)
  if (waiter.cancelRemaining) cancelLosers(o, waiter, won.index)
}

/** §14.3: cancel the other execution handles that are still pending (never inputs). */
export function cancelLosers(o: Orchestrator, waiter: Pick<Waiter, 'handles' | 'callerId'>, winner: number): void {
  const caller = o.execution(waiter.callerId)
  if (!caller) return
  waiter.handles.forEach((handle, i) => {
    if (i === winner || handle.kind !== 'execution') return
    if (!o.resolve(handle.id).final) cancelExecution(o, handle.id, caller.workspaceId)
  })
}
