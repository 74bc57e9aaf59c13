/**
 * Session rules that touch the queue and results (semantics.md §20), with a real store and
 * scripted workers: expiry abandons what a session held (retried per policy), heartbeats that
 * omit an execution, lost assignments (re-sent once, then withdrawn without an attempt),
 * reconnection and termination.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { cancelExecution, connectSession, disconnectSession, expireSession } from '../../../internal/orchestrator/index.ts'
import { Harness, settle, until, value, type ScriptedWorker } from '../support/orchestrator.ts'

let h: Harness
let w: ScriptedWorker

beforeEach(() => {
  h = new Harness()
  w = h.worker()
})
afterEach(() => h.close())

const retries = { limit: 1, backoffMin: 0, backoffMax: 0 }

const running = (run: string) => w.running(run)

describe('expiry (§20.1)', () => {
  test('abandons what the session held, drops their waiters; the retry policy makes successors', async () => {
    const run = await running(h.submit({ retries }))
    const child = w.call(run, 'child')
    await until(() => w.executed().includes(child))
    w.select(run, [['execution', child]])
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(true)

    expireSession(h.o, w.session.id)
    expect(w.closed).toEqual([[4000, 'session_invalid']])
    expect(h.o.sessions.has(w.session.id)).toBe(false)
    expect(h.store.sessions.get(w.session.id)!.expiredAt).toBe(h.clock)
    expect(h.attempts(run)).toEqual(['abandoned', null])
    expect(h.attempts(child)).toEqual(['abandoned'])
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(false)
    const retry = h.attempt(run, 2)
    expect(h.o.queue.isPending(h.id(retry))).toBe(true)

    const next = h.worker()
    await until(() => next.executed().includes(retry))
  })

  test('an execution that finished before the expiry keeps its result', async () => {
    const run = await running(h.submit({ retries }))
    w.notify('put_result', [run, value('done')])
    expireSession(h.o, w.session.id)
    expect(h.attempts(run)).toEqual(['value'])
  })

  test('a session disconnected longer than its reconnection timeout expires; one that reconnects in time does not', async () => {
    const late = h.worker({ timeouts: { reconnection: 5 } })
    const back = h.worker({ timeouts: { reconnection: 5 } })
    disconnectSession(h.o, back.session, back.channel)
    disconnectSession(h.o, late.session, late.channel)
    back.connect()
    // both timers were armed for the same delay, the reconnected one first
    await until(() => !h.o.sessions.has(late.session.id))
    expect(h.o.sessions.has(back.session.id)).toBe(true)
    expect(h.store.sessions.get(back.session.id)!.expiredAt).toBeNull()
  })
})

describe('heartbeats (§20.4)', () => {
  test('the first report acknowledges an execution, persisted once', async () => {
    const run = await running(h.submit())
    expect(w.session.heldState(h.id(run))).toBe('starting')
    const at = h.clock
    w.heartbeat([run])
    h.clock += 5_000
    w.heartbeat([run])
    expect(w.session.heldState(h.id(run))).toBe('executing')
    expect(h.store.results.assignment(h.id(run))!.acknowledgedAt).toBe(at)
  })

  test('omitted: a running execution is abandoned (and retried), a finished one only frees its slot', async () => {
    const a = await running(h.submit({ retries }))
    const b = await running(h.submit())
    const c = await running(h.submit())
    w.heartbeat([a, b, c])
    w.notify('put_result', [b, value('done')])
    expect(w.session.heldState(h.id(b))).toBe('finished')

    w.heartbeat([c])
    expect(h.attempts(a)).toEqual(['abandoned', null])
    expect(h.attempts(b)).toEqual(['value'])
    expect(h.attempts(c)).toEqual([null])
    expect(w.session.heldIds()).toEqual([h.id(c)])
  })

  test('an empty heartbeat is processed like any other', async () => {
    const run = await running(h.submit())
    const child = w.call(run, 'child')
    await until(() => w.executed().includes(child))
    w.heartbeat([run, child])
    w.heartbeat([])
    expect(h.attempts(child)).toEqual(['abandoned']) // a task without retries: final
    expect(h.result(run)!.type).toBe('abandoned')
  })

  test('a reported execution that is not held and has a result is aborted', async () => {
    const run = await running(h.submit())
    const child = w.call(run, 'child')
    await until(() => w.executed().includes(child))
    w.heartbeat([run, child])
    w.heartbeat([run])
    expect(w.aborted()).toEqual([])
    w.heartbeat([run, child])
    expect(w.aborted()).toEqual([child])
  })
})

describe('lost assignments (§20.6)', () => {
  test('re-sent once after two misses, then back to the queue without consuming an attempt', async () => {
    const run = await running(h.submit())
    const id = h.id(run)
    // heartbeats within 10 s of the send do not count
    w.heartbeat([])
    w.heartbeat([])
    expect(w.executed()).toEqual([run])
    h.clock += 10_000
    w.heartbeat([])
    expect(w.executed()).toEqual([run])
    w.heartbeat([])
    expect(w.executed()).toEqual([run, run])

    h.clock += 10_000
    w.heartbeat([])
    expect(h.o.queue.isAssigned(id)).toBe(true)
    w.heartbeat([])
    expect(h.o.queue.isPending(id)).toBe(true)
    expect(w.session.holds(id)).toBe(false)
    expect(h.store.results.assignment(id)).toBeNull()
    expect(h.attempts(run)).toEqual([null])
    // the scheduler gives the same execution out again
    await until(() => w.executed().length === 3)
    expect(w.executed()[2]).toBe(run)
    expect(h.attempts(run)).toEqual([null])
  })

  test('a report in between resets nothing to lose: acknowledged executions are never re-sent', async () => {
    const run = await running(h.submit())
    h.clock += 10_000
    w.heartbeat([])
    w.heartbeat([run])
    w.heartbeat([run])
    expect(w.executed()).toEqual([run])
    expect(w.session.heldState(h.id(run))).toBe('executing')
  })
})

describe('connections (§20.2)', () => {
  test('a reconnection lists the held executions, replays what was queued, then re-sends unacknowledged ones', async () => {
    const run = await running(h.submit())
    const a = w.call(run, 'child', { args: [value('a')] })
    const b = w.call(run, 'child', { args: [value('b')] })
    await until(() => w.executed().includes(a) && w.executed().includes(b))
    w.heartbeat([run, a])
    disconnectSession(h.o, w.session, w.channel)
    // while disconnected: an abort is queued, and nothing new is assigned (§20.3)
    cancelExecution(h.o, h.id(a), h.ws.id)
    const other = h.submit()
    await settle()
    expect(h.o.queue.isPending(h.id(other))).toBe(true)

    const before = w.sent.length
    w.connect()
    const frames = w.sent.slice(before)
    // a is cancelled but its process has not ended: still listed
    expect(frames).toContainEqual([0, w.session.record.externalId, [run, a, b]])
    const commands = frames.flatMap((f) => (f[0] === 1 ? [[f[1].command, f[1].params[0]]] : []))
    expect(commands.slice(0, 2)).toEqual([
      ['abort', a],
      ['execute', b],
    ])
    await until(() => w.executed().includes(other))
  })

  test('a new connection replaces the previous one, which is closed', () => {
    const previous = w.channel
    const closed: [number, string][] = []
    connectSession(h.o, w.session, { send() {}, close: (code, reason) => closed.push([code, reason]), supportsAcks: true })
    expect(w.closed).toEqual([[4000, 'session_replaced']])
    expect(w.session.channel).not.toBe(previous)
    expect(closed).toEqual([])
  })
})

describe('capacity (§20.3, durable waiting)', () => {
  test('an execution blocked in a select holds no slot: the child it waits for runs beside it', async () => {
    const one = h.worker({ concurrency: 1 })
    w.notify('session_draining', [])
    const run = h.submit()
    await until(() => one.executed().includes(run))
    const child = one.call(run, 'child')
    await settle()
    expect(one.executed()).not.toContain(child)
    one.select(run, [['execution', child]])
    await until(() => one.executed().includes(child))
    expect(one.session.heldIds()).toEqual([h.id(run), h.id(child)])
  })

  test('at its waiting bound a worker suspends its longest-waiting execution; the resumed attempt gets its child back', async () => {
    const one = h.worker({ concurrency: 1, maxWaiting: 1 })
    w.notify('session_draining', [])
    const run = h.submit()
    await until(() => one.executed().includes(run))
    const child = one.call(run, 'child')
    one.select(run, [['execution', child]])
    await until(() => h.result(run)?.type === 'suspended')
    expect(one.aborted()).toEqual([run])
    one.notify('notify_terminated', [[run]])
    await until(() => one.executed().includes(child))
    one.notify('put_result', [child, value('done')])
    one.notify('notify_terminated', [[child]])
    const resumed = h.attempt(run, 2)
    await until(() => one.executed().includes(resumed))
    expect(one.call(resumed, 'child')).toBe(child)
  })
})

describe('termination', () => {
  test('notify_terminated frees the slot; without a result the execution is abandoned', async () => {
    const run = await running(h.submit())
    const a = w.call(run, 'child', { args: [value('a')] })
    const b = w.call(run, 'child', { args: [value('b')] })
    await until(() => w.executed().includes(a) && w.executed().includes(b))
    w.notify('put_result', [a, value('done')])
    w.notify('notify_terminated', [[a, b]])
    expect(h.attempts(a)).toEqual(['value'])
    expect(h.attempts(b)).toEqual(['abandoned'])
    expect(w.session.heldIds()).toEqual([h.id(run)])
    expect(w.sent.filter((f) => f[0] === 4)).toEqual([
      [4, a, 'result'],
      [4, a, 'terminated'],
      [4, b, 'terminated'],
    ])
  })
})
