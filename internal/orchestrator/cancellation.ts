/**
 * Cancellation with its cascade, and reruns (semantics.md §15).
 */
import { ApiError, notFound } from '../protocol/errors.ts'
import { parseStepId } from '../protocol/ids.ts'
import type { ResultTypeName } from '../store/index.ts'
import type { Core } from './core.ts'
import { resumedFrom } from './reattachment.ts'
import { ensureRunActive } from './rotation.ts'

/** Successors that stay within the same logical call (cached/deferred point at other calls). */
const SAME_CALL: ReadonlySet<ResultTypeName> = new Set(['error', 'abandoned', 'timeout', 'suspended', 'recurred', 'spawned'])

/** §15.1 step 1: the execution of this call that has no result yet (or the last one). */
export function activeExecution(o: Core, executionId: number): number {
  let id = executionId
  const seen = new Set<number>()
  for (;;) {
    seen.add(id)
    const result = o.store.results.get(id)
    if (!result || result.successorId === null || !SAME_CALL.has(result.type) || seen.has(result.successorId)) return id
    id = result.successorId
  }
}

/** Records `cancelled` (if result-less) and kills the process if it is assigned. */
function cancelOne(o: Core, executionId: number): void {
  const live = o.queue.get(executionId)
  o.waiters.removeOfCaller(executionId)
  const wrote = o.recordResult(executionId, { type: 'cancelled' })
  if (wrote && live?.sessionId != null) o.sessions.get(live.sessionId)?.send([1, { command: 'abort', params: [live.exec.externalId] }])
}

export function cancelExecution(o: Core, executionId: number, workspaceId: number): void {
  const active = activeExecution(o, executionId)
  cancelOne(o, active)
  cancelDescendants(o, active, workspaceId)
}

/**
 * Cancels every result-less descendant in `workspaceId`: executions of steps called by an
 * execution, and runs spawned from it, transitively (§15.1 step 4).
 */
export function cancelDescendants(o: Core, rootId: number, workspaceId: number): void {
  const stack = [rootId]
  const visited = new Set<number>()
  while (stack.length > 0) {
    const id = stack.pop()!
    if (visited.has(id)) continue
    visited.add(id)
    const result = o.store.results.get(id)
    if (result?.successorId != null && SAME_CALL.has(result.type)) {
      // a descendant's successor is a descendant too (its spawned run, a retry there); the
      // root's own successor is not (the retry of a timed-out execution runs)
      if (id !== rootId) cancelIfIncomplete(o, result.successorId, workspaceId)
      stack.push(result.successorId)
    }
    // a resumed attempt adopted its predecessor's children (reattachment.ts): its descendants too
    const exec = o.execution(id)
    const predecessor = exec ? resumedFrom(o, exec) : null
    if (predecessor) stack.push(predecessor.id)
    for (const stepId of o.store.runs.stepIdsCalledBy(id)) {
      for (const child of o.store.runs.executionsOfStep(stepId)) {
        if (child.workspaceId === workspaceId && !o.store.results.get(child.id)) cancelOne(o, child.id)
        stack.push(child.id)
      }
    }
  }
}

function cancelIfIncomplete(o: Core, executionId: number, workspaceId: number): void {
  if (o.execution(executionId)?.workspaceId === workspaceId && !o.store.results.get(executionId)) cancelOne(o, executionId)
}

/** §15.3: a new attempt of a step in `workspaceId` (the step's base workspace or a descendant). */
export function rerunStep(o: Core, stepExternalId: string, workspaceId: number): { executionId: string; attempt: number } {
  const parsed = parseStepId(stepExternalId)
  if (!parsed) throw new ApiError(400, 'bad_request', 'invalid step id', { stepId: 'invalid' })
  const run = ensureRunActive(o, parsed.runId) // §23.2: copy-on-reference
  const step = run ? o.store.runs.getStepByNumber(run.id, parsed.step) : null
  if (!run || !step) throw notFound()
  const executions = o.store.runs.executionsOfStep(step.id)
  const base = step.parentExecutionId !== null ? o.execution(step.parentExecutionId)?.workspaceId : executions[0]?.workspaceId
  if (base === undefined || !o.store.workspaces.ancestry(workspaceId).includes(base)) throw notFound()
  for (const e of executions) {
    if (e.workspaceId === workspaceId && !o.store.results.get(e.id)) cancelExecution(o, e.id, workspaceId)
  }
  const exec = o.store.runs.createExecution(step.id, workspaceId, null, o.now(), null, step)
  o.track(exec)
  o.emit({ kind: 'run', runId: run.id })
  o.wake()
  return { executionId: exec.externalId, attempt: exec.attempt }
}
