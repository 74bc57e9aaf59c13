/**
 * Routing (requires, provides, accepts, concurrency), workspace inheritance and reruns across
 * workspaces, the `submit` flags that override a workflow's options, and worker draining.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './support/binary.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { ensureWorkspace, finalResult, startTestWorker, workspaceId, type TestWorker } from './support/worker.ts'

let server: TestServer
const workers: TestWorker[] = []
let markers: string
beforeAll(async () => {
  server = await startTestServer()
  markers = mkdtempSync(join(tmpdir(), 'coflux-routing-'))
})
afterAll(async () => {
  for (const w of workers) await w.kill()
  await server.cleanup()
})

async function worker(workspace: string, name: string, args: string[] = []): Promise<TestWorker> {
  const w = await startTestWorker(server, { workspace, modules: ['orchestration'], args: ['--register', ...args], env: { WORKER_NAME: name } })
  workers.push(w)
  return w
}

const named = new Map<string, Promise<TestWorker>>()
/** The worker called `name`, started on first use: tests run alone (`-t`) set up what they need, in order they share it. */
function workerOnce(workspace: string, name: string, args: string[] = []): Promise<TestWorker> {
  let w = named.get(name)
  if (!w) named.set(name, (w = worker(workspace, name, args)))
  return w
}

/** `team` and its child workspace `team/dev`, each with a worker. */
async function teamWorkers(): Promise<void> {
  await workerOnce('team', 'team')
  if (!(await workspaceId(server, 'team/dev'))) {
    const team = await ensureWorkspace(server, 'team')
    expect((await server.api('create_workspace', { name: 'team/dev', baseId: team })).status).toBe(200)
  }
  await workerOnce('team/dev', 'dev')
}

function cli(workspace: string, args: string[]) {
  return coflux(args, { host: server.host, workspace, timeoutMs: 60_000 })
}

async function submit(workspace: string, target: string, args: unknown[] = [], flags: string[] = []) {
  const res = await cli(workspace, ['submit', `orchestration/${target}`, ...args.map((a) => JSON.stringify(a)), ...flags, '-o', 'json'])
  if (!res.json?.steps) throw new Error(`submit failed (${res.code}): ${res.stderr}`)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  return { code: res.code, runId, snapshot: res.json, result: finalResult(res.json, runId) }
}

describe('routing', () => {
  test('requires on a task: waits with a reason until a worker provides the tag', async () => {
    await workerOnce('routing', 'cpu')
    const queued = await cli('routing', ['submit', 'orchestration/needs_gpu', '--no-wait', '-o', 'json'])
    const ws = await ensureWorkspace(server, 'routing')
    const entry = await until(async () => {
      const q = (await server.get(`/topics/workspaces/${ws}/queue`)).body
      return Object.values<any>(q).find((e) => e.target === 'on_gpu')
    })
    expect(entry).toMatchObject({ status: 'no_match', requires: { gpu: ['A100'] } })
    expect(entry.reason).toContain('requires gpu=A100')
    await worker('routing', 'gpu', ['--provides', 'gpu:A100'])
    const waited = await cli('routing', ['runs', 'inspect', queued.json.runId, '-o', 'json'])
    expect(finalResult(waited.json, queued.json.runId).value.data).toBe('gpu')
  })

  test('run-level requires from `submit --requires`; a worker with accepts takes only work that asks', async () => {
    await workerOnce('routing', 'cpu')
    await worker('routing', 'picky', ['--accepts', 'region:eu', '--provides', 'region:eu'])
    const eu = await submit('routing', 'where', [], ['--requires', 'region:eu'])
    expect(eu.result.value.data).toBe('picky')
    for (let i = 0; i < 4; i++) {
      const any = await submit('routing', 'where')
      expect(any.result.value.data).not.toBe('picky')
    }
    expect(eu.snapshot.requires).toEqual({ region: ['eu'] })
  })
})

