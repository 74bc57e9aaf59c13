/**
 * Epoch retention (semantics.md §23.3) with the real binary: with `epochs.retention_days` set,
 * orchestration epochs and log partitions archived longer ago than that are deleted (at start-up
 * and every minute); their runs become unknown and their logs gone, while the active store and
 * younger archives stay. Without the setting archives are kept (epochs.test.ts).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { until } from './support/binary.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { finalResult, startTestWorker, workspaceId, type TestWorker } from './support/worker.ts'

const SUPER = 'retention-super-token'
const WORKSPACE = 'retention'
/** a few seconds, in days: what a test can wait for */
const RETENTION_MS = 3_000
let server: TestServer
let worker: TestWorker

beforeAll(async () => {
  server = await startTestServer({
    env: { COFLUX_SUPER_TOKEN: SUPER, COFLUX_REQUIRE_AUTH: 'false', COFLUX_BIND: '127.0.0.1', COFLUX_EPOCHS_RETENTION_DAYS: String(RETENTION_MS / 86_400_000) },
  })
  worker = await startTestWorker(server, { workspace: WORKSPACE, args: ['--register'], modules: ['flows'] })
})
afterAll(async () => {
  await worker?.kill()
  await server?.cleanup()
})

const cli = (args: string[]) => coflux(args, { host: server.host, workspace: WORKSPACE })
const archived = (store: string) => server.databasesIn(`projects/default/${store}`).filter((f) => /^\d{8}_\d{4}\.sqlite$/.test(f))

async function rotate(what: 'rotate_epoch' | 'rotate_logs'): Promise<void> {
  expect((await server.api(what, {}, { authorization: `Bearer ${SUPER}` })).status).toBe(204)
}

async function runLogs(runId: string): Promise<string[]> {
  const res = await cli(['logs', runId, '-o', 'json'])
  expect(res.code).toBe(0)
  return res.json.logs.map((l: { template: string }) => l.template)
}

test('archives past the retention are deleted with their runs and logs; the active store stays', async () => {
  const old = await cli(['submit', 'flows/logs', '-o', 'json'])
  const oldRun = Object.keys(old.json.steps)[0]!.split(':')[0]!
  expect(finalResult(old.json, oldRun)).toMatchObject({ type: 'value', value: { data: 'logged' } })
  const logged = await until(async () => ((await runLogs(oldRun)).length >= 3 ? runLogs(oldRun) : null), { message: 'the run logs to arrive' })

  await rotate('rotate_epoch')
  await rotate('rotate_logs')
  const rotatedAt = Date.now()
  expect(archived('orchestration')).toHaveLength(1)
  expect(archived('logs')).toHaveLength(1)
  // archived, not gone: still readable
  expect((await cli(['runs', 'inspect', oldRun, '-o', 'json'])).code).toBe(0)
  expect(await runLogs(oldRun)).toEqual(logged)

  // once the retention has passed, the next pass (at start-up, then every minute) deletes them
  await until(() => Date.now() > rotatedAt + RETENTION_MS, { timeoutMs: RETENTION_MS + 5_000, intervalMs: 100 })
  await server.restart()
  expect(archived('orchestration')).toEqual([])
  expect(archived('logs')).toEqual([])
  const said = await until(() => (/deleted log partition/.test(server.stderr()) ? server.stderr() : null), { message: 'the deletions to be logged' })
  expect(said).toMatch(/deleted orchestration epoch \d{8}_\d{4} \(retention\)/)
  expect(said).toMatch(/deleted log partition \d{8}_\d{4} \(retention\)/)

  const gone = await cli(['runs', 'inspect', oldRun, '-o', 'json'])
  expect(gone.code).toBe(1)
  expect(gone.stderr).toContain('not_found')
  expect(await runLogs(oldRun)).toEqual([])

  // the active store is untouched: the workspace, its manifests and new runs work as before
  expect(await workspaceId(server, WORKSPACE)).not.toBeNull()
  const fresh = await cli(['submit', 'flows/fan_out', '2', '-o', 'json'])
  const freshRun = Object.keys(fresh.json.steps)[0]!.split(':')[0]!
  expect(finalResult(fresh.json, freshRun)).toMatchObject({ type: 'value', value: { data: 1 } })
})
