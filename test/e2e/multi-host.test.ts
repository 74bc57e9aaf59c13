/**
 * Several servers for one project (issue 10): the CLI and a worker given `--host a,b` follow a
 * server's 307 to the project's owner, wait out a 503 `no_owner`, and move past a dead server.
 * Real `coflux server` processes, a real worker and CLI; a small loopback server in this test
 * plays a server that does not own the project (it answers per protocol/ownership.ts).
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test'
import { coflux } from './support/cli.ts'
import { until } from './support/binary.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { finalResult, startTestWorker, waitForRun, workspaceId, type TestWorker } from './support/worker.ts'

/** A server that does not own the project: 307 to `owner`, or 503 while there is none. */
class NotOwner {
  owner: string | null = null
  /** the project the real servers serve (the one they name in /api/discover) */
  project = ''
  readonly seen: { method: string; path: string; status: number; isUpgrade: boolean }[] = []
  readonly server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (req) => {
      const url = new URL(req.url)
      const isUpgrade = req.headers.get('upgrade')?.toLowerCase() === 'websocket'
      const owner = this.owner
      this.seen.push({ method: req.method, path: url.pathname, status: owner ? 307 : 503, isUpgrade })
      if (!owner) return Response.json({ error: 'no_owner', project: this.project }, { status: 503, headers: { 'retry-after': '1' } })
      return Response.json(
        { error: 'not_owner', owner, project: this.project },
        { status: 307, headers: { location: `http://${owner}${url.pathname}${url.search}`, 'coflux-owner': owner } },
      )
    },
  })

  get host(): string {
    return `127.0.0.1:${this.server.port}`
  }

  count(status: number, filter: (s: NotOwner['seen'][number]) => boolean = () => true): number {
    return this.seen.filter((s) => s.status === status && filter(s)).length
  }
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * `of`: another (dead) server whose store this one takes over: its data directory (the last
 * `--data-dir` wins) and, in the PostgreSQL pass, its database.
 */
async function server(options: { of?: TestServer } = {}): Promise<TestServer> {
  const of = options.of
  const s = await startTestServer(of ? { args: ['--data-dir', of.dataDir], databaseUrl: of.databaseUrl ?? undefined } : {})
  cleanups.push(() => s.cleanup())
  return s
}

async function notOwner(owner: string | null, project: TestServer): Promise<NotOwner> {
  const n = new NotOwner()
  n.owner = owner
  n.project = (await project.get('/api/discover')).body.project
  cleanups.push(() => n.server.stop(true))
  return n
}

const names = async (host: string): Promise<string[]> => {
  const r = await coflux(['workspaces', 'list', '-o', 'json'], { host })
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return Object.values<any>(r.json).map((w) => w.name).sort()
}

test('the CLI follows a 307 to the owner, and moves past a dead first server', async () => {
  const [a, b] = [await server(), await server()]
  const other = await notOwner(b.host, b)
  const created = await coflux(['workspaces', 'create', 'on-b', '-o', 'json'], { host: other.host })
  expect(created.code).toBe(0)
  expect(created.json.name).toBe('on-b')
  expect(other.seen.map((s) => `${s.status} ${s.method} ${s.path}`)).toEqual(['307 POST /api/create_workspace'])
  expect(await workspaceId(b, 'on-b')).toBeTruthy()
  expect(await workspaceId(a, 'on-b')).toBeNull()

  // a list: the first server that answers serves the command
  expect((await coflux(['workspaces', 'create', 'on-a'], { host: `${a.host}, ${b.host}` })).code).toBe(0)
  expect(await workspaceId(a, 'on-a')).toBeTruthy()
  expect(await names(`${a.host},${b.host}`)).toContain('on-a')

  await a.kill()
  const after = await names(`${a.host},${b.host}`)
  expect(after).toContain('on-b')
  expect(after).not.toContain('on-a')
}, 60_000)

test('the CLI waits out 503 no_owner until a server names the owner', async () => {
  const b = await server()
  await b.api('create_workspace', { name: 'after-takeover' })
  const other = await notOwner(null, b)
  const listing = names(other.host)
  await until(() => other.count(503) >= 2, { message: 'the CLI asking again after 503' })
  other.owner = b.host
  expect(await listing).toContain('after-takeover')
}, 60_000)

test('a bad entry in --host is a clear usage error', async () => {
  const r = await coflux(['workspaces', 'list'], { host: 'localhost:7777,,localhost:7778' })
  expect(r.code).not.toBe(0)
  expect(r.stderr).toContain('invalid host list "localhost:7777,,localhost:7778": entry 2 is empty')
})

let worker: TestWorker | undefined
afterAll(async () => {
  await worker?.kill()
})

test('a worker and the CLI follow the project to a standby after its owner dies; the run completes once', async () => {
  const first = await server()
  const other = await notOwner(first.host, first)
  // the worker and the CLI ask the server that does not own the project first
  const hosts = `${other.host},${first.host}`
  worker = await startTestWorker(first, { workspace: 'failover', args: ['--register'], env: { COFLUX_HOST: hosts } })
  expect(worker.output()).toContain(`connected to ${first.host}`)
  const submitted = await coflux(['submit', 'flows/slow_pair', '1.5', '--no-wait', '-o', 'json'], { host: hosts, workspace: 'failover' })
  expect(submitted.code).toBe(0)
  const { runId } = submitted.json
  const wsId = (await workspaceId(first, 'failover'))!
  await until(async () => {
    const snap = (await first.get(`/topics/workspaces/${wsId}/runs/${runId}`)).body
    const children = Object.values<any>(snap?.steps ?? {}).filter((s) => s.stepNumber > 1)
    return children.length === 2 && children.every((s) => s.executions['1'].assignedAt !== null)
  })

  // the owner dies; for a while nobody owns the project; then a standby on its store takes over
  other.owner = null
  await first.kill()
  await until(() => other.count(503) >= 1, { timeoutMs: 30_000, message: 'the worker asking the other server' })
  const standby = await server({ of: first })
  other.owner = standby.host

  const snapshot = await waitForRun(standby, wsId, runId, 60_000)
  expect(finalResult(snapshot, runId).value.data).toEqual([1.5, 1.5])
  for (const step of Object.values<any>(snapshot.steps)) expect(Object.keys(step.executions)).toEqual(['1'])
  expect(worker.output()).toContain(`reconnected to server at ${standby.host}`)
  // the worker found the standby through its HTTP probe (the socket cannot read a 307's owner)
  expect(other.count(307, (s) => s.path === '/api/discover')).toBeGreaterThan(0)

  // and the CLI, its first server dead, reads the run and waits for a new one on the standby
  const cli = { host: `${first.host},${other.host}`, workspace: 'failover' }
  const inspected = await coflux(['runs', 'inspect', runId, '-o', 'json'], cli)
  expect(inspected.code).toBe(0)
  expect(finalResult(inspected.json, runId).value.data).toEqual([1.5, 1.5])
  const waited = await coflux(['submit', 'flows/fan_out', '3', '-o', 'json'], cli)
  expect(waited.code).toBe(0)
  const initial = Object.entries<any>(waited.json.steps).find(([, s]) => s.stepNumber === 1)![0]
  expect(finalResult(waited.json, initial.split(':')[0]!).value.data).toBe(3)
}, 120_000)
