/**
 * What waits is released when what it waits on resolves (semantics.md §4.3, §13, §14, §26),
 * with a real store and a scripted worker: select waiters answered or moved to a retry,
 * `cancel_remaining`, wait timeouts and suspension, `wait_for` dependencies, and inputs.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { answerInput } from '../../../internal/orchestrator/index.ts'
import { RawJson } from '../../../internal/protocol/json.ts'
import type { InputRecord } from '../../../internal/store/index.ts'
import { Harness, settle, until, value, type ScriptedWorker } from '../support/orchestrator.ts'

let h: Harness
let w: ScriptedWorker
let run: string

beforeEach(async () => {
  h = new Harness()
  w = h.worker()
  run = h.submit()
  await until(() => w.executed().includes(run))
})
afterEach(() => h.close())

const runningAll = (...ids: string[]) => until(() => ids.every((id) => w.executed().includes(id)))
const reply = (id: number) => w.replies.get(id) as Record<string, unknown> | null | undefined
const data = (id: number) => (reply(id)!.value as [string, RawJson, unknown[]])[1]

describe('select waiters (§14.4)', () => {
  test('answered when the handle resolves', async () => {
    const child = w.call(run, 'child')
    await runningAll(child)
    const select = w.select(run, [['execution', child]])
    expect(w.replies.has(select)).toBe(false)
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(true)
    w.notify('put_result', [child, value('hi')])
    expect(reply(select)).toMatchObject({ winner: 0, status: 'ok' })
    expect(data(select)).toEqual(new RawJson('"hi"'))
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(false)
  })

  test('a failing handle with retries: the waiter moves to the retry and gets its result', async () => {
    const child = w.call(run, 'child', { retries: 1 })
    await runningAll(child)
    const select = w.select(run, [['execution', child]])
    w.notify('put_error', [child, ['ValueError', 'boom', []]])
    expect(w.replies.has(select)).toBe(false)
    const retry = h.attempt(child, 2)
    expect(h.o.waiters.watchersOf(h.id(retry))).toHaveLength(1)
    expect(h.o.waiters.watchersOf(h.id(child))).toHaveLength(0)
    await runningAll(retry)
    w.notify('put_result', [retry, value('second time')])
    expect(reply(select)).toMatchObject({ winner: 0, status: 'ok' })
    expect(data(select)).toEqual(new RawJson('"second time"'))
  })

  test('retries exhausted: the waiter gets the final error', async () => {
    const child = w.call(run, 'child', { retries: 1 })
    await runningAll(child)
    const select = w.select(run, [['execution', child]])
    w.notify('put_error', [child, ['ValueError', 'first', []]])
    const retry = h.attempt(child, 2)
    await runningAll(retry)
    w.notify('put_error', [retry, ['ValueError', 'second', []]])
    expect(reply(select)).toMatchObject({ winner: 0, status: 'error', error: { type: 'ValueError', message: 'second' } })
  })

  test('the first handle to resolve wins; cancel_remaining cancels the other executions', async () => {
    const slow = w.call(run, 'child', { args: [value('slow')] })
    const fast = w.call(run, 'child', { args: [value('fast')] })
    await runningAll(slow, fast)
    const select = w.select(run, [['execution', slow], ['execution', fast]], { cancelRemaining: true })
    w.notify('put_result', [fast, value(2)])
    expect(reply(select)).toMatchObject({ winner: 1, status: 'ok' })
    expect(h.result(slow)!.type).toBe('cancelled')
    expect(w.aborted()).toContain(slow)
    expect(h.o.waiters.watchersOf(h.id(slow))).toEqual([])
  })

  test('a caller that gets a result stops waiting: nothing is answered or cancelled for it later', async () => {
    const c = w.call(run, 'child', { args: [value('c')] })
    const d = w.call(run, 'child', { args: [value('d')] })
    await runningAll(c, d)
    const select = w.select(run, [['execution', c], ['execution', d]], { cancelRemaining: true })
    w.notify('put_error', [run, ['coflux.ExecutorCrashed', 'the process died', []]])
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(false)
    w.notify('put_result', [c, value(1)])
    expect(h.result(d)).toBeNull() // not cancelled on behalf of a caller that is gone
    expect(w.replies.has(select)).toBe(false)
  })

  test('so does a caller abandoned by a heartbeat that omits it', async () => {
    const child = w.call(run, 'child')
    await runningAll(child)
    w.select(run, [['execution', child]])
    w.heartbeat([run, child])
    w.heartbeat([child])
    expect(h.result(run)!.type).toBe('abandoned')
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(false)
    expect(h.o.waiters.referencedIds()).toEqual([])
  })

  test('already resolved: answered at once, no waiter', async () => {
    const child = w.call(run, 'child')
    await runningAll(child)
    w.notify('put_result', [child, value(1)])
    const select = w.select(run, [['execution', child]])
    expect(reply(select)).toMatchObject({ winner: 0, status: 'ok' })
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(false)
  })

  test('a wait timeout answers null and leaves the awaited execution alone', async () => {
    const child = w.call(run, 'child')
    const select = w.select(run, [['execution', child]], { timeout: 5 })
    await until(() => w.replies.has(select))
    expect(reply(select)).toBeNull()
    expect(h.result(child)).toBeNull()
    expect(h.o.waiters.isWaiting(h.id(run))).toBe(false)
  })

  test('a wait timeout with suspend suspends the caller; its successor runs once the handle resolves', async () => {
    const child = w.call(run, 'child')
    await runningAll(child)
    const select = w.select(run, [['execution', child]], { timeout: 5, suspend: true })
    await until(() => h.result(run)?.type === 'suspended')
    expect(w.replies.has(select)).toBe(false)
    expect(w.aborted()).toContain(run)
    const resumed = h.attempt(run, 2)
    expect(h.o.queue.get(h.id(resumed))!.gate).toEqual(new Set([h.id(child)]))
    await settle()
    expect(w.executed()).not.toContain(resumed)
    w.notify('put_result', [child, value(1)])
    await runningAll(resumed)
  })
})

describe('wait_for dependencies (§13)', () => {
  test('an execution waits for the executions its waited arguments reference, followed to retries', async () => {
    const first = w.call(run, 'child', { args: [value('first')], retries: 1 })
    const second = w.call(run, 'grandchild', { args: [value(null, [['execution', first]])], waitFor: [0] })
    expect(h.o.queue.get(h.id(second))!.waitingOn).toEqual(new Set([h.id(first)]))
    await runningAll(first)
    w.notify('put_error', [first, ['ValueError', 'boom', []]])
    const retry = h.attempt(first, 2)
    expect(h.o.queue.get(h.id(second))!.waitingOn).toEqual(new Set([h.id(retry)]))
    await settle()
    expect(w.executed()).not.toContain(second)
    await runningAll(retry)
    w.notify('put_result', [retry, value(1)])
    expect(h.o.queue.get(h.id(second))!.waitingOn.size).toBe(0)
    await runningAll(second)
  })

  test('any final result satisfies a dependency, an error included', async () => {
    const first = w.call(run, 'child', { args: [value('first')] })
    const second = w.call(run, 'grandchild', { args: [value(null, [['execution', first]])], waitFor: [0] })
    await runningAll(first)
    w.notify('put_error', [first, ['ValueError', 'boom', []]])
    await runningAll(second)
  })
})

describe('inputs (§26)', () => {
  function submitInput(): { externalId: string; record: InputRecord } {
    const id = w.request('submit_input', [run, 'Approve?', null, null, null, null, null, null, null])
    const externalId = w.replies.get(id) as string
    return { externalId, record: h.store.inputs.getByExternalId(externalId)! }
  }

  test('an answer releases the select waiting on it, with the raw response', () => {
    const input = submitInput()
    const select = w.select(run, [['input', input.externalId]])
    expect(h.o.waiters.callersWaitingOnInput(input.record.id)).toEqual([h.id(run)])
    expect(h.o.waiters.awaitedInputIds()).toEqual([input.record.id])
    expect(answerInput(h.o, input.record, { type: 'value', value: '{"ok":true}' })).toBe(true)
    expect(reply(select)).toMatchObject({ winner: 0, status: 'ok' })
    expect(data(select)).toEqual(new RawJson('{"ok":true}'))
    expect(h.o.waiters.awaitedInputIds()).toEqual([])
    // the first response is final
    expect(answerInput(h.o, input.record, { type: 'dismissed' })).toBe(false)
  })

  test('a dismissal answers dismissed', () => {
    const input = submitInput()
    const select = w.select(run, [['input', input.externalId]])
    answerInput(h.o, input.record, { type: 'dismissed' })
    expect(reply(select)).toEqual({ winner: 0, status: 'dismissed' })
  })

  test('a suspended caller gated on an input resumes when it is answered', async () => {
    const input = submitInput()
    w.select(run, [['input', input.externalId]], { timeout: 0, suspend: true })
    expect(h.result(run)!.type).toBe('suspended')
    const resumed = h.attempt(run, 2)
    expect(h.o.queue.dependentsOfInput(input.record.id)).toEqual([h.id(resumed)])
    await settle()
    expect(w.executed()).not.toContain(resumed)
    answerInput(h.o, input.record, { type: 'value', value: '1' })
    expect(h.o.queue.dependentsOfInput(input.record.id)).toEqual([])
    await runningAll(resumed)
  })

  test('wait_for on an input reference holds the call until the input has a response', async () => {
    const input = submitInput()
    const call = w.call(run, 'child', { args: [value(null, [['input', input.externalId]])], waitFor: [0] })
    expect(h.o.queue.get(h.id(call))!.waitingOnInputs).toEqual(new Set([input.record.id]))
    expect(h.o.queue.awaitedInputIds()).toEqual([input.record.id])
    await settle()
    expect(w.executed()).not.toContain(call)
    answerInput(h.o, input.record, { type: 'cancelled' })
    expect(h.o.queue.awaitedInputIds()).toEqual([])
    await runningAll(call)
  })
})
