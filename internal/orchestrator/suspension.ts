/**
 * Suspension (semantics.md §14.5, §14.6): the running execution records `suspended` with a
 * successor attempt, gated on the handles it waited for (any-of) or due at `executeAfter`, and
 * its process is aborted.
 */
import type { ExecutionRecord } from '../store/index.ts'
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'
import type { ResolvedHandle } from './types.ts'

export function suspendCaller(o: Core, session: LiveSession, caller: ExecutionRecord, handles: ResolvedHandle[], executeAfter: number | null): void {
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
  o.waiters.removeOfCaller(caller.id)
  o.recordResult(caller.id, { type: 'suspended', successorId: successor.id })
  o.track(successor)
  session.send([1, { command: 'abort', params: [caller.externalId] }])
  o.wake()
}
