/**
 * Cancellation and its cascade (semantics.md §15.1), and the cascade of a timeout (§9), with a
 * real store and a scripted worker: descendants through call edges and spawned runs, only in
 * the cancelling workspace, the active attempt of a retried call, aborts for running work.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { cancelExecution, rerunStep } from '../../../internal/orchestrator/index.ts'
import { Harness, until, value, type ScriptedWorker } from '../support/orchestrator.ts'

let h: Harness
let w: ScriptedWorker

beforeEach(() => {
  h = new Harness()
  w = h.worker({ targets: { app: { workflow: ['main', 'sub'], task: ['child', 'grandchild'] } } })
})
afterEach(() => h.close())

const runningAll = (...ids: string[]) => until(() => ids.every((id) => w.executed().includes(id)))
const type = (id: string) => h.result(id)?.type ?? null
const externalId = (id: number) => h.o.execution(id)!.externalId

describe('cancelling (§15.1)', () => {
  test('cascades to called steps, their children and spawned runs; finished ones are left alone', async () => {
    const run = h.submit()
    await runningAll(run)
    const child = w.call(run, 'child', { args: [value('c')] })
    const finished = w.call(run, 'child', { args: [value('f')] })
    const sub = w.call(run, 'sub', { type: 'workflow' })
    await until(() => type(sub) === 'spawned')
    const spawned = externalId(h.result(sub)!.successorId!)
    await runningAll(child, finished, spawned)
    const grandchild = w.call(child, 'grandchild')
    const inSpawned = w.call(spawned, 'child', { args: [value('s')] })
    await runningAll(grandchild, inSpawned)
    w.notify('put_result', [finished, value('ok')])
    // another run waits on the child
    const other = h.submit({ arguments: [] })
    await runningAll(other)
    const waiting = w.select(other, [['execution', child]])

    cancelExecution(h.o, h.id(run), h.ws.id)
    expect([run, child, grandchild, spawned, inSpawned].map(type)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled', 'cancelled'])
    expect(type(sub)).toBe('spawned')
    expect(type(finished)).toBe('value')
    expect(w.aborted().sort()).toEqual([run, child, grandchild, spawned, inSpawned].sort())
    expect(w.replies.get(waiting)).toEqual({ winner: 0, status: 'cancelled' })
    expect(type(other)).toBeNull()
  })

  test('a queued descendant is cancelled without an abort and leaves the queue', async () => {
    const run = h.submit()
    await runningAll(run)
    const later = w.call(run, 'child', { args: [value('later')], waitFor: [0] })
    const blocker = w.call(run, 'child', { args: [value('blocker')] })
    const waiting = w.call(run, 'grandchild', { args: [value(null, [['execution', blocker]])], waitFor: [0] })
    expect(h.o.queue.get(h.id(waiting))!.waitingOn.size).toBe(1)
    cancelExecution(h.o, h.id(run), h.ws.id)
    expect(type(waiting)).toBe('cancelled')
    expect(h.o.queue.get(h.id(waiting))).toBeUndefined()
    expect(w.aborted()).not.toContain(waiting)
    expect(type(later)).toBe('cancelled')
  })

  test("a spawned run's retry is cancelled with it", async () => {
    const run = h.submit()
    await runningAll(run)
    const sub = w.call(run, 'sub', { type: 'workflow', retries: 1 })
    await until(() => type(sub) === 'spawned')
    const spawned = externalId(h.result(sub)!.successorId!)
    await runningAll(spawned)
    w.notify('put_error', [spawned, ['ValueError', 'boom', []]])
    expect(h.attempts(spawned)).toEqual(['error', null])
    cancelExecution(h.o, h.id(run), h.ws.id)
    expect(h.attempts(spawned)).toEqual(['error', 'cancelled'])
  })

  test('cancelling a failed attempt stops its pending retry', async () => {
    const run = h.submit()
    await runningAll(run)
    const child = w.call(run, 'child', { retries: 1 })
    await runningAll(child)
    w.notify('put_error', [child, ['ValueError', 'boom', []]])
    expect(h.attempts(child)).toEqual(['error', null])
    cancelExecution(h.o, h.id(child), h.ws.id)
    expect(h.attempts(child)).toEqual(['error', 'cancelled'])
    expect(type(run)).toBeNull() // the caller is not a descendant
  })

  test('descendants in another workspace are left alone', async () => {
    const dev = h.store.workspaces.create('dev', h.ws.id, h.clock)
    const run = h.submit()
    await runningAll(run)
    const child = w.call(run, 'child')
    await runningAll(child)
    // a rerun of the child's step in the descendant workspace (no worker there: it stays queued)
    const stepId = child.split(':').slice(0, 2).join(':')
    const { executionId: inDev } = rerunStep(h.o, stepId, dev.id)

    cancelExecution(h.o, h.id(run), h.ws.id)
    expect(type(child)).toBe('cancelled')
    expect(type(inDev)).toBeNull()
    expect(h.o.queue.isPending(h.id(inDev))).toBe(true)
  })

  test('cancelling again is harmless and still cascades to what appeared since', async () => {
    const run = h.submit()
    await runningAll(run)
    cancelExecution(h.o, h.id(run), h.ws.id)
    // the worker had already sent this call before it got the abort
    const late = w.call(run, 'child')
    cancelExecution(h.o, h.id(run), h.ws.id)
    expect(type(late)).toBe('cancelled')
    expect(w.aborted().filter((id) => id === run)).toHaveLength(1)
  })
})

describe('timeouts (§9)', () => {
  test('a timeout reported by the worker cancels the incomplete descendants', async () => {
    const run = h.submit()
    await runningAll(run)
    const child = w.call(run, 'child', { args: [value('c')] })
    const finished = w.call(run, 'child', { args: [value('f')] })
    await runningAll(child, finished)
    const grandchild = w.call(child, 'grandchild')
    w.notify('put_result', [finished, value('ok')])

    w.notify('put_timeout', [run])
    expect([run, child, grandchild, finished].map(type)).toEqual(['timeout', 'cancelled', 'cancelled', 'value'])
    // the worker ended the timed-out process itself; the descendants are aborted
    expect(w.aborted()).not.toContain(run)
    expect(w.aborted()).toContain(child)
  })

  test('a timeout cancels the runs the execution spawned', async () => {
    const run = h.submit()
    await runningAll(run)
    const sub = w.call(run, 'sub', { type: 'workflow' })
    await until(() => type(sub) === 'spawned')
    const spawned = externalId(h.result(sub)!.successorId!)
    w.notify('put_timeout', [run])
    expect(type(spawned)).toBe('cancelled')
  })

  test("the server's backstop records the timeout, aborts it and cancels descendants", async () => {
    const run = h.submit({ timeout: 20 })
    await runningAll(run)
    const child = w.call(run, 'child')
    await until(() => type(run) === 'timeout')
    expect(type(child)).toBe('cancelled')
    expect(w.aborted()).toEqual(expect.arrayContaining([run, child]))
  })

  test('a timed-out call with retries gets its retry; the descendants are still cancelled', async () => {
    const run = h.submit({ retries: { limit: 1, backoffMin: 0, backoffMax: 0 } })
    await runningAll(run)
    const child = w.call(run, 'child')
    w.notify('put_timeout', [run])
    expect(h.attempts(run)).toEqual(['timeout', null])
    expect(type(child)).toBe('cancelled')
  })
})
