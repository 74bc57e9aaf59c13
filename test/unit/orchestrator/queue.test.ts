/**
 * The execution queue on its own: pending ⇄ assigned transitions, lost-assignment bookkeeping,
 * the reverse indexes from dependencies (executions, inputs) to the executions waiting on them,
 * and that nothing is left behind once an execution leaves.
 */
import { describe, expect, test } from 'bun:test'
import { ExecutionQueue, hasPendingDependencies, NO_DEPENDENCIES, type Dependencies } from '../../../internal/orchestrator/queue.ts'
import type { ExecutionRecord, StepRecord } from '../../../internal/store/index.ts'

function records(id: number, workspaceId = 1): [ExecutionRecord, StepRecord] {
  const step = { id, runId: 1, module: 'app', target: 'main', type: 'task', priority: 0 } as StepRecord
  const exec = { id, externalId: `R1:${id}:1`, stepId: id, runId: 1, attempt: 1, workspaceId, executeAfter: null, createdAt: 0 } as ExecutionRecord
  return [exec, step]
}

function queueWith(...ids: number[]): ExecutionQueue {
  const queue = new ExecutionQueue()
  for (const id of ids) queue.add(...records(id), {}, null)
  return queue
}

function deps(d: Partial<Record<keyof Dependencies, number[] | null>>): Dependencies {
  return {
    waitingOn: new Set(d.waitingOn ?? []),
    gate: d.gate ? new Set(d.gate) : null,
    waitingOnInputs: new Set(d.waitingOnInputs ?? []),
    gateInputs: new Set(d.gateInputs ?? []),
  }
}

const ids = (list: { exec: { id: number } }[]) => list.map((l) => l.exec.id).sort((a, b) => a - b)

describe('transitions', () => {
  test('added executions are pending; assign moves one to its session', () => {
    const queue = queueWith(1, 2)
    const added = queue.get(1)!
    expect(added).toMatchObject({ sessionId: null, assignedAt: null, requires: {}, deferKey: null })
    expect(ids(queue.pending())).toEqual([1, 2])
    queue.assign(1, 7, 500)
    expect(queue.isPending(1)).toBe(false)
    expect(queue.isAssigned(1)).toBe(true)
    expect(queue.get(1)).toMatchObject({ sessionId: 7, assignedAt: 500, startedAt: null, misses: 0, resent: false })
    expect(ids(queue.pending())).toEqual([2])
    expect(ids(queue.assigned())).toEqual([1])
    expect(ids(queue.all())).toEqual([1, 2])
  })

  test('assigning something not pending does nothing', () => {
    const queue = queueWith(1)
    queue.assign(1, 7, 500)
    queue.assign(1, 8, 600)
    queue.assign(99, 8, 600)
    expect(queue.get(1)).toMatchObject({ sessionId: 7, assignedAt: 500 })
    expect(queue.get(99)).toBeUndefined()
  })

  test('unassign returns it to pending (lost assignment), keeping the record', () => {
    const queue = queueWith(1)
    queue.assign(1, 7, 500)
    queue.markStarted(1, 550)
    queue.unassign(1)
    expect(queue.isPending(1)).toBe(true)
    expect(queue.get(1)).toMatchObject({ sessionId: null, assignedAt: null })
    queue.unassign(1) // not assigned: nothing happens
    expect(queue.isPending(1)).toBe(true)
  })

  test('started, sent and miss bookkeeping only for assigned executions', () => {
    const queue = queueWith(1, 2)
    queue.markStarted(2, 10)
    expect(queue.noteMiss(2)).toBe(0)
    expect(queue.get(2)).toMatchObject({ startedAt: null, misses: 0 })
    queue.assign(1, 7, 0)
    queue.markSent(1, 20)
    queue.markStarted(1, 30)
    expect(queue.noteMiss(1)).toBe(1)
    expect(queue.noteMiss(1)).toBe(2)
    queue.noteResent(1)
    expect(queue.get(1)).toMatchObject({ lastSentAt: 20, startedAt: 30, misses: 0, resent: true })
    expect(queue.noteMiss(1)).toBe(1)
    queue.resetMisses(1)
    expect(queue.get(1)!.misses).toBe(0)
  })

  test('a re-assignment starts the miss bookkeeping again', () => {
    const queue = queueWith(1)
    queue.assign(1, 7, 0)
    queue.noteMiss(1)
    queue.noteResent(1)
    queue.unassign(1)
    queue.assign(1, 8, 100)
    expect(queue.get(1)).toMatchObject({ sessionId: 8, misses: 0, resent: false })
  })

  test('restoreAssignment puts a pending execution back on its session as read from the store', () => {
    const queue = queueWith(1)
    queue.setDependencies(1, deps({ waitingOn: [5] }))
    queue.restoreAssignment(1, 3, 100, 150, 900)
    expect(queue.isAssigned(1)).toBe(true)
    expect(queue.get(1)).toMatchObject({ sessionId: 3, assignedAt: 100, startedAt: 150, lastSentAt: 900 })
    expect(queue.get(1)!.waitingOn.size).toBe(0)
    expect(queue.takeDependents(5)).toEqual([])
  })

  test('remove returns what it was and forgets it, pending or assigned', () => {
    const queue = queueWith(1, 2)
    queue.assign(2, 7, 0)
    expect(queue.remove(1)!.exec.id).toBe(1)
    expect(queue.remove(2)!.sessionId).toBe(7)
    expect(queue.remove(2)).toBeUndefined()
    expect(queue.all()).toEqual([])
    expect(queue.referencedIds()).toEqual([])
  })

  test('ofWorkspace lists queued and assigned executions of one workspace', () => {
    const queue = new ExecutionQueue()
    queue.add(...records(1, 1), {}, null)
    queue.add(...records(2, 2), {}, null)
    queue.add(...records(3, 1), {}, null)
    queue.assign(3, 7, 0)
    expect(ids(queue.ofWorkspace(1))).toEqual([1, 3])
    expect(ids(queue.ofWorkspace(2))).toEqual([2])
  })
})

