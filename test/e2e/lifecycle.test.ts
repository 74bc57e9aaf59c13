/**
 * Logs, cancellation, reruns and timeouts with a real server, worker and Python.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { until } from './support/binary.ts'
import { finalResult, startStack, type Stack } from './support/worker.ts'

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack.stop()
})

async function snapshot(runId: string): Promise<any> {
  return (await stack.cli(['runs', 'inspect', runId, '--no-wait', '-o', 'json'])).json
}

test('print and cf.log_* become logs, readable as text and JSON', async () => {
  const run = (await stack.cli(['submit', 'flows/logs'])).stdout.trim()
  const json = await until(async () => {
    const res = await stack.cli(['logs', run, '-o', 'json'])
    return res.json?.logs?.length >= 3 ? res.json : null
  })
  expect(json.logs.map((l: any) => [l.level, l.template])).toEqual([
    [1, 'hello from print'],
    [2, 'processing {count} items'],
    [4, 'careful now'],
  ])
  expect(json.logs[1].values).toEqual({ count: { type: 'raw', data: 3, references: [] } })
  expect(json.cursor).toMatch(/^:\d+:\d+$/)
  const text = await stack.cli(['logs', run])
  expect(text.code).toBe(0)
  expect(text.stdout).toContain('flows/logs 1:1')
  expect(text.stdout).toMatch(/STDOUT hello from print/)
  expect(text.stdout).toMatch(/INFO +processing 3 items/)
  expect(text.stdout).toMatch(/WARN +careful now/)
})

test('cancelling a run stops its running children and exits the waiter with 1', async () => {
  const submitted = await stack.cli(['submit', 'flows/slow_pair', '30', '--no-wait', '-o', 'json'])
  const { runId, executionId } = submitted.json
  await until(async () => {
    const snap = await snapshot(runId)
    const children = Object.values<any>(snap.steps).filter((s) => s.stepNumber > 1)
    return children.length === 2 && children.every((s) => s.executions['1'].assignedAt !== null)
  })
  const cancelled = await stack.cli(['runs', 'cancel', executionId, '-o', 'json'])
  expect(cancelled.json).toEqual({ cancelled: true })
  const snap = await until(async () => {
    const s = await snapshot(runId)
    return Object.values<any>(s.steps).every((step) => step.executions['1'].result?.type === 'cancelled') ? s : null
  })
  expect(Object.keys(snap.steps)).toHaveLength(3)
  const waited = await stack.cli(['runs', 'inspect', runId, '-o', 'json'])
  expect(waited.code).toBe(1)
})

test('rerunning a step adds an attempt and cancels the running one', async () => {
  const { runId } = (await stack.cli(['submit', 'flows/slow', '30', '--no-wait', '-o', 'json'])).json
  await until(async () => (await snapshot(runId)).steps[`${runId}:2`]?.executions['1']?.assignedAt)
  const rerun = await stack.cli(['runs', 'rerun', `${runId}:1`, '--no-wait', '-o', 'json'])
  expect(rerun.json).toEqual({ executionId: `${runId}:1:2`, attempt: 2 })
  const snap = await until(async () => {
    const s = await snapshot(runId)
    return s.steps[`${runId}:1`].executions['1'].result?.type === 'cancelled' && s.steps[`${runId}:2`].executions['1'].result?.type === 'cancelled' ? s : null
  })
  expect(Object.keys(snap.steps[`${runId}:1`].executions)).toEqual(['1', '2'])
  await stack.cli(['runs', 'cancel', `${runId}:1:2`])
  const bad = await stack.cli(['runs', 'rerun', 'nonsense'])
  expect(bad.code).toBe(1)
  expect(bad.stderr).toContain("invalid step ID format")
  const unknown = await stack.cli(['runs', 'rerun', 'Rzzzz:1'])
  expect(unknown.code).toBe(1)
  expect(unknown.stderr).toContain('not_found')
})

test('a task over its timeout is killed and recorded as timeout', async () => {
  const res = await stack.cli(['submit', 'flows/times_out', '-o', 'json'], { timeoutMs: 30_000 })
  expect(res.code).toBe(1)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  const child = res.json.steps[`${runId}:2`].executions['1']
  expect(child.result.type).toBe('timeout')
  expect(child.completedAt - child.assignedAt).toBeLessThan(10_000)
  expect(finalResult(res.json, runId).error.type).toBe('coflux.errors.ExecutionTimeout')
})

test('retries: a flaky task succeeds on its third attempt', async () => {
  const marker = `/tmp/coflux-e2e-flaky-${process.pid}-${Date.now()}`
  const res = await stack.cli(['submit', 'flows/retrying', JSON.stringify(marker), '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  expect(finalResult(res.json, runId).value.data).toBe('succeeded after 3 attempts')
  const attempts = res.json.steps[`${runId}:2`].executions
  expect(Object.keys(attempts)).toEqual(['1', '2', '3'])
  expect(attempts['1'].result).toMatchObject({ type: 'error', retry: 2 })
  expect(attempts['2'].result).toMatchObject({ type: 'error', retry: 3 })
})
