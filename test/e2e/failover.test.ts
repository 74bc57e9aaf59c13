/**
 * A standby takes over (issue 10): two real servers on one real PostgreSQL, a fan-out running
 * on a real worker that knows both; the owner is killed with SIGKILL and the standby takes the
 * project's lease, restores its state from the store, and the worker and the CLI follow it. The
 * run completes there with every child run once and each result recorded once. Also: a server
 * that does not own the project answers with the owner, and a graceful stop hands it over at
 * once.
 */
import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './support/binary.ts'
import { coflux } from './support/cli.ts'
import { startPostgres } from './support/postgres.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { finalResult, startTestWorker, waitForRun, workspaceId, type TestWorker } from './support/worker.ts'

const WORKSPACE = 'failover'
// short leases: the takeover comes within a couple of seconds
const LEASE = { COFLUX_SERVER_LEASE_TTL_MS: '2000' }

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function pair(): Promise<[TestServer, TestServer]> {
  const databaseUrl = await (await startPostgres()).createDatabase()
  const first = await startTestServer({ databaseUrl, env: LEASE })
  cleanups.push(() => first.cleanup())
  // the first takes the project's lease with its first write
  expect((await first.api('create_workspace', { name: WORKSPACE })).status).toBe(200)
  const second = await startTestServer({ databaseUrl, env: LEASE })
  cleanups.push(() => second.cleanup())
  return [first, second]
}

test('a server that does not own the project answers 307 with the owner, for the API and worker sockets', async () => {
  const [first, second] = await pair()
  const res = await fetch(`${second.url}/api/create_workspace`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'x' }),
    redirect: 'manual',
  })
  expect(res.status).toBe(307)
  const owner = res.headers.get('coflux-owner')!
  expect(owner).toBe(`127.0.0.1:${first.port}`)
  expect(res.headers.get('location')).toBe(`http://${owner}/api/create_workspace`)
  expect(await res.json()).toEqual({ error: 'not_owner', owner, project: 'default' })
  const upgrade = await fetch(`${second.url}/worker?project=default`, { headers: { upgrade: 'websocket', connection: 'upgrade' }, redirect: 'manual' })
  expect(upgrade.status).toBe(307)
  // the CLI given both follows it
  const listed = await coflux(['workspaces', 'list', '-o', 'json'], { host: `${second.host},${first.host}` })
  expect(listed.code).toBe(0)
  expect(Object.values<any>(listed.json).map((w) => w.name)).toContain(WORKSPACE)
}, 60_000)

const CHILDREN = 24

/**
 * A fan-out of CHILDREN children, each writing a marker line each time it runs, on a real worker
 * given `hosts`; resolves once a quarter of them ran.
 */
async function fanOutUnderWay(server: TestServer, hosts: string): Promise<{ runId: string; wsId: string; markers: string; cli: { host: string; workspace: string } }> {
  const markers = mkdtempSync(join(tmpdir(), 'coflux-failover-'))
  cleanups.push(() => rmSync(markers, { recursive: true, force: true }))
  const worker: TestWorker = await startTestWorker(server, { workspace: WORKSPACE, args: ['--register', '--concurrency', '4'], env: { COFLUX_HOST: hosts } })
  cleanups.push(() => worker.kill())
  const cli = { host: hosts, workspace: WORKSPACE }
  const submitted = await coflux(['submit', 'flows/counted_fan_out', String(CHILDREN), '0.3', JSON.stringify(markers), '--no-wait', '-o', 'json'], cli)
  expect(submitted.code).toBe(0)
  const wsId = (await workspaceId(server, WORKSPACE))!
  await until(() => readdirSync(markers).length >= CHILDREN / 4, { timeoutMs: 30_000, message: 'the fan-out under way' })
  return { runId: submitted.json.runId, wsId, markers, cli }
}

/** The run's result is complete, and every child ran once with one result recorded. */
async function expectCompletedOnce(server: TestServer, wsId: string, runId: string, markers: string): Promise<void> {
  const snapshot = await waitForRun(server, wsId, runId, 90_000)
  expect(finalResult(snapshot, runId).value.data).toBe((CHILDREN * (CHILDREN - 1)) / 2)
  for (const step of Object.values<any>(snapshot.steps)) expect(Object.keys(step.executions)).toEqual(['1'])
  expect(readdirSync(markers).sort()).toEqual(Array.from({ length: CHILDREN }, (_, i) => String(i)).sort())
  for (const file of readdirSync(markers)) expect(readFileSync(join(markers, file), 'utf8')).toBe('ran\n')
}

test('the owner killed mid fan-out: the standby takes over and the run completes, each child run once', async () => {
  const [first, second] = await pair()
  const { runId, wsId, markers, cli } = await fanOutUnderWay(first, `${first.host},${second.host}`)
  // some children done, others running or queued: the owner dies
  await first.kill()
  await expectCompletedOnce(second, wsId, runId, markers)
  expect(second.stderr()).toContain('project default: serving it')
  // the CLI, its first server dead, reads the run from the standby
  const inspected = await coflux(['runs', 'inspect', runId, '-o', 'json'], cli)
  expect(inspected.code).toBe(0)
  expect(finalResult(inspected.json, runId).value.data).toBe((CHILDREN * (CHILDREN - 1)) / 2)
}, 150_000)

test('a graceful stop hands the project over at once; the old owner then redirects', async () => {
  const [first, second] = await pair()
  await first.stop()
  // released, not expired: the standby serves it within its next upkeep round
  await until(async () => (await second.api('create_workspace', { name: 'after' })).status === 200, { timeoutMs: 10_000, message: 'the standby serving' })
  await first.restart()
  const res = await fetch(`${first.url}/api/create_workspace`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'y' }),
    redirect: 'manual',
  })
  expect(res.status).toBe(307)
  expect(res.headers.get('coflux-owner')).toBe(`127.0.0.1:${second.port}`)
}, 60_000)

test('PostgreSQL drops every connection mid fan-out: the server reconnects (reopening the project from the store) and the run completes once', async () => {
  const databaseUrl = await (await startPostgres()).createDatabase()
  const server = await startTestServer({ databaseUrl, env: LEASE })
  cleanups.push(() => server.cleanup())
  const { runId, wsId, markers } = await fanOutUnderWay(server, server.host)

  const admin = new Bun.SQL(databaseUrl, { max: 1 })
  try {
    const killed = await admin`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`
    expect(killed.length).toBeGreaterThan(0)
  } finally {
    await admin.close()
  }

  await expectCompletedOnce(server, wsId, runId, markers)
}, 150_000)
