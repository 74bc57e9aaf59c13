/**
 * The orchestration model (semantics.md) with real Python: retries with conditions, caching,
 * memo, deferral, delay, recurrence, waiting, suspension, cancellation, groups.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './support/binary.ts'
import { finalResult, startStack, type Stack } from './support/worker.ts'

let stack: Stack
let markers: string
beforeAll(async () => {
  stack = await startStack({ modules: ['orchestration'], workspace: 'orch' })
  markers = mkdtempSync(join(tmpdir(), 'coflux-markers-'))
})
afterAll(async () => {
  await stack.stop()
})

let counter = 0
function marker(): string {
  return join(markers, `m${++counter}`)
}

function count(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8'))
  } catch {
    return 0
  }
}

async function run(target: string, args: unknown[], extra: string[] = []): Promise<{ code: number; runId: string; snapshot: any; result: any }> {
  const res = await stack.cli(['submit', `orchestration/${target}`, ...args.map((a) => JSON.stringify(a)), ...extra, '-o', 'json'], { timeoutMs: 60_000 })
  if (!res.json?.steps) throw new Error(`submit failed (${res.code}): ${res.stderr}`)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  return { code: res.code, runId, snapshot: res.json, result: finalResult(res.json, runId) }
}

function stepOf(snapshot: any, target: string): any[] {
  return Object.values<any>(snapshot.steps).filter((s) => s.target === target)
}

test('retries with `when`: matching errors are retried with backoff', async () => {
  const m = marker()
  const { result, snapshot } = await run('retry_when', [m, 'transient'])
  expect(result.value.data).toBe(3)
  const [step] = stepOf(snapshot, 'conditional')
  const attempts = step.executions
  expect(Object.keys(attempts)).toEqual(['1', '2', '3'])
  // the backoff ramp: at least 200 ms between a failure and its retry
  expect(attempts['2'].executeAfter - attempts['1'].completedAt).toBeGreaterThanOrEqual(190)
  expect(attempts['1'].result).toMatchObject({ type: 'error', retryable: true, retry: 2 })
})

test('retries with `when`: a non-matching error fails at once, without consuming attempts', async () => {
  const m = marker()
  const { code, result, snapshot } = await run('retry_when', [m, 'fatal'])
  expect(code).toBe(1)
  expect(result.error.type).toBe('builtins.ValueError')
  const [step] = stepOf(snapshot, 'conditional')
  expect(Object.keys(step.executions)).toEqual(['1'])
  expect(step.executions['1'].result).toMatchObject({ retryable: false, retry: null })
  expect(count(m)).toBe(1)
})

test('unlimited retries (limit None) retry until success', async () => {
  const { result } = await run('retry_unlimited', [marker()])
  expect(result.value.data).toBe(4)
})

test('caching: a second run gets the cached result; max_age is applied at lookup', async () => {
  const m = marker()
  const first = await run('use_cache', [m, 'k'])
  const second = await run('use_cache', [m, 'k'])
  expect(first.result.value.data).toBe(1)
  expect(second.result.value.data).toBe(1)
  const [step] = stepOf(second.snapshot, 'cached_value')
  expect(step.executions['1'].result).toMatchObject({ type: 'cached', execution: { target: 'cached_value' }, result: { type: 'value' } })
  expect(count(m)).toBe(1)
  // a different argument is a different key
  expect((await run('use_cache', [m, 'other'])).result.value.data).toBe(2)

  // max_age is 5 s (fixtures/orchestration.py): the second run's lookup fits in it even on a
  // loaded machine; then wait until the cached result is older than that
  const s = marker()
  const fresh = await run('use_short_cache', [s])
  expect(fresh.result.value.data).toBe(1)
  expect((await run('use_short_cache', [s])).result.value.data).toBe(1)
  const [cached] = stepOf(fresh.snapshot, 'short_cache')
  await Bun.sleep(Math.max(0, cached.executions['1'].completedAt + 5_000 + 100 - Date.now()))
  expect((await run('use_short_cache', [s])).result.value.data).toBe(2)
})

test('caching: identical calls in flight share one execution', async () => {
  const m = marker()
  const { result, snapshot } = await run('in_flight', [m])
  expect(result.value.data).toEqual([1, 1])
  expect(count(m)).toBe(1)
  const types = stepOf(snapshot, 'slow_cached').map((s) => s.executions['1'].result.type).sort()
  expect(types).toEqual(['cached', 'value'])
})

test('memo: identical calls in a run reuse one execution; run-level memo with an explicit opt-out', async () => {
  const m = marker()
  const { result, snapshot } = await run('memo_calls', [m])
  expect(result.value.data).toEqual([2, 2, 4])
  expect(stepOf(snapshot, 'memoised')).toHaveLength(2)
  expect(count(m)).toBe(2)

  const r = marker()
  const runMemo = await run('run_memo', [r])
  expect(runMemo.result.value.data).toEqual([1, 1, 1])
  expect(stepOf(runMemo.snapshot, 'plain')).toHaveLength(2)
  expect(count(r)).toBe(2)
})

test('defer: among identical queued calls the newest wins and the others resolve to it', async () => {
  const m = marker()
  const { result, snapshot } = await run('debounce', [m])
  expect(result.value.data).toEqual([1, 1, 1])
  expect(count(m)).toBe(1)
  const types = stepOf(snapshot, 'debounced').map((s) => s.executions['1'].result.type).sort()
  expect(types).toEqual(['deferred', 'deferred', 'value'])
})

test('delay: the call is not dispatched before its execute_after', async () => {
  const { result, snapshot } = await run('delay_call', [])
  const [started, finished] = result.value.data as number[]
  expect(finished! - started!).toBeGreaterThanOrEqual(0.95)
  const [step] = stepOf(snapshot, 'delayed')
  expect(step.executions['1'].executeAfter - step.createdAt).toBe(1000)
})

test('recurrent: re-executes after each None, stops at the first value', async () => {
  const m = marker()
  const { result, snapshot, runId } = await run('recurring', [m])
  expect(result.value.data).toBe(3)
  const attempts = snapshot.steps[`${runId}:1`].executions
  expect(Object.keys(attempts)).toEqual(['1', '2', '3'])
  expect(attempts['1'].result).toMatchObject({ type: 'recurred', successor: 2 })
})

test('wait_for: a task is dispatched only after the executions in its arguments resolve', async () => {
  const { result, snapshot } = await run('wait_for_dependency', [])
  const [waitedAt] = result.value.data as number[]
  const [slow] = stepOf(snapshot, 'sleep_then')
  expect(waitedAt! * 1000).toBeGreaterThanOrEqual(slow.executions['1'].completedAt - 5)
})

test('select returns the first to resolve and cancels the rest', async () => {
  const { result, snapshot } = await run('select_first', [])
  expect(result.value.data).toEqual(['fast'])
  const types = stepOf(snapshot, 'sleep_then').map((s) => s.executions['1'].result?.type).sort()
  expect(types).toEqual(['cancelled', 'value'])
})

test('poll with a timeout returns the default, then the value', async () => {
  const { result } = await run('poll_timeout', [])
  expect(result.value.data).toEqual(['not yet', 'slow'])
})

test('suspense: a wait that times out suspends the execution, which restarts from the top', async () => {
  const m = marker()
  const { result, snapshot, runId } = await run('suspends', [m])
  const [n, value] = result.value.data as [number, string]
  expect(value).toBe('child')
  expect(n).toBeGreaterThanOrEqual(2)
  const attempts = snapshot.steps[`${runId}:1`].executions
  expect(attempts['1'].result).toMatchObject({ type: 'suspended', successor: 2 })
  // the memoised child was not repeated by the restart
  expect(stepOf(snapshot, 'sleep_then')).toHaveLength(1)
})

test('cf.suspend(delay) restarts the execution later', async () => {
  const m = marker()
  const { result, snapshot, runId } = await run('suspend_later', [m])
  expect(result.value.data).toBe(2)
  const attempts = snapshot.steps[`${runId}:1`].executions
  expect(attempts['1'].result.type).toBe('suspended')
  expect(attempts['2'].executeAfter - attempts['1'].completedAt).toBeGreaterThanOrEqual(300)
})

test('cf.cancel cancels a child; the caller sees ExecutionCancelled', async () => {
  const { result, snapshot } = await run('cancels_child', [])
  expect(result.value.data).toBe('child cancelled')
  expect(stepOf(snapshot, 'sleep_then')[0].executions['1'].result.type).toBe('cancelled')
})

test('cf.group names the children made in its block', async () => {
  const { snapshot, runId } = await run('grouped', [])
  const parent = snapshot.steps[`${runId}:1`].executions['1']
  expect(parent.groups).toEqual({ '0': 'batch' })
  expect(parent.children.map((c: any) => c.groupId)).toEqual([0, 0, 0])
})

test('recurrent: an error stops the cycle; cancelling stops a recurring workflow', async () => {
  const failing = await run('recurring_failure', [marker()])
  expect(failing.code).toBe(1)
  const attempts = failing.snapshot.steps[`${failing.runId}:1`].executions
  expect(Object.keys(attempts)).toEqual(['1', '2'])
  expect(attempts['2'].result.type).toBe('error')

  const m = marker()
  const started = await stack.cli(['submit', 'orchestration/forever', JSON.stringify(m), '--no-wait', '-o', 'json'])
  const { runId, executionId } = started.json
  await until(() => count(m) >= 2)
  // cancelling the first attempt follows the recurrence to the active one
  expect((await stack.cli(['runs', 'cancel', executionId])).code).toBe(0)
  const snapshot = await until(async () => {
    const s = (await stack.cli(['runs', 'inspect', runId, '--no-wait', '-o', 'json'])).json
    const list = Object.values<any>(s.steps[`${runId}:1`].executions)
    return list.at(-1).result?.type === 'cancelled' ? s : null
  })
  const settled = count(m)
  await Bun.sleep(600)
  expect(count(m)).toBe(settled)
  expect(Object.values<any>(snapshot.steps[`${runId}:1`].executions).slice(0, -1).every((e) => e.result.type === 'recurred')).toBe(true)
})

test('wait_for follows references nested inside resolved values', async () => {
  const { result, snapshot } = await run('nested_wait', [])
  const [waitedAt] = result.value.data as number[]
  const [slow] = stepOf(snapshot, 'sleep_then')
  expect(waitedAt! * 1000).toBeGreaterThanOrEqual(slow.executions['1'].completedAt - 5)
})
