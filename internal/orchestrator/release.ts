/**
 * Something others wait on resolved or moved on (an execution's result, an input's response):
 * its select waiters are answered or re-registered, and the queued executions that depended on
 * it have their dependencies recomputed.
 */
import type { Core } from './core.ts'
import { computeDependencies } from './dependencies.ts'
import { reevaluateWaiter } from './select.ts'

export function releaseExecution(o: Core, executionId: number): void {
  for (const waiter of o.waiters.watchersOf(executionId)) reevaluateWaiter(o, waiter)
  recompute(o, o.queue.takeDependents(executionId))
}

export function releaseInput(o: Core, inputId: number): void {
  for (const waiter of o.waiters.watchersOfInput(inputId)) reevaluateWaiter(o, waiter)
  recompute(o, o.queue.takeInputDependents(inputId))
}

function recompute(o: Core, ids: number[]): void {
  for (const id of ids) {
    if (!o.queue.isPending(id)) continue
    const dependent = o.queue.get(id)!
    computeDependencies(o, dependent)
    o.emit({ kind: 'queue', workspaceId: dependent.exec.workspaceId })
  }
}
