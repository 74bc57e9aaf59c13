/**
 * Answering inputs (semantics.md §26, §15.2): one response per input — a value, a dismissal or
 * a cancellation — and what it releases: select waiters on the input, executions gated on it
 * (suspended successors, `wait_for`), and topics.
 */
import type { InputRecord } from '../store/index.ts'
import type { Core } from './core.ts'
import { releaseInput } from './release.ts'

export type InputAnswer = { type: 'value'; value: string } | { type: 'dismissed' } | { type: 'cancelled' }

/**
 * Records the answer (`value` is the response's JSON text). Returns false when the input
 * already has a response: the first one is final.
 */
export function answerInput(o: Core, input: InputRecord, answer: InputAnswer, createdBy: number | null = null): boolean {
  const value = answer.type === 'value' ? answer.value : null
  if (!o.store.inputs.respond(input.id, answer.type, value, createdBy, o.now())) return false
  release(o, input)
  return true
}

/** §15.2: `cancel` with an input handle; an input that already has a response is left alone. */
export function cancelInput(o: Core, inputId: number): void {
  const input = o.store.inputs.get(inputId)
  if (input) answerInput(o, input, { type: 'cancelled' })
}

function release(o: Core, input: InputRecord): void {
  releaseInput(o, input.id)
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
