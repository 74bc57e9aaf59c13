/**
 * Epochs (semantics.md §23, http-api.md §2.4, §9.10) with the real binary, a real worker and
 * real Python: `rotate_epoch` archives the orchestration store under a running server, work in
 * flight finishes, and archived runs stay readable, cacheable, idempotent and rerunnable.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './support/binary.ts'
import { coflux, type CliResult } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { finalResult, startTestWorker, waitForRun, workspaceId, type TestWorker } from './support/worker.ts'

const SUPER = 'epoch-super-token'
const WORKSPACE = 'epochs'
let server: TestServer
let worker: TestWorker
let ws: string
let markers: string

beforeAll(async () => {
  // anonymous callers may use the server (so the helpers need no token); rotation needs the super token
  server = await startTestServer({ env: { COFLUX_SUPER_TOKEN: SUPER, COFLUX_REQUIRE_AUTH: 'false', COFLUX_BIND: '127.0.0.1' } })
  worker = await startTestWorker(server, { workspace: WORKSPACE, args: ['--register'], modules: ['flows', 'orchestration', 'prompts'] })
  ws = (await workspaceId(server, WORKSPACE))!
  markers = mkdtempSync(join(tmpdir(), 'coflux-epoch-markers-'))
})
afterAll(async () => {
  await worker?.kill()
  await server?.cleanup()
  rmSync(markers, { recursive: true, force: true })
})

const cli = (args: string[]): Promise<CliResult> => coflux(args, { host: server.host, workspace: WORKSPACE })
const archives = () => server.databasesIn('projects/default/orchestration').filter((f) => /^\d{8}_\d{4}\.sqlite$/.test(f)).sort()

async function rotate(): Promise<void> {
  const res = await server.api('rotate_epoch', {}, { authorization: `Bearer ${SUPER}` })
  expect(res.status).toBe(204)
}

async function submit(target: string, args: unknown[], extra: Record<string, unknown> = {}): Promise<{ runId: string; stepId: string; executionId: string }> {
  const [module, name] = target.split('/') as [string, string]
  const res = await server.api('submit_workflow', {
    workspaceId: ws,
    module,
    target: name,
    arguments: args.map((a) => ['json', JSON.stringify(a)]),
    ...extra,
  })
  expect(res.status).toBe(200)
  return res.body
}

async function snapshot(runId: string): Promise<any> {
  return (await server.get(`/topics/workspaces/${ws}/runs/${runId}`)).body
}

async function sessions(): Promise<Record<string, any>> {
  return (await server.get(`/topics/workspaces/${ws}/sessions`)).body
}

test('rotate_epoch is for the super token only', async () => {
  expect((await server.api('rotate_epoch', {})).status).toBe(403)
  expect((await server.api('rotate_epoch', {}, { authorization: 'Bearer wrong-token' })).status).toBe(401)
})

test('rotating while a run is in flight: the run completes, the worker never notices', async () => {
  const before = await sessions()
  const { runId } = await submit('flows/slow', [1.5])
  await until(async () => (await snapshot(runId))?.steps?.[`${runId}:2`]?.executions?.['1']?.assignedAt, { message: 'the sleeper running' })
  const count = archives().length
  await rotate()
  expect(archives().length).toBe(count + 1)
  expect(server.databasesIn('projects/default/orchestration')).toContain('index.sqlite')
  // the running run moved into the new epoch: still visible, still running
  expect((await snapshot(runId)).steps[`${runId}:2`].executions['1'].result).toBeNull()
  const done = await waitForRun(server, ws, runId)
  expect(finalResult(done, runId).value.data).toBe(1.5)
  for (const step of Object.values<any>(done.steps)) expect(Object.keys(step.executions)).toEqual(['1'])
  // same session, still connected, never dropped
  const after = await sessions()
  expect(Object.keys(after)).toEqual(Object.keys(before))
  expect(Object.values<any>(after).every((s) => s.connected)).toBe(true)
  expect(worker.output()).not.toContain('disconnected from server')
  expect(worker.output()).not.toContain('reconnected')
}, 60_000)

test('queued and delayed work at rotation is dispatched in the new epoch', async () => {
  const { runId } = await submit('orchestration/delay_call', [])
  await until(async () => (await snapshot(runId))?.steps?.[`${runId}:2`], { message: 'the delayed step' })
  await rotate()
  const done = await waitForRun(server, ws, runId)
  expect(finalResult(done, runId).type).toBe('value')
}, 60_000)

test('a finished run is still readable after rotation: runs inspect, runs result, logs, workflow topic', async () => {
  const { runId } = await submit('flows/logs', [])
  await waitForRun(server, ws, runId)
  await rotate()
  const inspect = await cli(['runs', 'inspect', runId, '--no-wait', '-o', 'json'])
  expect(inspect.stderr).toBe('')
  expect(inspect.code).toBe(0)
  expect(Object.keys(inspect.json.steps)).toContain(`${runId}:1`)
  expect(finalResult(inspect.json, runId).value.data).toBe('logged')
  const result = await cli(['runs', 'result', runId, '-o', 'json'])
  expect(result.json).toMatchObject({ type: 'value', value: { data: 'logged' } })
  const logs = await until(async () => {
    const r = await cli(['logs', runId])
    return r.code === 0 && r.stdout.includes('hello from print') ? r : null
  })
  expect(logs.stdout).toContain('processing')
  const workflow = (await server.get(`/topics/workspaces/${ws}/workflows/flows/logs`)).body
  expect(Object.keys(workflow.runs)).toContain(runId)
}, 60_000)

test('a cached result from an archived epoch is served in the new epoch, in resolved form', async () => {
  const marker = join(markers, 'cache')
  const first = await submit('orchestration/use_cache', [marker, 'k'])
  const firstDone = await waitForRun(server, ws, first.runId)
  expect(finalResult(firstDone, first.runId).value.data).toBe(1)
  await rotate()
  const second = await submit('orchestration/use_cache', [marker, 'k'])
  const done = await waitForRun(server, ws, second.runId)
  expect(finalResult(done, second.runId).value.data).toBe(1)
  // the cached task did not run again
  expect(readFileSync(marker, 'utf8')).toBe('1')
  const cached = done.steps[`${second.runId}:2`].executions['1'].result
  expect(cached).toMatchObject({
    type: 'cached',
    execution: { executionId: `${first.runId}:2:1`, module: 'orchestration', target: 'cached_value' },
    result: { type: 'value', value: { data: 1 } },
  })
  // the archived run itself was not copied: it is still read from the archive, unchanged
  expect(finalResult(await snapshot(first.runId), first.runId).value.data).toBe(1)
}, 60_000)

test('an idempotency key from before the rotation still returns the original run', async () => {
  const original = await submit('flows/fan_out', [2], { idempotencyKey: 'nightly-2026-05-16' })
  await waitForRun(server, ws, original.runId)
  await rotate()
  const again = await submit('flows/fan_out', [5], { idempotencyKey: 'nightly-2026-05-16' })
  expect(again).toEqual(original)
  const other = await submit('flows/fan_out', [1], { idempotencyKey: 'nightly-2026-05-17' })
  expect(other.runId).not.toBe(original.runId)
  await waitForRun(server, ws, other.runId)
}, 60_000)

test('rerunning a step of an archived run copies it into the new epoch and runs it', async () => {
  const { runId } = await submit('flows/fan_out', [3])
  const done = await waitForRun(server, ws, runId)
  expect(finalResult(done, runId).value.data).toBe(3)
  await rotate()
  const rerun = await cli(['runs', 'rerun', `${runId}:3`, '--no-wait', '-o', 'json'])
  expect(rerun.code).toBe(0)
  expect(rerun.json).toEqual({ executionId: `${runId}:3:2`, attempt: 2 })
  const rerunDone = await until(async () => {
    const result = (await snapshot(runId))?.steps?.[`${runId}:3`]?.executions?.['2']?.result
    return result?.type === 'value' ? result : null
  })
  expect(rerunDone.value.data).toBe(1)
  // the copy kept the run's history
  const snap = await snapshot(runId)
  expect(Object.keys(snap.steps).sort()).toEqual([`${runId}:1`, `${runId}:2`, `${runId}:3`, `${runId}:4`])
  expect(snap.steps[`${runId}:3`].executions["1"].result.value.data).toBe(1)
  expect(finalResult(snap, runId).value.data).toBe(3)
  // rerunning the workflow itself works too, and finds its children again
  const whole = await cli(['runs', 'rerun', `${runId}:1`, '-o', 'json'])
  expect(whole.code).toBe(0)
}, 60_000)

test('a prompt awaited across a rotation is answered in the new epoch, then read from the archive', async () => {
  const { runId } = await submit('prompts/ask_age', ['Ann'])
  const inputId = `${runId}/i1`
  await until(async () => (await server.get(`/topics/workspaces/${ws}/inputs`)).body?.[inputId], { message: 'the input awaited' })
  await rotate()
  // still awaited: the waiting execution and its input were copied into the new epoch
  expect((await server.get(`/topics/workspaces/${ws}/inputs`)).body?.[inputId]).toBeDefined()
  expect((await server.api('respond_input', { inputId, value: 30 })).status).toBe(200)
  const done = await waitForRun(server, ws, runId)
  expect(finalResult(done, runId).value.data).toBe(30)
  await rotate()
  const detail = await server.api('get_input', { inputId })
  expect(detail.status).toBe(200)
  expect(detail.body).toMatchObject({ template: 'How old is {name}?', response: { type: 'value', value: 30 } })
  expect((await server.get(`/topics/inputs/${encodeURIComponent(inputId)}`)).body).toMatchObject({ title: 'Age', active: false })
  expect((await server.api('respond_input', { inputId, value: 31 })).status).toBe(409)
}, 60_000)

test('new run ids never collide with archived ones, across several rotations', async () => {
  const seen = new Map<string, number>()
  const before = archives().length
  for (let round = 0; round < 4; round++) {
    const roundRuns: string[] = []
    for (let i = 0; i < 15; i++) {
      const { runId } = await submit('flows/fan_out', [0])
      expect(seen.has(runId)).toBe(false)
      seen.set(runId, round)
      roundRuns.push(runId)
    }
    // finished runs stay behind in the archive (live ones would be copied along)
    for (const runId of roundRuns) await waitForRun(server, ws, runId)
    await rotate()
  }
  const files = archives()
  expect(files.length).toBe(before + 4)
  // YYYYMMDD_NNNN, numbered within the day
  const today = files.at(-1)!.slice(0, 8)
  expect(files.filter((f) => f.startsWith(today)).map((f) => Number(f.slice(9, 13)))).toEqual(
    Array.from({ length: files.filter((f) => f.startsWith(today)).length }, (_, i) => i + 1),
  )
  // every run is still found, in whichever epoch it lives
  for (const runId of seen.keys()) expect((await snapshot(runId))?.steps?.[`${runId}:1`]).toBeDefined()
}, 120_000)

test('after a server restart, archived runs are found again through the persisted index', async () => {
  const { runId } = await submit('flows/fan_out', [2], { idempotencyKey: 'before-restart' })
  await waitForRun(server, ws, runId)
  await rotate()
  await server.restart()
  expect(finalResult(await snapshot(runId), runId).value.data).toBe(1)
  expect((await submit('flows/fan_out', [9], { idempotencyKey: 'before-restart' })).runId).toBe(runId)
  // the worker reconnects and new work runs in the current epoch
  const fresh = await submit('flows/fan_out', [3])
  expect(finalResult(await waitForRun(server, ws, fresh.runId), fresh.runId).value.data).toBe(3)
}, 60_000)