describe('dependency indexes', () => {
  test('dependents of executions and inputs are found and taken once', () => {
    const queue = queueWith(1, 2)
    queue.setDependencies(1, deps({ waitingOn: [10, 11], waitingOnInputs: [20] }))
    queue.setDependencies(2, deps({ waitingOn: [10], gate: [12], gateInputs: [21] }))
    expect(queue.get(1)!.waitingOn).toEqual(new Set([10, 11]))
    expect(queue.get(2)!.gate).toEqual(new Set([12]))
    expect(queue.takeDependents(10).sort()).toEqual([1, 2])
    expect(queue.takeDependents(10)).toEqual([])
    expect(queue.takeDependents(12)).toEqual([2])
    expect(queue.dependentsOfInput(20)).toEqual([1])
    expect(queue.dependentsOfInput(20)).toEqual([1]) // a query, not a take
    expect(queue.awaitedInputIds().sort()).toEqual([20, 21])
    expect(queue.takeInputDependents(21)).toEqual([2])
    expect(queue.awaitedInputIds()).toEqual([20])
    expect(queue.referencedIds().sort((a, b) => a - b)).toEqual([1, 2, 11])
  })

  test('new dependencies replace the old registrations', () => {
    const queue = queueWith(1)
    queue.setDependencies(1, deps({ waitingOn: [10], waitingOnInputs: [20] }))
    queue.setDependencies(1, deps({ waitingOn: [11] }))
    expect(queue.takeDependents(10)).toEqual([])
    expect(queue.dependentsOfInput(20)).toEqual([])
    expect(queue.awaitedInputIds()).toEqual([])
    expect(queue.takeDependents(11)).toEqual([1])
  })

  test('gate inputs count only with a gate', () => {
    const queue = queueWith(1)
    queue.setDependencies(1, deps({ gate: null, gateInputs: [21] }))
    expect(queue.get(1)!.gateInputs.size).toBe(0)
    expect(queue.awaitedInputIds()).toEqual([])
    queue.setDependencies(1, deps({ gate: [], gateInputs: [21] }))
    expect(queue.dependentsOfInput(21)).toEqual([1])
  })

  test('setDependencies tells whether inputs were or are involved', () => {
    const queue = queueWith(1)
    expect(queue.setDependencies(1, deps({ waitingOn: [10] }))).toBe(false)
    expect(queue.setDependencies(1, deps({ waitingOnInputs: [20] }))).toBe(true)
    expect(queue.setDependencies(1, NO_DEPENDENCIES)).toBe(true) // the input is no longer awaited
    expect(queue.setDependencies(1, NO_DEPENDENCIES)).toBe(false)
  })

  test('only pending executions take dependencies', () => {
    const queue = queueWith(1)
    queue.assign(1, 7, 0)
    expect(queue.setDependencies(1, deps({ waitingOn: [10], waitingOnInputs: [20] }))).toBe(false)
    expect(queue.takeDependents(10)).toEqual([])
    expect(queue.setDependencies(99, deps({ waitingOn: [10] }))).toBe(false)
  })

  test('assigning or removing leaves no index entries behind', () => {
    const queue = queueWith(1, 2)
    queue.setDependencies(1, deps({ waitingOn: [10], gate: [11], waitingOnInputs: [20], gateInputs: [21] }))
    queue.setDependencies(2, deps({ waitingOn: [10], gate: [12], waitingOnInputs: [22], gateInputs: [23] }))
    queue.assign(1, 7, 0)
    queue.remove(2)
    queue.remove(1)
    expect(queue.referencedIds()).toEqual([])
    expect(queue.awaitedInputIds()).toEqual([])
    for (const id of [20, 21, 22, 23]) expect(queue.dependentsOfInput(id)).toEqual([])
    for (const id of [10, 11, 12]) expect(queue.takeDependents(id)).toEqual([])
  })

  test('the caller recomputes after a take: the entry still shows the taken dependency until then', () => {
    const queue = queueWith(1)
    queue.setDependencies(1, deps({ waitingOn: [10, 11] }))
    expect(queue.takeDependents(10)).toEqual([1])
    expect(queue.get(1)!.waitingOn).toEqual(new Set([10, 11]))
    queue.setDependencies(1, deps({ waitingOn: [11] }))
    expect(queue.takeDependents(11)).toEqual([1])
  })
})

