/**
 * Read-only questions about the orchestrator's state, asked by the rules and by the server's
 * topics: who waits on an input, what a queued execution waits for.
 */
import { parseInputId } from '../protocol/ids.ts'
import type { InputRecord } from '../store/index.ts'
import type { Core } from './core.ts'
import type { QueuedExecution } from './queue.ts'

/** The input with this id (`<run>/i<n>`, semantics.md §2), or null. */
export function inputByExternalId(o: Core, externalId: unknown): InputRecord | null {
  if (typeof externalId !== 'string' || !parseInputId(externalId)) return null
  return o.store.inputs.getByExternalId(externalId)
}

/**
 * Executions waiting on an unanswered input, lowest id first: callers blocked in a select on
 * it, and queued executions gated on it (http-api.md §11.3 `active`, `workspaces/<ws>/inputs`).
 */
export function waitingExecutions(o: Core, inputId: number): number[] {
  const ids = new Set([...o.waiters.callersWaitingOnInput(inputId), ...o.queue.dependentsOfInput(inputId)])
  return [...ids].sort((a, b) => a - b)
}

/** Inputs that some execution is waiting on. */
export function awaitedInputIds(o: Core): number[] {
  const ids = new Set([...o.waiters.awaitedInputIds(), ...o.queue.awaitedInputIds()])
  return [...ids].sort((a, b) => a - b)
}

/** External ids of what a queued execution waits for, executions first (queue topic, §11.2). */
export function pendingDependencyIds(o: Core, live: QueuedExecution): string[] {
  const executions = [...live.waitingOn, ...(live.gate ?? [])].map((id) => o.execution(id)?.externalId ?? String(id))
  const inputs = [...live.waitingOnInputs, ...live.gateInputs].map((id) => o.store.inputs.get(id)?.externalId ?? String(id))
  return [...new Set([...executions, ...inputs])]
}
