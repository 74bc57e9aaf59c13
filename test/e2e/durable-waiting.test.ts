/**
 * Durable waiting with real processes: executions blocked in a wait hold no slot (a burst of
 * fan-out workflows larger than the concurrency completes), the waiting bound suspends the
 * longest-waiting execution and its successor re-attaches to the children, and a workflow
 * whose worker is killed (even with the server killed twice meanwhile) is resumed on another
 * worker without running a finished task twice.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './support/binary.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { ensureWorkspace, finalResult, startTestWorker, waitForRun, type TestWorker } from './support/worker.ts'

let server: TestServer
const workers: TestWorker[] = []
const dirs: string[] = []

beforeAll(async () => {
  // a killed worker's session expires after 3 s instead of 30 s
  server = await startTestServer({ env: { COFLUX_SERVER_RECONNECTION_TIMEOUT_MS: '3000' } })
})
afterAll(async () => {
  for (const w of workers) await w.kill()
  await server.cleanup()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function worker(workspace: string, args: string[]): Promise<TestWorker> {
  const w = await startTestWorker(server, { workspace, modules: ['durable'], args: ['--register', ...args] })
  workers.push(w)
  return w
}

async function submit(workspaceId: string, target: string, args: unknown[]): Promise<string> {
  const res = await server.api('submit_workflow', {
    workspaceId,
    module: 'durable',
    target,
    arguments: args.map((a) => ['json', JSON.stringify(a)]),
  })
  expect(res.status).toBe(200)
  return res.body.runId
}

async function snapshot(workspaceId: string, runId: string): Promise<any> {
  return (await server.get(`/topics/workspaces/${workspaceId}/runs/${runId}`)).body
}

/** result types of a step's executions, by attempt */
function attempts(snap: any, stepId: string): string[] {
  return resultTypes(snap.steps[stepId])
}

function resultTypes(step: any): string[] {
  const executions = step.executions
  return Object.keys(executions)
    .sort((a, b) => Number(a) - Number(b))
    .map((n) => executions[n].result?.type ?? 'none')
}

function markerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coflux-markers-'))
  dirs.push(dir)
  return dir
}

/** How many executions of each task finished (one marker file each). */
function finished(dir: string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const file of readdirSync(dir)) {
    const name = file.split('.')[0]!
    counts[name] = (counts[name] ?? 0) + 1
  }
  return counts
}

test('16 clients x 10 fan-out workflows at concurrency 4 all complete with the right values', async () => {
  const ws = await ensureWorkspace(server, 'burst')
  await worker('burst', ['--concurrency', '4'])
  const clients = Array.from({ length: 16 }, async (_, c) => {
    const runs: [string, number][] = []
    for (let i = 0; i < 10; i++) {
      const k = c * 10 + i
      runs.push([await submit(ws, 'fan_sum', [k]), k])
    }
    return runs
  })
  const runs = (await Promise.all(clients)).flat()
  expect(runs).toHaveLength(160)
  for (const [runId, k] of runs) {
    const snap = await waitForRun(server, ws, runId, 240_000)
    expect(finalResult(snap, runId)).toMatchObject({ type: 'value', value: { data: 3 * k + 6 } })
  }
}, 300_000)

test('the waiting bound suspends the longest-waiting workflow; its successor re-attaches, no task runs twice', async () => {
  const ws = await ensureWorkspace(server, 'bound')
  const w = await worker('bound', ['--concurrency', '1', '--max-waiting', '1'])
  const dir = markerDir()
  const runId = await submit(ws, 'marked_fan', [dir, 3, 0.2])
  const snap = await waitForRun(server, ws, runId, 60_000)
  expect(finalResult(snap, runId)).toMatchObject({ type: 'value', value: { data: ['t0', 't1', 't2'] } })
  // the workflow waited while its tasks were queued for the only slot: it was suspended
  const workflow = attempts(snap, `${runId}:1`)
  expect(workflow[0]).toBe('suspended')
  expect(workflow.at(-1)).toBe('value')
  // every task step was called once and ran once, however many attempts the workflow took
  const tasks = Object.values<any>(snap.steps).filter((s) => s.stepNumber > 1)
  expect(tasks).toHaveLength(3)
  for (const task of tasks) expect(Object.keys(task.executions)).toEqual(['1'])
  expect(finished(dir)).toEqual({ t0: 1, t1: 1, t2: 1 })
  await w.stop()
}, 90_000)

for (const serverKills of [0, 2]) {
  const title =
    serverKills === 0
      ? 'kill -9 of the worker mid fan-out: a new worker resumes the workflow, no finished task runs twice'
      : 'the same with the server killed twice in between'
  test(title, async () => {
    const name = `killed-${serverKills}`
    const ws = await ensureWorkspace(server, name)
    const first = await worker(name, ['--concurrency', '4'])
    const dir = markerDir()
    const runId = await submit(ws, 'marked_chain', [dir, 4, 0.6])
    // two tasks finished (their values recorded), the third running
    await until(
      async () => {
        const steps = Object.values<any>((await snapshot(ws, runId))?.steps ?? {}).filter((s) => s.stepNumber > 1)
        return steps.filter((s) => resultTypes(s).includes('value')).length >= 2
      },
      { timeoutMs: 30_000, message: 't0 and t1 finished' },
    )
    await first.kill()
    for (let i = 0; i < serverKills; i++) {
      await server.kill()
      await server.restart()
    }
    await worker(name, ['--concurrency', '4'])
    const snap = await waitForRun(server, ws, runId, 90_000)
    expect(finalResult(snap, runId)).toMatchObject({ type: 'value', value: { data: ['t0', 't1', 't2', 't3'] } })
    // the run tree shows the lost attempt and the one that resumed it
    const workflow = attempts(snap, `${runId}:1`)
    expect(workflow[0]).toBe('abandoned')
    expect(workflow.at(-1)).toBe('value')
    // finished tasks were re-attached, not re-run; the one killed mid-way ran again
    const counts = finished(dir)
    expect({ t0: counts.t0, t1: counts.t1 }).toEqual({ t0: 1, t1: 1 })
    expect(counts.t2).toBeGreaterThanOrEqual(1)
    expect(counts.t3).toBe(1)
    const tasks = Object.values<any>(snap.steps).filter((s) => s.stepNumber > 1)
    expect(tasks.map((t) => t.target).sort()).toEqual(['marked', 'marked', 'marked', 'marked'])
  }, 150_000)
}
