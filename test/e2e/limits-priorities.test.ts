/**
 * Concurrency limits by key and priorities with a real server, worker and Python: executions
 * with the same key never overlap beyond the limit (across two workers), and a high-priority
 * run overtakes a queue of low-priority ones.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './support/binary.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { ensureWorkspace, finalResult, startTestWorker, waitForRun, type TestWorker } from './support/worker.ts'

let server: TestServer
const workers: TestWorker[] = []
const dirs: string[] = []

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  for (const w of workers) await w.kill()
  await server.cleanup()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function markers(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coflux-limits-'))
  dirs.push(dir)
  return dir
}

async function submit(workspaceId: string, target: string, args: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await server.api('submit_workflow', {
    workspaceId,
    module: 'limits',
    target,
    arguments: args.map((a) => ['json', JSON.stringify(a)]),
    ...extra,
  })
  expect(res.status).toBe(200)
  return res.body.runId
}

/** [start, end] seconds of each recorded execution, by name. */
function spans(dir: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>()
  for (const file of readdirSync(dir)) {
    const [name, event] = file.split('.') as [string, string]
    const at = JSON.parse(readFileSync(join(dir, file), 'utf8')) as number
    const span = out.get(name) ?? [NaN, NaN]
    span[event === 'start' ? 0 : 1] = at
    out.set(name, span)
  }
  return out
}

/** The most executions running at the same moment. */
function maxOverlap(list: [number, number][]): number {
  const events = list.flatMap(([s, e]) => [[s, 1], [e, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let max = 0
  for (const [, d] of events) max = Math.max(max, (now += d))
  return max
}

test('executions with the same key never overlap beyond the limit, across workers; other keys run beside them', async () => {
  const ws = await ensureWorkspace(server, 'limits')
  for (let i = 0; i < 2; i++) {
    workers.push(await startTestWorker(server, { workspace: 'limits', modules: ['limits'], args: ['--register', '--concurrency', '4'] }))
  }
  const dir = markers()
  const runs = [await submit(ws, 'limited_fan', [dir, 'a', 6]), await submit(ws, 'limited_fan', [dir, 'b', 4])]
  for (const runId of runs) await waitForRun(server, ws, runId, 60_000)
  const all = spans(dir)
  const of = (customer: string) => [...all].filter(([name]) => name.startsWith(`${customer}-`)).map(([, span]) => span)
  expect(of('a')).toHaveLength(6)
  expect(of('b')).toHaveLength(4)
  expect(maxOverlap(of('a'))).toBe(2)
  expect(maxOverlap(of('b'))).toBeLessThanOrEqual(2)
  // the two customers' executions did run at the same time: the limit is per key
  expect(maxOverlap([...all.values()])).toBeGreaterThan(2)
}, 90_000)

test('a high-priority run overtakes a queue of low-priority ones', async () => {
  const ws = await ensureWorkspace(server, 'priorities')
  const dir = markers()
  // no worker yet: everything queues, then one worker with one slot takes them in order
  const low = []
  for (let i = 0; i < 4; i++) low.push(await submit(ws, 'nap', [dir, `low${i}`, 0.1], { priority: 0 }))
  const high = await submit(ws, 'nap', [dir, 'high', 0.1], { priority: 5 })
  const queue = await until(async () => {
    const q = (await server.get(`/topics/workspaces/${ws}/queue`)).body
    return Object.keys(q ?? {}).length === 5 ? q : null
  })
  expect(queue[`${high}:1:1`].priority).toBe(5)
  workers.push(await startTestWorker(server, { workspace: 'priorities', modules: ['limits'], args: ['--register', '--concurrency', '1'] }))
  for (const runId of [...low, high]) expect(finalResult(await waitForRun(server, ws, runId, 60_000), runId).type).toBe('value')
  const order = [...spans(dir)].sort((a, b) => a[1][0] - b[1][0]).map(([name]) => name)
  expect(order).toEqual(['high', 'low0', 'low1', 'low2', 'low3'])
}, 90_000)
