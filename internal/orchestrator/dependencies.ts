/**
 * Pending dependencies of a queued execution (semantics.md §13, §14.5): the all-of set of its
 * `wait_for` references, followed recursively through resolved values, and the any-of gate of
 * a suspended successor. Both kinds may name executions and inputs (an input counts as
 * resolved once it has a response). Recomputed whenever one of them gets a result.
 */
import type { ServerReference, ServerValue } from '../protocol/values.ts'
import type { Core } from './core.ts'
import type { QueuedExecution } from './queue.ts'

function referencesOf(value: ServerValue | null): ServerReference[] {
  if (!value) return []
  return value[0] === 'raw' ? value[2] : value[3]
}

function isAnswered(o: Core, inputId: number): boolean {
  return o.store.inputs.response(inputId) !== null
}

/** Recomputes what a pending execution waits on and registers it with the queue. */
export function computeDependencies(o: Core, live: QueuedExecution): void {
  const waitingOn = new Set<number>()
  const waitingOnInputs = new Set<number>()
  const { step } = live
  if (step.waitFor.length > 0) {
    const queue: number[] = []
    const referenced = (value: ServerValue | null) => {
      for (const ref of referencesOf(value)) {
        if (ref[0] === 'execution') {
          const e = o.executionByExternalId(ref[1])
          if (e) queue.push(e.id)
        } else if (ref[0] === 'input') {
          // a response is plain JSON without references: nothing to follow from an input
          const input = o.store.inputs.getByExternalId(ref[1])
          if (input && !isAnswered(o, input.id)) waitingOnInputs.add(input.id)
        }
      }
    }
    for (const index of step.waitFor) {
      const valueId = step.argumentIds[index]
      if (valueId !== undefined) referenced(o.store.values.get(valueId))
    }
    const visited = new Set<number>()
    while (queue.length > 0) {
      const id = queue.pop()!
      if (visited.has(id)) continue
      visited.add(id)
      const r = o.resolve(id)
      if (!r.final) waitingOn.add(r.executionId)
      else if (r.result.valueId !== null) referenced(o.store.values.get(r.result.valueId))
    }
  }
  let gate: Set<number> | null = null
  const gateInputs = new Set<number>()
  // only a suspended successor (never a first attempt) can have a gate
  const gates = live.exec.attempt > 1 ? o.store.runs.suspensionGates(live.exec.id) : []
  if (gates.length > 0) {
    const pendingIds = new Set<number>()
    let satisfied = false
    for (const g of gates) {
      if (g.inputId !== null) {
        if (isAnswered(o, g.inputId)) {
          satisfied = true
          break
        }
        gateInputs.add(g.inputId)
        continue
      }
      if (g.executionId === null) continue
      const r = o.resolve(g.executionId)
      if (r.final) {
        satisfied = true
        break
      }
      pendingIds.add(r.executionId)
    }
    gate = satisfied || pendingIds.size + gateInputs.size === 0 ? null : pendingIds
  }
  // which inputs have waiting executions is shown in the inputs topics
  if (o.queue.setDependencies(live.exec.id, { waitingOn, gate, waitingOnInputs, gateInputs })) o.emit({ kind: 'inputs' })
}
