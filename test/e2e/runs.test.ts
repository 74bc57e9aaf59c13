/**
 * Whole flows through `coflux submit` with a real server, worker and Python: fan-out, chains,
 * errors, every serialised type, large values, child workflows.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { finalResult, startStack, type Stack } from './support/worker.ts'

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack.stop()
})

test('a fan-out of tasks: submit waits, prints the run id off-TTY, exits 0', async () => {
  const res = await stack.cli(['submit', 'flows/fan_out', '20'])
  expect(res.code).toBe(0)
  const runId = res.stdout.trim()
  expect(runId).toMatch(/^R\w{3,}$/)
  const result = await stack.cli(['runs', 'result', runId, '-o', 'json'])
  expect(result.json).toEqual({ type: 'value', createdBy: null, value: { type: 'raw', data: 190, references: [] } })
  const snapshot = (await stack.cli(['runs', 'inspect', runId, '--no-wait'])).json
  expect(Object.keys(snapshot.steps)).toHaveLength(21)
  for (const step of Object.values<any>(snapshot.steps)) expect(step.executions['1'].result.type).toBe('value')
})

test('a chain of calls, in JSON mode: the run snapshot', async () => {
  const res = await stack.cli(['submit', 'flows/chain', '15', '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  expect(finalResult(res.json, runId).value.data).toBe(105)
  const numbers = Object.values<any>(res.json.steps).map((s) => s.stepNumber)
  expect(numbers).toEqual(Array.from({ length: 16 }, (_, i) => i + 1))
  // each call is made after the previous one returned
  const created = Object.values<any>(res.json.steps).slice(1).map((s) => s.createdAt)
  expect([...created].sort((a, b) => a - b)).toEqual(created)
})

test('a child error is catchable as its original type', async () => {
  const res = await stack.cli(['submit', 'flows/catches', '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  expect(finalResult(res.json, runId).value.data).toBe('caught: boom')
})

test('an uncaught error fails the run with the user traceback and exit code 1', async () => {
  const res = await stack.cli(['submit', 'flows/errors'])
  expect(res.code).toBe(1)
  const runId = res.stdout.trim()
  const json = (await stack.cli(['runs', 'result', runId, '-o', 'json'])).json
  expect(json.type).toBe('error')
  expect(json.error.type).toBe('flows.CustomError')
  expect(json.error.message).toBe('bad thing')
  const files = json.error.frames.map((f: any) => f.file)
  expect(files.length).toBeGreaterThan(0)
  expect(files.every((f: string) => f.endsWith('flows.py'))).toBe(true)
  const text = await stack.cli(['runs', 'result', runId])
  expect(text.code).toBe(0)
  expect(text.stdout).toContain('Traceback (most recent call last):')
  expect(text.stdout).toContain('flows.CustomError: bad thing')
  expect(text.stdout).not.toContain('coflux/')
  // the child's own step failed with the raising frame
  const snapshot = (await stack.cli(['runs', 'inspect', runId, '--no-wait'])).json
  const child = snapshot.steps[`${runId}:2`].executions['1'].result
  expect(child.error.frames.at(-1)).toMatchObject({ name: 'fails', code: 'raise CustomError(message)' })
})

test('every serialised type round-trips through a child task', async () => {
  const res = await stack.cli(['submit', 'flows/round_trip', '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  const result = finalResult(res.json, runId)
  expect(result.type).toBe('value')
  // large enough to travel as a blob; the CLI fetches and prints it
  const text = await stack.cli(['runs', 'result', runId])
  for (const fragment of ['"big" ↦ 18446744073709551616', '"decimal" ↦ 1.10', '"date" ↦ 2026-05-16', '"timedelta" ↦ 1m30s', '"tuple" ↦ (1, 2)', '"uuid" ↦ 00000000-0000-0000-0000-000000000001', '<fragment bytes']) {
    expect(text.stdout).toContain(fragment)
  }
})

test('a value over 64 KiB goes through files and blobs', async () => {
  const res = await stack.cli(['submit', 'flows/large', '200000', '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  const value = finalResult(res.json, runId).value
  expect(value.type).toBe('blob')
  expect(value.size).toBe(200002)
  const blob = await stack.cli(['blobs', 'get', value.key])
  expect(blob.stdout).toBe(JSON.stringify('x'.repeat(200000)))
})

test('a workflow called from a workflow starts its own run', async () => {
  const res = await stack.cli(['submit', 'flows/parent_workflow', '4', '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  expect(finalResult(res.json, runId).value.data).toBe(50)
  const call = res.json.steps[`${runId}:2`].executions['1'].result
  expect(call.type).toBe('spawned')
  const childRun = call.execution.executionId.split(':')[0]
  expect(childRun).not.toBe(runId)
  const child = (await stack.cli(['runs', 'inspect', childRun, '--no-wait'])).json
  expect(child.parent).toEqual({ executionId: `${runId}:2:1`, module: 'flows', target: 'child_workflow' })
})

test('assets keep relative paths and restore in another execution', async () => {
  const res = await stack.cli(['submit', 'flows/assets', '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  expect(finalResult(res.json, runId).value.data).toEqual([
    ['out/a.txt', 'alpha'],
    ['out/nested/b.txt', 'beta'],
  ])
  const producer = res.json.steps[`${runId}:2`].executions['1']
  const [assetId] = Object.keys(producer.assets)
  const inspect = await stack.cli(['assets', 'inspect', assetId!, '-o', 'json'])
  expect(Object.keys(inspect.json.entries).sort()).toEqual(['out/a.txt', 'out/nested/b.txt'])
})

test('an unknown workflow is refused before anything runs', async () => {
  const res = await stack.cli(['submit', 'flows/nope'])
  expect(res.code).toBe(1)
  expect(res.stderr).toContain('not_found')
})
