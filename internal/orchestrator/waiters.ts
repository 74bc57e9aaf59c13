/**
 * Select waiters (semantics.md §14.4): answered when one of their handles resolves, moved along
 * successor chains otherwise.
 */
import type { ResultRecord } from '../store/index.ts'
import { cancelExecution } from './cancellation.ts'
import type { Orchestrator } from './orchestrator.ts'
import type { Waiter } from './types.ts'

/** The first resolved handle in the given order, if any. */
export function firstResolved(o: Orchestrator, waiter: Pick<Waiter, 'handles'>): { index: number; result: ResultRecord } | null {
  for (let i = 0; i < waiter.handles.length; i++) {
    const handle = waiter.handles[i]!
    if (handle.kind !== 'execution') continue
    const r = o.resolve(handle.id)
    if (r.final) return { index: i, result: r.result }
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
  waiter.reply(o.selectReply(won.index, won.result))
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
