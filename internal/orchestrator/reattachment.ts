/**
 * Re-attachment (our Improvement to semantics.md §14.5, durable waiting): an attempt that
 * resumes a call after its predecessor was suspended or abandoned re-runs the function from the
 * top; each call it makes that matches the call its predecessor made at the same position (same
 * type, module, target and arguments) gets the predecessor's child back instead of a new step.
 * Finished children give their results at once, running ones are adopted, so resuming repeats
 * no work even without memo.
 *
 * Edge cases:
 * - the first call that differs (another target, other arguments, or a call the predecessor
 *   never made) ends the re-attachment: it and every later call create new steps;
 * - positions count the children linked to the attempt, so two calls answered by the same
 *   execution (a memo hit on a child already called) count once;
 * - only a successor of `suspended` or `abandoned` re-attaches: a retry after an error or a
 *   timeout starts afresh, and so does a manual rerun;
 * - chains work: an attempt re-attaches to what its predecessor had re-attached.
 * Stateless: everything is read from the children the store links to each attempt, so a server
 * restart in the middle changes nothing.
 */
import type { ExecutionRecord } from '../store/index.ts'
import type { Core } from './core.ts'

/** A call made by a running execution, as re-attachment compares it. */
export interface Call {
  type: 'task' | 'workflow'
  module: string
  target: string
  argumentIds: number[]
}

/** The attempt this execution resumes (its predecessor suspended or abandoned), if any. */
export function resumedFrom(o: Core, exec: ExecutionRecord): ExecutionRecord | null {
  if (exec.attempt === 1) return null
  for (const e of o.store.runs.executionsOfStep(exec.stepId)) {
    if (e.id === exec.id || e.workspaceId !== exec.workspaceId || e.attempt >= exec.attempt) continue
    const result = o.store.results.get(e.id)
    if (result?.successorId === exec.id && (result.type === 'suspended' || result.type === 'abandoned')) return e
  }
  return null
}

/** The predecessor's child this call re-attaches to, or null (a new step is created). */
export function reattachedChild(o: Core, parent: ExecutionRecord, call: Call): ExecutionRecord | null {
  const predecessor = resumedFrom(o, parent)
  if (!predecessor) return null
  const mine = o.store.runs.childrenOf(parent.id)
  const theirs = o.store.runs.childrenOf(predecessor.id)
  const position = mine.length
  if (position >= theirs.length) return null
  for (let i = 0; i < position; i++) if (mine[i]!.childId !== theirs[i]!.childId) return null
  const child = o.execution(theirs[position]!.childId)
  if (!child) return null
  const step = o.store.runs.getStep(child.stepId)
  if (!step || step.type !== call.type || step.module !== call.module || step.target !== call.target) return null
  const same = step.argumentIds.length === call.argumentIds.length && step.argumentIds.every((id, i) => id === call.argumentIds[i])
  return same ? child : null
}
