/**
 * Re-attachment and resumption (durable waiting) with a real store and a scripted worker: which
 * attempts re-attach, where re-attachment ends, what a cancellation of the resumed attempt
 * reaches, when an abandoned workflow is resumed, and the queue reason at the waiting bound.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { cancelExecution, expireSession } from '../../../internal/orchestrator/index.ts'
import { Harness, until, value, type ScriptedWorker } from '../support/orchestrator.ts'

let h: Harness
let w: ScriptedWorker

beforeEach(() => {
  h = new Harness()
  w = h.worker()
})
afterEach(() => h.close())

const running = (run: string) => w.running(run)

/** Suspends the execution (cf.suspend) and returns its successor, once it is running. */
async function suspendAndResume(exec: string): Promise<string> {
  w.request('suspend', [exec, null])
  expect(h.result(exec)?.type).toBe('suspended')
  w.notify('notify_terminated', [[exec]])
  const next = h.attempt(exec, Number(exec.split(':')[2]) + 1)
  return running(next)
}

describe('re-attachment', () => {
  test('matching calls get the predecessor children back, finished or running', async () => {
    const run = await running(h.submit())
    const a = w.call(run, 'child', { args: [value('a')] })
    const b = w.call(run, 'child', { args: [value('b')] })
    await until(() => w.executed().includes(a))
    w.notify('put_result', [a, value('A')])
    const resumed = await suspendAndResume(run)
    expect(w.call(resumed, 'child', { args: [value('a')] })).toBe(a)
    expect(w.call(resumed, 'child', { args: [value('b')] })).toBe(b)
    // a call the predecessor never made is a new step
    const c = w.call(resumed, 'child', { args: [value('c')] })
    expect([a, b]).not.toContain(c)
    expect(h.store.runs.childrenOf(h.id(resumed)).map((l) => l.childId)).toEqual([h.id(a), h.id(b), h.id(c)])
  })

  test('the first call that differs ends re-attachment, even when later calls match', async () => {
    const run = await running(h.submit())
    const a = w.call(run, 'child', { args: [value('a')] })
    const b = w.call(run, 'child', { args: [value('b')] })
    const resumed = await suspendAndResume(run)
    const other = w.call(resumed, 'child', { args: [value('x')] })
    expect(other).not.toBe(a)
    // same as the predecessor's second call, but after a difference: a new step
    const second = w.call(resumed, 'child', { args: [value('b')] })
    expect(second).not.toBe(b)
    // another target at the same position does not match either
    const run2 = await running(h.submit())
    const g = w.call(run2, 'grandchild', { args: [value('a')] })
    const resumed2 = await suspendAndResume(run2)
    expect(w.call(resumed2, 'child', { args: [value('a')] })).not.toBe(g)
  })

  test('chains: a second resumption re-attaches to what the first one re-attached', async () => {
    const run = await running(h.submit())
    const a = w.call(run, 'child', { args: [value('a')] })
    const second = await suspendAndResume(run)
    expect(w.call(second, 'child', { args: [value('a')] })).toBe(a)
    const third = await suspendAndResume(second)
    expect(w.call(third, 'child', { args: [value('a')] })).toBe(a)
  })

  test('a retry after an error and a manual rerun start afresh', async () => {
    const run = await running(h.submit({ retries: { limit: 1, backoffMin: 0, backoffMax: 0 } }))
    const a = w.call(run, 'child', { args: [value('a')] })
    w.notify('put_error', [run, ['app.Failure', 'boom', []]])
    w.notify('notify_terminated', [[run]])
    const retry = await running(h.attempt(run, 2))
    expect(w.call(retry, 'child', { args: [value('a')] })).not.toBe(a)
  })

  test('cancelling the resumed attempt cancels the children it adopted', async () => {
    const run = await running(h.submit())
    const a = w.call(run, 'child', { args: [value('a')] })
    const resumed = await suspendAndResume(run)
    expect(w.call(resumed, 'child', { args: [value('a')] })).toBe(a)
    cancelExecution(h.o, h.id(run), h.ws.id)
    expect(h.result(resumed)?.type).toBe('cancelled')
    expect(h.result(a)?.type).toBe('cancelled')
  })
})

describe('resuming abandoned workflows', () => {
  test('a workflow lost with its worker gets a new attempt, up to its resume limit; its task is retried only per policy', async () => {
    const run = await running(h.submit({ resumes: 1 }))
    const task = w.call(run, 'child', { args: [value('a')] })
    await until(() => w.executed().includes(task))
    expireSession(h.o, w.session.id)
    expect(h.attempts(run)).toEqual(['abandoned', null])
    expect(h.attempts(task)).toEqual(['abandoned'])
    // a second worker loses it again: the limit (1) is reached
    w = h.worker()
    const second = await running(h.attempt(run, 2))
    expireSession(h.o, w.session.id)
    expect(h.result(second)?.type).toBe('abandoned')
    expect(h.attempts(run)).toEqual(['abandoned', 'abandoned'])
  })

  test('the default limit is 3; resumes=0 opts out', async () => {
    const run = await running(h.submit())
    for (let i = 1; i <= 3; i++) {
      expireSession(h.o, w.session.id)
      w = h.worker()
      await running(h.attempt(run, i + 1))
    }
    expireSession(h.o, w.session.id)
    expect(h.attempts(run)).toEqual(['abandoned', 'abandoned', 'abandoned', 'abandoned'])
    w = h.worker()
    const optedOut = await running(h.submit({ resumes: 0 }))
    expireSession(h.o, w.session.id)
    expect(h.attempts(optedOut)).toEqual(['abandoned'])
  })

  test('an executor that ended without a result (notify_terminated) is not resumed', async () => {
    const run = await running(h.submit())
    w.notify('notify_terminated', [[run]])
    expect(h.attempts(run)).toEqual(['abandoned'])
  })
})

describe('queue reasons at the waiting bound', () => {
  test('work that waits because the worker is at max_waiting says so', async () => {
    const one = h.worker({ concurrency: 2, maxWaiting: 1 })
    w.notify('session_draining', [])
    const run = h.submit()
    await until(() => one.executed().includes(run))
    // a select with a timeout is never suspended under pressure: it holds the waiting slot
    const child = one.call(run, 'child')
    one.select(run, [['execution', child]], { timeout: 60_000 })
    await until(() => !!h.o.queueOf(h.ws.id).find((l) => l.exec.externalId === child))
    const queued = h.o.queueOf(h.ws.id).find((l) => l.exec.externalId === child)!
    expect(h.o.queueStatusOf(queued, 'active')).toEqual({
      status: 'at_capacity',
      reason: '2 matching workers at capacity: 1/1 executions waiting (worker.max_waiting); suspending the longest-waiting',
    })
    expect(h.o.loadOf(one.session)).toEqual({ running: 0, waiting: 1 })
  })
})