test('a worker with concurrency 1 runs one execution at a time', async () => {
  await worker('serial', 'solo', ['--concurrency', '1'])
  const runs = await Promise.all([0, 1].map(() => cli('serial', ['submit', 'orchestration/nap', '0.5', '--no-wait', '-o', 'json'])))
  const ws = await ensureWorkspace(server, 'serial')
  const spans = await Promise.all(
    runs.map(async (r) => {
      const s = await until(async () => {
        const snap = (await server.get(`/topics/workspaces/${ws}/runs/${r.json.runId}`)).body
        return snap.steps[`${r.json.runId}:1`].executions['1'].result ? snap : null
      })
      const e = s.steps[`${r.json.runId}:1`].executions['1']
      return [e.assignedAt, e.completedAt] as [number, number]
    }),
  )
  spans.sort((a, b) => a[0] - b[0])
  expect(spans[1]![0]).toBeGreaterThanOrEqual(spans[0]![1] - 5)
})

test('sessions list shows running and waiting executions against their bounds', async () => {
  await worker('waiting', 'waits', ['--concurrency', '2', '--max-waiting', '3'])
  // its child requires a gpu no worker provides: the workflow blocks in result(), holding no slot
  const queued = await cli('waiting', ['submit', 'orchestration/needs_gpu', '--no-wait', '-o', 'json'])
  const session = await until(async () => {
    const listed = await cli('waiting', ['sessions', 'list', '-o', 'json'])
    return Object.values<any>(listed.json).find((s) => s.waiting === 1)
  })
  expect(session).toMatchObject({ connected: true, executing: 0, concurrency: 2, waiting: 1, maxWaiting: 3 })
  const text = (await cli('waiting', ['sessions', 'list'])).stdout.split('\n')
  expect(text[0]).toMatch(/^Session\s+Pool\s+Targets\s+Provides\s+Executing\s+Waiting$/)
  expect(text[1]).toMatch(/\s0\/2\s+1\/3$/)
  expect((await cli('waiting', ['runs', 'cancel', queued.json.executionId])).code).toBe(0)
})

describe('workspaces', () => {
  test('a child workspace inherits cached results; the parent never sees the child’s', async () => {
    await teamWorkers()
    const m = join(markers, 'inherit')
    const parent = await submit('team', 'use_cache', [m, 'k'])
    const child = await submit('team/dev', 'use_cache', [m, 'k'])
    expect(child.result.value.data).toBe(parent.result.value.data)
    const devOnly = await submit('team/dev', 'use_cache', [m, 'dev-only'])
    const inParent = await submit('team', 'use_cache', [m, 'dev-only'])
    expect(inParent.result.value.data).not.toBe(devOnly.result.value.data)
  })

  test("a step of the parent's run is re-run in the child workspace", async () => {
    await teamWorkers()
    const m = join(markers, 'rerun')
    const parent = await submit('team', 'memo_calls', [m])
    const rerun = await cli('team/dev', ['runs', 'rerun', `${parent.runId}:2`, '-o', 'json'])
    expect(rerun.code).toBe(0)
    const step = rerun.json.steps[`${parent.runId}:2`]
    expect(Object.keys(step.executions)).toEqual(['1', '2'])
    const devId = await ensureWorkspace(server, 'team/dev')
    expect(step.executions['2'].workspaceId).toBe(devId)
    // from the parent workspace only its own attempt is visible
    const fromParent = (await cli('team', ['runs', 'inspect', parent.runId, '--no-wait', '-o', 'json'])).json
    expect(Object.keys(fromParent.steps[`${parent.runId}:2`].executions)).toEqual(['1'])
    // a workspace unrelated to the run's is refused
    await ensureWorkspace(server, 'elsewhere')
    const unrelated = await cli('elsewhere', ['runs', 'rerun', `${parent.runId}:2`, '--no-wait'])
    expect(unrelated.code).toBe(1)
    expect(unrelated.stderr).toContain('not_found')
  })
})