describe('hasPendingDependencies', () => {
  const queue = queueWith(1)
  const pending = (d: Parameters<typeof deps>[0]) => {
    queue.setDependencies(1, deps(d))
    return hasPendingDependencies(queue.get(1)!)
  }

  test('all of wait_for, any of the gate', () => {
    expect(pending({})).toBe(false)
    expect(pending({ waitingOn: [10] })).toBe(true)
    expect(pending({ waitingOnInputs: [20] })).toBe(true)
    expect(pending({ gate: [11] })).toBe(true)
    expect(pending({ gate: [], gateInputs: [21] })).toBe(true)
    expect(pending({ gate: [] })).toBe(false)
  })
})

describe('backstop timers', () => {
  const fired: number[] = []
  const timer = (id: number) => setTimeout(() => fired.push(id), 1)
  const settle = () => Bun.sleep(10)

  test('cleared when the execution leaves the queue, is unassigned or is replaced', async () => {
    const queue = queueWith(1, 2, 3, 4, 5)
    for (const id of [1, 2, 3, 4]) queue.assign(id, 7, 0)
    queue.setBackstop(1, timer(1))
    queue.remove(1)
    queue.setBackstop(2, timer(2))
    queue.unassign(2)
    queue.setBackstop(3, timer(3))
    queue.setBackstop(3, timer(33))
    queue.setBackstop(5, timer(5)) // pending: not armed at all
    queue.setBackstop(4, timer(4))
    await settle()
    expect(fired.sort((a, b) => a - b)).toEqual([4, 33])
  })

  test('close clears every armed timer', async () => {
    fired.length = 0
    const queue = queueWith(1)
    queue.assign(1, 7, 0)
    queue.setBackstop(1, timer(1))
    queue.close()
    await settle()
    expect(fired).toEqual([])
  })
})
