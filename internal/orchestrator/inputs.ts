/**
 * Answering inputs (semantics.md §26, §15.2): one response per input — a value, a dismissal or
 * a cancellation — and what it releases: select waiters on the input, executions gated on it
 * (suspended successors, `wait_for`), and topics.
 */
import { isRunId } from '../protocol/ids.ts'
import type { InputRecord } from '../store/index.ts'
import type { Orchestrator } from './orchestrator.ts'

export type InputAnswer = { type: 'value'; value: string } | { type: 'dismissed' } | { type: 'cancelled' }

/** The input with this id (`<run>/i<n>`, semantics.md §2), or null. */
export function inputByExternalId(o: Orchestrator, externalId: unknown): InputRecord | null {
  if (typeof externalId !== 'string') return null
  const at = externalId.lastIndexOf('/i')
  if (at < 0 || !isRunId(externalId.slice(0, at)) || !/^[1-9][0-9]{0,8}$/.test(externalId.slice(at + 2))) return null
  return o.store.inputs.getByExternalId(externalId)
}

/**
 * Records the answer (`value` is the response's JSON text). Returns false when the input
 * already has a response: the first one is final.
 */
export function answerInput(o: Orchestrator, input: InputRecord, answer: InputAnswer, createdBy: number | null = null): boolean {
  const value = answer.type === 'value' ? answer.value : null
  if (!o.store.inputs.respond(input.id, answer.type, value, createdBy, o.now())) return false
  release(o, input)
  return true
}

/** §15.2: `cancel` with an input handle; an input that already has a response is left alone. */
export function cancelInput(o: Orchestrator, inputId: number): void {
  const input = o.store.inputs.get(inputId)
  if (input) answerInput(o, input, { type: 'cancelled' })
}

function release(o: Orchestrator, input: InputRecord): void {
  o.release(o.inputWaiters, o.inputDependents, input.id)
  // run snapshots show the input's status where it was submitted and where it was used
  const runs = new Set([input.runId])
  for (const id of o.store.inputs.linkedExecutions(input.id)) {
    const e = o.execution(id)
    if (e) runs.add(e.runId)
  }
  for (const runId of runs) o.emit({ kind: 'run', runId })
  o.emit({ kind: 'inputs' })
  o.wake()
}

/**
 * Executions waiting on an unanswered input, lowest id first: callers blocked in a select on
 * it, and queued executions gated on it (http-api.md §11.3 `active`, `workspaces/<ws>/inputs`).
 */
export function waitingExecutions(o: Orchestrator, inputId: number): number[] {
  const ids = new Set<number>()
  for (const waiter of o.inputWaiters.get(inputId) ?? []) ids.add(waiter.callerId)
  for (const id of o.inputDependents.get(inputId) ?? []) ids.add(id)
  return [...ids].sort((a, b) => a - b)
}

/** Inputs that some execution is waiting on. */
export function awaitedInputIds(o: Orchestrator): number[] {
  const ids = new Set<number>()
  for (const [id, waiters] of o.inputWaiters) if (waiters.size > 0) ids.add(id)
  for (const [id, dependents] of o.inputDependents) if (dependents.size > 0) ids.add(id)
  return [...ids].sort((a, b) => a - b)
}