test('a rerun in a child workspace reuses the memoised executions of the parent', async () => {
  await teamWorkers()
  const m = join(markers, 'memo-rerun')
  const parent = await submit('team', 'memo_calls', [m])
  const stepsBefore = Object.keys(parent.snapshot.steps).length
  const rerun = await cli('team/dev', ['runs', 'rerun', `${parent.runId}:1`, '-o', 'json'])
  expect(rerun.code).toBe(0)
  expect(Object.keys(rerun.json.steps)).toHaveLength(stepsBefore)
  const attempts = rerun.json.steps[`${parent.runId}:1`].executions
  expect(attempts['2'].result.type).toBe('value')
  expect(attempts['2'].children.map((c: any) => c.stepId)).toEqual(attempts['1'].children.map((c: any) => c.stepId))
})

test('archiving a workspace cancels its pending work and ends its worker sessions', async () => {
  const w = await worker('doomed', 'doomed')
  const started = await cli('doomed', ['submit', 'orchestration/nap', '30', '--no-wait', '-o', 'json'])
  const ws = await ensureWorkspace(server, 'doomed')
  await until(async () => Object.values<any>((await server.get(`/topics/workspaces/${ws}/queue`)).body).some((e) => e.status === 'assigned'))
  const archived = await cli('doomed', ['workspaces', 'archive', '-o', 'json'])
  expect(archived.json).toEqual({ id: ws, name: 'doomed', state: 'archived' })
  expect(await w.proc.exited).not.toBe(0)
  expect((await server.get(`/topics/workspaces/${ws}/runs/${started.json.runId}`)).status).toBe(404)
  const list = await cli('doomed', ['workspaces', 'list', '--all', '-o', 'json'])
  expect(list.json[ws].state).toBe('archived')
})

describe('submit flags override the workflow options', () => {
  test('--delay, --retries, --memo, --idempotency-key', async () => {
    await workerOnce('team', 'team')
    const delayed = await submit('team', 'where', [], ['--delay', '0.5'])
    const first = delayed.snapshot.steps[`${delayed.runId}:1`]
    expect(first.executions['1'].executeAfter - first.createdAt).toBe(500)
    const retried = await submit('team', 'where', [], ['--retries', '2'])
    expect(retried.snapshot.steps[`${retried.runId}:1`].retries).toEqual({ limit: 2, backoffMin: 0, backoffMax: 0 })
    const memo = await submit('team', 'where', [], ['--memo'])
    expect(memo.code).toBe(0)
    const a = await cli('team', ['submit', 'orchestration/where', '--idempotency-key', 'once', '--no-wait', '-o', 'json'])
    const b = await cli('team', ['submit', 'orchestration/where', '--idempotency-key', 'once', '--no-wait', '-o', 'json'])
    expect(b.json).toEqual(a.json)
    const both = await cli('team', ['submit', 'orchestration/where', '--memo', '--no-memo'])
    expect(both.code).toBe(2)
  })
})

test('draining: the first signal finishes running work, the second aborts it', async () => {
  const w = await worker('drain', 'drainer')
  const started = await cli('drain', ['submit', 'orchestration/poll_timeout', '--no-wait', '-o', 'json'])
  const ws = await ensureWorkspace(server, 'drain')
  await until(async () => {
    const q = (await server.get(`/topics/workspaces/${ws}/queue`)).body
    return Object.values<any>(q).filter((e) => e.status === 'assigned').length >= 2
  })
  w.proc.kill('SIGTERM')
  await until(() => w.output().includes('shutting down'))
  w.proc.kill('SIGTERM')
  expect(await w.proc.exited).toBe(0)
  const snapshot = await until(async () => {
    const s = (await server.get(`/topics/workspaces/${ws}/runs/${started.json.runId}`)).body
    return Object.values<any>(s.steps).every((step) => step.executions['1'].result) ? s : null
  })
  const types = Object.values<any>(snapshot.steps).map((s) => s.executions['1'].result.type)
  expect(types.every((t) => t === 'abandoned')).toBe(true)
})
