/**
 * Recording results with their consequences (semantics.md §4): the retry policy and recurrence
 * are applied when the result is written, so a result's successor never changes (§4.2); then
 * the execution leaves the queue, its slot is marked finished, the successor is queued, and
 * what waited on it is released.
 */
import type { ExecutionRecord, NewResult, OrchestrationStore, ResultTypeName, StepRecord } from '../store/index.ts'
import { cancelDescendants } from './cancellation.ts'
import type { Core, Resolution, ResultContext } from './core.ts'
import { releaseExecution } from './release.ts'
import { isRetryable, retryDelay } from './retries.ts'

/** Result types whose successor continues the same logical call's resolution. */
const FOLLOWED: ReadonlySet<ResultTypeName> = new Set(['error', 'abandoned', 'timeout', 'suspended', 'recurred', 'deferred', 'cached', 'spawned'])

/** Follows successors to the final result, or to the execution that is still pending. */
export function resolveCall(store: OrchestrationStore, executionId: number): Resolution {
  let id = executionId
  const seen = new Set<number>()
  for (;;) {
    seen.add(id)
    const result = store.results.get(id)
    if (!result) return { final: false, executionId: id }
    if (result.successorId !== null && FOLLOWED.has(result.type) && !seen.has(result.successorId)) {
      id = result.successorId
      continue
    }
    return { final: true, executionId: id, result }
  }
}

/** Records a result unless one exists (first write wins); returns whether this call wrote it. */
export function recordResult(o: Core, executionId: number, input: NewResult, context: ResultContext = {}): boolean {
  // a queued execution has no result by definition (the queue drops it when one is written)
  const queued = o.queue.get(executionId)
  if (!queued && o.store.results.get(executionId)) return false
  const exec = queued?.exec ?? o.execution(executionId)
  if (!exec) return false
  const step = queued?.step ?? o.store.runs.getStep(exec.stepId)!
  const now = o.now()
  let result: NewResult = input
  let successor: ExecutionRecord | null = null
  const written = o.store.transaction(() => {
    if (input.successorId == null && isRetryable(input.type, input.retryable ?? null) && step.retryLimit !== 0) {
      const policy = { limit: step.retryLimit, backoffMin: step.backoffMin, backoffMax: step.backoffMax }
      const delay = retryDelay(policy, previousResults(o, exec))
      if (delay !== null) successor = o.store.runs.createExecution(step.id, exec.workspaceId, delay > 0 ? now + delay : null, now, null, step)
    }
    if (successor === null && input.successorId == null && input.type === 'abandoned' && context.workerLost && shouldResume(o, exec, step)) {
      // durable waiting: a workflow lost with its worker resumes (re-attaching its children)
      successor = o.store.runs.createExecution(step.id, exec.workspaceId, null, now, null, step)
    } else if (input.type === 'value' && step.recurrent && isNullValue(o, input.valueId ?? null)) {
      result = { ...input, type: 'recurred' }
      successor = o.store.runs.createExecution(step.id, exec.workspaceId, step.delay > 0 ? now + step.delay : null, now, null, step)
    }
    const successorId = input.successorId ?? (successor as ExecutionRecord | null)?.id ?? null
    return o.store.results.record(executionId, { ...result, successorId }, now)
  })
  if (!written) return false
  afterResult(o, exec, step, result.type, successor)
  return true
}

/** Result types of the step's earlier executions in the same workspace, newest first (§8.3). */
function previousResults(o: Core, exec: ExecutionRecord): (ResultTypeName | null)[] {
  return o.store.runs
    .executionsOfStep(exec.stepId)
    .filter((e) => e.id !== exec.id && e.workspaceId === exec.workspaceId && e.attempt < exec.attempt)
    .sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt)
    .map((e) => o.store.results.get(e.id)?.type ?? null)
}

/**
 * A workflow abandoned (its worker died or lost its session) is resumed while the call has been
 * abandoned at most `resumeLimit` times; tasks never are (they may have side effects).
 */
function shouldResume(o: Core, exec: ExecutionRecord, step: StepRecord): boolean {
  if (step.type !== 'workflow' || step.resumeLimit <= 0) return false
  const abandoned = previousResults(o, exec).filter((type) => type === 'abandoned').length + 1
  return abandoned <= step.resumeLimit
}

function isNullValue(o: Core, valueId: number | null): boolean {
  if (valueId === null) return true
  const value = o.store.values.get(valueId)
  return !!value && value[0] === 'raw' && value[1].text === 'null' && value[2].length === 0
}

function afterResult(o: Core, exec: ExecutionRecord, step: StepRecord, type: ResultTypeName, successor: ExecutionRecord | null): void {
  const live = o.queue.remove(exec.id)
  if (live?.sessionId != null) o.sessions.get(live.sessionId)?.finish(exec.id)
  // §14.4: it no longer runs, so a select it was blocked in is over, whoever ended it
  o.waiters.removeOfCaller(exec.id)
  if (successor) o.track(successor, step)
  // waiters and dependents move to the successor or get their answer
  releaseExecution(o, exec.id)
  // §9: a timeout cancels the incomplete descendants; cancellation cascades from cancellation.ts
  if (type === 'timeout') cancelDescendants(o, exec.id, exec.workspaceId)
  o.replies.expireWith(exec.id)
  o.emit({ kind: 'run', runId: exec.runId })
  o.emit({ kind: 'queue', workspaceId: exec.workspaceId })
  o.wake()
}
