/**
 * The orchestrator through the real `/worker` socket, driven by a scripted 0.12-style JSON
 * worker: dispatch, child calls and waiting, retries, result idempotency, restarts, bad frames.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { FakeWorker } from './support/fake-worker.ts'
import { until } from './support/binary.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { finalResult, waitForRun } from './support/worker.ts'

let server: TestServer
let n = 0
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.cleanup()
})

async function setup(targets = { app: { workflow: ['main'], task: ['child'] } }) {
  const ws = (await server.api('create_workspace', { name: `proto-${++n}` })).body.id as string
  const worker = await FakeWorker.create(server, ws)
  await worker.connect(targets)
  return { ws, worker }
}

async function submit(ws: string, extra: Record<string, unknown> = {}) {
  const res = await server.api('submit_workflow', { workspaceId: ws, module: 'app', target: 'main', arguments: [['json', '{"b": 1, "a": 2.50}']], ...extra })
  expect(res.status).toBe(200)
  return res.body as { runId: string; stepId: string; executionId: string }
}

test('a submitted run is dispatched and its value recorded, numbers verbatim', async () => {
  const { ws, worker } = await setup()
  const run = await submit(ws)
  expect(run.stepId).toBe(`${run.runId}:1`)
  const exec = await worker.nextExecute()
  expect(exec.executionId).toBe(run.executionId)
  expect(exec.arguments).toEqual([['raw', { type: 'dict', items: ['a', 2.5, 'b', 1] }, []]])
  // written by hand: JSON.stringify would turn 1.0 into 1 and round the big integer
  worker.sendRaw(`{"request":"put_result","params":["${exec.executionId}",["raw",{"type":"tuple","items":[1.0,18446744073709551616,1e-07]},[]]]}`)
  const snapshot = await waitForRun(server, ws, run.runId)
  expect(finalResult(snapshot, run.runId).value.type).toBe('raw')
  const raw = await fetch(`${server.url}/topics/workspaces/${ws}/runs/${run.runId}`).then((r) => r.text())
  expect(raw).toContain('"items":[1.0,18446744073709551616,1e-07]')
  const queue = await server.get(`/topics/workspaces/${ws}/queue`)
  expect(queue.body).toEqual({})
  worker.close()
})

test('a child call is submitted, awaited with select, and answered when it completes', async () => {
  const { ws, worker } = await setup()
  const run = await submit(ws)
  const parent = await worker.nextExecute()
  const submitted = await worker.request('submit', ['app', 'child', 'task', [['raw', 7, []]], parent.executionId, null, null, null, null, null, 0, null, false, null, null], `${parent.executionId}#1`)
  expect(submitted.ok).toBe(true)
  const [childId, module, target] = submitted.value
  expect([module, target]).toEqual(['app', 'child'])
  // a re-sent request with the same idempotency key does not create a second step
  const again = await worker.request('submit', ['app', 'child', 'task', [['raw', 7, []]], parent.executionId, null, null, null, null, null, 0, null, false, null, null], `${parent.executionId}#1`)
  expect(again.value[0]).toBe(childId)
  const pendingSelect = worker.request('select', [[['execution', childId]], parent.executionId, null, false, false])
  const child = await worker.nextExecute((e) => e.executionId === childId)
  worker.complete(child.executionId, 8)
  const answer = await pendingSelect
  expect(answer).toEqual({ ok: true, value: { winner: 0, status: 'ok', value: ['raw', 8, []] } })
  worker.complete(parent.executionId, 8)
  const snapshot = await waitForRun(server, ws, run.runId)
  expect(Object.keys(snapshot.steps)).toEqual([`${run.runId}:1`, `${run.runId}:2`])
  expect(snapshot.steps[`${run.runId}:1`].executions['1'].children).toEqual([{ stepId: `${run.runId}:2`, attempt: 1, groupId: null }])
  worker.close()
})

test('a failure with retries creates the next attempt; waiters only see the final outcome', async () => {
  const { ws, worker } = await setup()
  const run = await submit(ws, { retries: { limit: 1, backoffMin: 0, backoffMax: 0 } })
  const first = await worker.nextExecute()
  worker.fail(first.executionId, 'builtins.ValueError', 'first')
  const second = await worker.nextExecute((e) => e.executionId === `${run.runId}:1:2`)
  let snapshot = (await server.get(`/topics/workspaces/${ws}/runs/${run.runId}`)).body
  expect(snapshot.steps[`${run.runId}:1`].executions['1'].result).toMatchObject({ type: 'error', retry: 2, error: { type: 'builtins.ValueError', message: 'first' } })
  worker.fail(second.executionId, 'builtins.ValueError', 'second', false)
  snapshot = await waitForRun(server, ws, run.runId)
  expect(finalResult(snapshot, run.runId)).toMatchObject({ type: 'error', retry: null, retryable: false, error: { frames: [{ file: 'flows.py', line: 3, name: 'fn', code: 'raise X' }] } })
  worker.close()
})

test('the first result wins; a duplicate after a reconnection is ignored', async () => {
  const { ws, worker } = await setup()
  const run = await submit(ws)
  const exec = await worker.nextExecute()
  worker.notify('put_result', [exec.executionId, ['raw', 'first', []]])
  worker.notify('put_result', [exec.executionId, ['raw', 'second', []]])
  const snapshot = await waitForRun(server, ws, run.runId)
  expect(finalResult(snapshot, run.runId).value.data).toBe('first')
  worker.close()
})

test('a server restart mid-run: the session resumes and the run completes exactly once', async () => {
  const { ws, worker } = await setup()
  const run = await submit(ws)
  const exec = await worker.nextExecute()
  worker.notify('started', [exec.executionId, {}])
  worker.notify('record_heartbeats', [{ [exec.executionId]: 1 }])
  // frames are handled in order: once a later request is answered, both were taken in
  expect(await worker.request('get_asset', ['Anone', exec.executionId])).toEqual({ ok: false, value: 'not_found' })
  await server.restart()
  await until(() => worker.closed, { message: 'old connection closed' })
  await worker.connect({ app: { workflow: ['main'], task: ['child'] } })
  expect(worker.sessionFrames.at(-1)).toEqual([exec.executionId])
  worker.complete(exec.executionId, 'done')
  const snapshot = await waitForRun(server, ws, run.runId)
  expect(finalResult(snapshot, run.runId).value.data).toBe('done')
  expect(Object.keys(snapshot.steps[`${run.runId}:1`].executions)).toEqual(['1'])
  worker.close()
})

test('a malformed frame closes that connection only; the server keeps serving', async () => {
  const { worker } = await setup()
  worker.sendRaw('{not json')
  await until(() => worker.closed)
  expect(worker.closed!.code).toBe(1008)
  expect((await server.get('/api/discover')).status).toBe(200)
})

test('naming an execution the session does not hold closes with execution_invalid', async () => {
  const { worker } = await setup()
  worker.notify('put_result', ['Rxyz:1:1', ['raw', 1, []]])
  await until(() => worker.closed)
  expect(worker.closed).toEqual({ code: 4000, reason: 'execution_invalid' })
})

test('a bad session token is refused with session_invalid', async () => {
  const ws = (await server.api('create_workspace', { name: `proto-${++n}` })).body.id
  const worker = new FakeWorker(server, ws, 'bcdfghjklmnpq.notthesecret')
  await worker.connect({}).catch(() => {})
  await until(() => worker.closed)
  expect(worker.closed).toEqual({ code: 4000, reason: 'session_invalid' })
})
