/**
 * Nothing is lost across restarts: a server restarted (gracefully or killed) in the middle of a
 * run, and a worker restarted between runs, with real processes throughout.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { until } from './support/binary.ts'
import { finalResult, startStack, startTestWorker, waitForRun, type Stack } from './support/worker.ts'

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack.stop()
})

async function submitSlowPair(seconds: number): Promise<string> {
  const { runId } = (await stack.cli(['submit', 'flows/slow_pair', String(seconds), '--no-wait', '-o', 'json'])).json
  await until(async () => {
    const snap = (await stack.server.get(`/topics/workspaces/${stack.workspaceId}/runs/${runId}`)).body
    const children = Object.values<any>(snap?.steps ?? {}).filter((s) => s.stepNumber > 1)
    return children.length === 2 && children.every((s) => s.executions['1'].assignedAt !== null)
  })
  return runId
}

function expectSingleAttempts(snapshot: any): void {
  for (const step of Object.values<any>(snapshot.steps)) expect(Object.keys(step.executions)).toEqual(['1'])
}

for (const mode of ['graceful', 'killed'] as const) {
  test(`a server ${mode === 'graceful' ? 'restarted' : 'killed and restarted'} mid-run: the run completes, each result recorded once`, async () => {
    const runId = await submitSlowPair(1.5)
    if (mode === 'graceful') await stack.server.stop()
    else await stack.server.kill()
    // the children finish while the server is down; the worker keeps their results
    await Bun.sleep(2000)
    await stack.server.restart()
    const snapshot = await waitForRun(stack.server, stack.workspaceId, runId, 40_000)
    expect(finalResult(snapshot, runId).value.data).toEqual([1.5, 1.5])
    expectSingleAttempts(snapshot)
  }, 60_000)
}

test('a worker restarted with a drain finishes its work; the next worker picks up queued runs', async () => {
  const runId = await submitSlowPair(1)
  const code = await stack.worker.stop()
  expect(code).toBe(0)
  expect(stack.worker.output()).toContain('shutting down')
  const drained = await waitForRun(stack.server, stack.workspaceId, runId)
  expect(finalResult(drained, runId).value.data).toEqual([1, 1])
  expectSingleAttempts(drained)
  // with no worker connected, a new run waits in the queue, with a reason
  const { runId: queuedRun, executionId } = (await stack.cli(['submit', 'flows/fan_out', '3', '--no-wait', '-o', 'json'])).json
  const queue = await until(async () => {
    const q = (await stack.cli(['queue', '-o', 'json'])).json
    return q?.[executionId] ? q : null
  })
  expect(queue[executionId]).toMatchObject({ status: 'no_session', reason: 'no connected worker provides flows/fan_out' })
  stack.worker = await startTestWorker(stack.server, { workspace: stack.workspace })
  const snapshot = await waitForRun(stack.server, stack.workspaceId, queuedRun)
  expect(finalResult(snapshot, queuedRun).value.data).toBe(3)
}, 60_000)
