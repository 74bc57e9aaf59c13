/**
 * What the server decides on its own, driven by a scripted worker: the timeout backstop when a
 * worker goes silent, abandonment when a heartbeat omits an execution, and their retries.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { FakeWorker } from './support/fake-worker.ts'
import { until } from './support/binary.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { waitForRun } from './support/worker.ts'

let server: TestServer
let n = 0
beforeAll(async () => {
  // a short grace so the backstop fires within the test
  server = await startTestServer({ env: { COFLUX_SERVER_TIMEOUT_GRACE_MS: '300' } })
})
afterAll(async () => {
  await server.cleanup()
})

async function setup() {
  const ws = (await server.api('create_workspace', { name: `deadline-${++n}` })).body.id as string
  const worker = await FakeWorker.create(server, ws)
  await worker.connect({ app: { workflow: ['main'] } })
  return { ws, worker }
}

test('a worker that never reports: the server records the timeout itself and aborts it', async () => {
  const { ws, worker } = await setup()
  const run = (await server.api('submit_workflow', { workspaceId: ws, module: 'app', target: 'main', arguments: [], timeout: 500 })).body
  const exec = await worker.nextExecute()
  expect(exec.timeoutMs).toBe(500)
  worker.notify('started', [exec.executionId, {}])
  const snapshot = await waitForRun(server, ws, run.runId)
  const attempt = snapshot.steps[`${run.runId}:1`].executions['1']
  expect(attempt.result).toEqual({ type: 'timeout', createdBy: null, retry: null })
  expect(attempt.completedAt - attempt.assignedAt).toBeGreaterThanOrEqual(800)
  await until(() => worker.aborts.includes(exec.executionId))
  // a late result from the worker is ignored: the first write won
  worker.complete(exec.executionId, 'late')
  await Bun.sleep(100)
  const again = (await server.get(`/topics/workspaces/${ws}/runs/${run.runId}`)).body
  expect(again.steps[`${run.runId}:1`].executions['1'].result.type).toBe('timeout')
  worker.close()
})

test('a timed-out execution is retried with a fresh window', async () => {
  const { ws, worker } = await setup()
  const run = (await server.api('submit_workflow', { workspaceId: ws, module: 'app', target: 'main', arguments: [], timeout: 300, retries: { limit: 1, backoffMin: 0, backoffMax: 0 } })).body
  const first = await worker.nextExecute()
  worker.notify('put_timeout', [first.executionId])
  worker.notify('notify_terminated', [[first.executionId]])
  const second = await worker.nextExecute((e) => e.executionId === `${run.runId}:1:2`)
  expect(second.timeoutMs).toBe(300)
  worker.complete(second.executionId, 'ok')
  const snapshot = await waitForRun(server, ws, run.runId)
  expect(snapshot.steps[`${run.runId}:1`].executions['1'].result).toMatchObject({ type: 'timeout', retry: 2 })
  worker.close()
})

test('an execution missing from a heartbeat is abandoned, and retried when the step has retries', async () => {
  const { ws, worker } = await setup()
  const run = (await server.api('submit_workflow', { workspaceId: ws, module: 'app', target: 'main', arguments: [], retries: { limit: 1, backoffMin: 0, backoffMax: 0 } })).body
  const first = await worker.nextExecute()
  worker.notify('record_heartbeats', [{ [first.executionId]: 1 }])
  await Bun.sleep(50)
  worker.notify('record_heartbeats', [{}])
  const second = await worker.nextExecute((e) => e.executionId === `${run.runId}:1:2`)
  worker.complete(second.executionId, 'second time lucky')
  const snapshot = await waitForRun(server, ws, run.runId)
  expect(snapshot.steps[`${run.runId}:1`].executions['1'].result).toMatchObject({ type: 'abandoned', retry: 2 })
  worker.close()
})

test('notify_terminated without a result abandons the execution', async () => {
  const { ws, worker } = await setup()
  const run = (await server.api('submit_workflow', { workspaceId: ws, module: 'app', target: 'main', arguments: [] })).body
  const exec = await worker.nextExecute()
  worker.notify('notify_terminated', [[exec.executionId]])
  const snapshot = await waitForRun(server, ws, run.runId)
  expect(snapshot.steps[`${run.runId}:1`].executions['1'].result).toEqual({ type: 'abandoned', createdBy: null, retry: null })
  worker.close()
})

test('a paused workspace dispatches nothing until resumed', async () => {
  const { ws, worker } = await setup()
  expect((await server.api('pause_workspace', { workspaceId: ws })).status).toBe(204)
  const run = (await server.api('submit_workflow', { workspaceId: ws, module: 'app', target: 'main', arguments: [] })).body
  const queue = await until(async () => (await server.get(`/topics/workspaces/${ws}/queue`)).body[run.executionId])
  expect(queue).toMatchObject({ status: 'paused', reason: 'workspace paused' })
  await Bun.sleep(300)
  expect(worker.executes).toHaveLength(0)
  await server.api('resume_workspace', { workspaceId: ws })
  const exec = await worker.nextExecute()
  expect(exec.executionId).toBe(run.executionId)
  worker.close()
})

test('idempotency keys: the same key in the same workspace returns the first run', async () => {
  const { ws, worker } = await setup()
  const body = { workspaceId: ws, module: 'app', target: 'main', arguments: [], idempotencyKey: 'nightly-1' }
  const first = (await server.api('submit_workflow', body)).body
  const second = (await server.api('submit_workflow', { ...body, arguments: [['json', '1']] })).body
  expect(second).toEqual(first)
  const other = (await server.api('create_workspace', { name: `deadline-${++n}` })).body.id
  const elsewhere = (await server.api('submit_workflow', { ...body, workspaceId: other })).body
  expect(elsewhere.runId).not.toBe(first.runId)
  worker.close()
})
