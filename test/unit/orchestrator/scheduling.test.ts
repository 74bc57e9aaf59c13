/**
 * The scheduler's use of the queue's runnable index, with a real store and a scripted worker:
 * a pass looks at no more of the queue than it can act on, executions move between blocked and
 * runnable as their dependencies resolve, and identical cached calls planned in one pass never
 * point at each other.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { RawJson } from '../../../internal/protocol/json.ts'
import { planView } from '../../../internal/orchestrator/scheduler.ts'
import { Harness, settle, until, value, type ScriptedWorker } from '../support/orchestrator.ts'

let h: Harness
let w: ScriptedWorker

beforeEach(() => {
  h = new Harness()
})
afterEach(() => h.close())

const cache = { params: true as const, maxAge: null, namespace: null, version: null }

test('identical cached calls planned in the same pass: one runs, the other is cached on it', async () => {
  w = h.worker()
  const a = h.submit({ cache, arguments: [new RawJson('7')] })
  const b = h.submit({ cache, arguments: [new RawJson('7')] })
  await until(() => w.executed().length === 1)
  const [ran] = w.executed()
  const other = ran === a ? b : a
  expect(h.result(other)).toMatchObject({ type: 'cached', successorId: h.id(ran!) })
  expect(h.result(ran!)).toBeNull()
  w.notify('put_result', [ran, value(49)])
  expect(h.o.resolve(h.id(other))).toMatchObject({ final: true, executionId: h.id(ran!) })
})

test('a pass looks at as many runnable executions of a class as sessions have room for', async () => {
  w = h.worker({ concurrency: 2 })
  const run = h.submit()
  await until(() => w.executed().includes(run))
  const children = Array.from({ length: 50 }, (_, i) => w.call(run, 'child', { args: [value(i)] }))
  await settle()
  // the workflow holds one slot, two children the rest: the other 48 wait, and a pass sees one of them
  expect(w.executed().filter((id) => children.includes(id))).toEqual(children.slice(0, 1))
  const view = planView(h.o)
  expect(view.candidates.map((l) => l.exec.externalId)).toEqual([children[1]])
  // a child finishing frees a slot: the next one in order goes
  w.notify('put_result', [children[0], value(0)])
  w.notify('notify_terminated', [[children[0]]])
  await until(() => w.executed().includes(children[1]!))
})

test('executions wait out of the runnable lists while their dependencies are pending', async () => {
  w = h.worker({ concurrency: 10 })
  const run = h.submit()
  await until(() => w.executed().includes(run))
  const first = w.call(run, 'child', { args: [value(1)] })
  const second = w.call(run, 'child', { args: [value(null, [['execution', first, 'app', 'child']])], waitFor: [0] })
  await until(() => w.executed().includes(first))
  expect(h.o.queue.blocked().map((l) => l.exec.externalId)).toEqual([second])
  expect(w.executed()).not.toContain(second)
  w.notify('put_result', [first, value(1)])
  await until(() => w.executed().includes(second))
  expect(h.o.queue.blocked()).toEqual([])
})

test('a concurrency limit: executions with the same key run one at a time; a waiting one does not hold the key', async () => {
  w = h.worker({ concurrency: 10 })
  const run = h.submit()
  await w.running(run)
  const limited = (name: string) => w.call(run, 'child', { args: [value(name)], concurrency: [1, 'customer-42'] })
  const a = limited('a')
  const b = limited('b')
  const other = w.call(run, 'child', { args: [value('c')], concurrency: [1, 'customer-43'] })
  await until(() => w.executed().includes(a) && w.executed().includes(other))
  await settle()
  expect(w.executed()).not.toContain(b)
  const queued = h.o.queueOf(h.ws.id).find((l) => l.exec.externalId === b)!
  expect(h.o.queueStatusOf(queued, 'active')).toEqual({ status: 'waiting', reason: 'limit customer-42 1/1' })
  // a blocked in a select on a child of its own: it holds no slot and not its key
  const grandchild = w.call(a, 'grandchild')
  w.select(a, [['execution', grandchild]])
  await until(() => w.executed().includes(b))
})

test('priorities: higher first, inherited by calls that set none', async () => {
  w = h.worker({ concurrency: 2 })
  const run = h.submit({ priority: 3 })
  await w.running(run)
  const inherited = w.call(run, 'child', { args: [value(1)] })
  const own = w.call(run, 'child', { args: [value(2)], priority: -1 })
  expect(h.o.queue.get(h.id(inherited))!.step.priority).toBe(3)
  expect(h.o.queue.get(h.id(own))!.step.priority).toBe(-1)
  // one slot left: the newest call, with priority 10, overtakes both; then 3 before -1
  const urgent = w.call(run, 'child', { args: [value(3)], priority: 10 })
  await until(() => w.executed().length === 2)
  expect(w.executed()[1]).toBe(urgent)
  for (const [done, next] of [[urgent, inherited], [inherited, own]] as const) {
    w.notify('put_result', [done, value(1)])
    w.notify('notify_terminated', [[done]])
    await until(() => w.executed().includes(next))
  }
  expect(w.executed().slice(1)).toEqual([urgent, inherited, own])
})

test('a submitted workflow resolves its limit key from its arguments by parameter name', async () => {
  w = h.worker()
  h.store.manifests.replace(
    h.ws.id,
    { app: { main: { parameters: [{ name: 'customer', default: null, annotation: null }], waitFor: [], cache: null, defer: null, delay: 0, retries: null, recurrent: false, requires: null, instruction: null, timeout: 0, memo: false } as never } },
    h.clock,
  )
  const run = h.submit({ arguments: [new RawJson('"acme"')], concurrency: { limit: 2, key: 'customer-{customer}' } })
  expect(h.o.queue.get(h.id(run))!.step.concurrency).toEqual({ limit: 2, key: 'customer-acme' })
  const plain = h.submit({ concurrency: { limit: 1, key: null } })
  expect(h.o.queue.get(h.id(plain))!.step.concurrency).toEqual({ limit: 1, key: 'app/main' })
})
