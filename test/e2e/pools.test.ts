/**
 * Pools with the process launcher (semantics.md §21, http-api.md §9.3, cli.md §8.10): queued
 * work launches a real `coflux worker`, which runs it, goes idle, drains and is stopped; pool
 * configuration round-trips through export/import with its secrets redacted yet kept; a
 * disabled pool launches nothing; launcher types the server does not enable are refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../internal/client/api-client.ts'
import { subscribeTopic, type TopicSubscription } from '../../internal/client/topic-subscription.ts'
import { cofluxCommand, REPO, until } from './support/binary.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { ensureWorkspace, FIXTURES, finalResult } from './support/worker.ts'

const BUILT = join(REPO, 'dist', 'coflux')
let server: TestServer
let scratch: string
const subscriptions: TopicSubscription[] = []

beforeAll(async () => {
  // launched workers run `<cli path> worker …`: the built binary, also when the server runs from sources
  if (!existsSync(BUILT)) {
    const build = Bun.spawnSync(['bun', 'scripts/build.ts'], { cwd: REPO, stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
  }
  const fromSources = cofluxCommand()[0] !== BUILT
  server = await startTestServer({ env: { COFLUX_LAUNCHER_TYPES: 'process', ...(fromSources ? { COFLUX_CLI_PATH: BUILT } : {}) } })
  scratch = mkdtempSync(join(tmpdir(), 'coflux-pools-'))
})

afterAll(async () => {
  for (const sub of subscriptions) sub.close()
  // graceful: the server stops the workers it launched before exiting
  await server.stop()
  await server.cleanup()
  rmSync(scratch, { recursive: true, force: true })
})

function cli(workspace: string, args: string[], options: { cwd?: string } = {}) {
  return coflux(args, { host: server.host, workspace, timeoutMs: 90_000, ...options })
}

async function register(workspace: string, module: string): Promise<string> {
  const res = await cli(workspace, ['manifests', 'register', module], { cwd: FIXTURES })
  if (res.code !== 0) throw new Error(`register failed: ${res.stderr}`)
  return ensureWorkspace(server, workspace)
}

async function createPool(workspace: string, name: string, modules: string, ...extra: string[]) {
  const res = await cli(workspace, ['pools', 'create', name, '--type', 'process', '--modules', modules, '--set', `directory=${FIXTURES}`, ...extra])
  expect(res).toMatchObject({ code: 0, stdout: `Created pool '${name}'.\n` })
}

async function launches(workspace: string, pool: string): Promise<Record<string, any>> {
  const res = await cli(workspace, ['pools', 'launches', pool, '-o', 'json'])
  if (res.code !== 0) throw new Error(res.stderr)
  return res.json
}

async function submit(workspace: string, target: string, ...args: string[]) {
  const res = await cli(workspace, ['submit', target, ...args, '-o', 'json'])
  if (!res.json?.steps) throw new Error(`submit failed (${res.code}): ${res.stderr}`)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  return finalResult(res.json, runId)
}

/** Every status each queue entry went through, from a live subscription. */
async function watchQueue(wsId: string): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>()
  const client = new ApiClient({ host: server.host, secure: false })
  const sub = subscribeTopic(client, ['workspaces', wsId, 'queue'], (value: any) => {
    for (const [id, entry] of Object.entries<any>(value ?? {})) {
      if (!seen.has(id)) seen.set(id, new Set())
      seen.get(id)!.add(entry.status)
    }
  })
  subscriptions.push(sub)
  await sub.ready
  return seen
}

test('queued work launches a worker, which runs it, drains when idle and is stopped', async () => {
  const ws = 'pools-launch'
  const wsId = await register(ws, 'flows')
  await createPool(ws, 'gen', 'flows')
  const queue = await watchQueue(wsId)

  // no worker is running: the pool launches one for the run and for the tasks it submits
  const result = await submit(ws, 'flows/fan_out', '3')
  expect(result).toMatchObject({ type: 'value', value: { data: 3 } })
  const initial = [...queue.entries()].find(([id]) => id.endsWith(':1:1'))!
  expect(initial[1].has('launching')).toBe(true)

  const sessions = (await server.get(`/topics/workspaces/${wsId}/sessions`)).body
  expect(Object.values<any>(sessions).map((s) => s.poolName)).toContain('gen')

  const workers = await launches(ws, 'gen')
  const [workerId, worker] = Object.entries(workers)[0]!
  expect(Object.keys(workers)).toHaveLength(1)
  expect(workerId).toMatch(/^[0-9a-f-]{36}$/)
  expect(worker).toMatchObject({ startError: null, error: null })
  expect(worker.startedAt).toBeGreaterThanOrEqual(worker.startingAt)
  expect(worker.executions).toBe(4)

  // idle for 5 s → draining → stopped (SIGTERM) → its exit is seen by the next poll
  const stopped = await until(
    async () => {
      const w = (await launches(ws, 'gen'))[workerId]
      return w.deactivatedAt !== null ? w : null
    },
    { timeoutMs: 45_000, intervalMs: 500, message: 'the idle worker to be stopped' },
  )
  expect(stopped).toMatchObject({ state: 'draining', error: null, stopError: null, connected: false, sessionId: null })
  expect(stopped.stoppingAt).not.toBeNull()
  expect(stopped.stoppedAt).not.toBeNull()
  const text = await cli(ws, ['pools', 'launches', 'gen'])
  expect(text.stdout).toContain(`${workerId}  Stopped`)
  expect((await server.get(`/topics/workspaces/${wsId}/sessions`)).body).toEqual({})
})

test('export/import round trip: secrets are redacted, kept, and reach the worker', async () => {
  const ws = 'pools-sync'
  await register(ws, 'pooled')
  await createPool(ws, 'sec', 'pooled', '--set', 'secretEnv.API_KEY=s3cret', '--set', 'env.MODE=one', '--provides', 'tier:fast')

  const got = await cli(ws, ['pools', 'get', 'sec', '-o', 'json'])
  expect(got.json).toMatchObject({
    modules: ['pooled'],
    provides: { tier: ['fast'] },
    launcher: { type: 'process', directory: FIXTURES, env: { MODE: 'one' }, secretEnv: { API_KEY: '<redacted>' } },
    state: 'active',
  })
  expect(got.stdout).not.toContain('s3cret')

  const file = join(scratch, 'pools.toml')
  const exported = await cli(ws, ['pools', 'export', '--to', file])
  expect(exported.code).toBe(0)
  const toml = readFileSync(file, 'utf8')
  expect(toml).toContain('<redacted>')
  expect(toml).not.toContain('s3cret')

  // unchanged file: nothing to do
  const same = await cli(ws, ['pools', 'import', file, '--yes'])
  expect(same.stdout).toContain('No changes.')

  writeFileSync(file, toml.replace('"one"', '"two"'))
  const imported = await cli(ws, ['pools', 'import', file, '--yes', '-o', 'json'])
  expect(imported.json).toEqual({ changes: [{ name: 'sec', action: 'update' }], applied: true })
  const after = await cli(ws, ['pools', 'export', '-o', 'json'])
  expect(after.json.sec.launcher).toMatchObject({ env: { MODE: 'two' }, secretEnv: { API_KEY: '<redacted>' } })

  // the worker launched for these runs gets the stored secret, decrypted, and the new env
  expect(await submit(ws, 'pooled/env', '"API_KEY"', '--requires', 'tier:fast')).toMatchObject({ value: { data: 's3cret' } })
  expect(await submit(ws, 'pooled/env', '"MODE"', '--requires', 'tier:fast')).toMatchObject({ value: { data: 'two' } })
  expect(await submit(ws, 'pooled/env', '"COFLUX_SESSION"', '--requires', 'tier:fast')).toMatchObject({ value: { data: null } })
})

test('a disabled pool launches nothing until enabled again', async () => {
  const ws = 'pools-off'
  const wsId = await register(ws, 'flows')
  await createPool(ws, 'gen', 'flows')
  const disabled = await cli(ws, ['pools', 'disable', 'gen', '-o', 'json'])
  expect(disabled.json).toEqual({ pool: 'gen', state: 'disabled' })

  const queued = await cli(ws, ['submit', 'flows/fan_out', '1', '--no-wait', '-o', 'json'])
  const entry = await until(async () => (await server.get(`/topics/workspaces/${wsId}/queue`)).body[queued.json.executionId])
  // the status is computed by the same rule that decides launches
  expect(entry.status).toBe('no_session')
  expect(await launches(ws, 'gen')).toEqual({})

  expect((await cli(ws, ['pools', 'enable', 'gen'])).stdout).toBe("Enabled pool 'gen'.\n")
  const done = await cli(ws, ['runs', 'inspect', queued.json.runId, '-o', 'json'])
  expect(finalResult(done.json, queued.json.runId)).toMatchObject({ type: 'value', value: { data: 0 } })
  expect(Object.keys(await launches(ws, 'gen'))).toHaveLength(1)
})

describe('API', () => {
  test('a launcher type the server does not enable is not_allowed', async () => {
    const ws = 'pools-api'
    const wsId = await ensureWorkspace(server, ws)
    const res = await server.api('create_pool', { workspaceId: wsId, poolName: 'd', pool: { launcher: { type: 'docker', image: 'app:1' } } })
    expect(res).toEqual({ status: 400, body: { error: 'bad_request', details: { 'pool.launcher.type': 'not_allowed' } } })
    const viaCli = await cli(ws, ['pools', 'create', 'k', '--type', 'kubernetes', '--set', 'image=app:1'])
    expect(viaCli.code).toBe(1)
    expect(viaCli.stderr).toContain('not_allowed')
  })

  test('update_pools is conditional on the ETag of get_pools; pool errors are 404/409', async () => {
    const wsId = await ensureWorkspace(server, 'pools-etag')
    const pool = { modules: ['app'], launcher: { type: 'process', directory: '/srv' } }
    expect((await server.api('create_pool', { workspaceId: wsId, poolName: 'a', pool })).status).toBe(204)
    expect((await server.api('create_pool', { workspaceId: wsId, poolName: 'a', pool })).body.error).toBe('already_exists')
    const res = await fetch(`${server.url}/api/get_pools`, { method: 'POST', body: JSON.stringify({ workspaceId: wsId }) })
    const etag = res.headers.get('etag')!
    expect(await res.json()).toEqual({ a: pool })

    const stale = await server.api('update_pools', { workspaceId: wsId, pools: {} }, { 'if-match': '"0000"' })
    expect(stale).toEqual({ status: 412, body: { error: 'conflict', details: { message: 'Pool configuration has changed' }, message: 'Pool configuration has changed' } })
    const applied = await server.api('update_pools', { workspaceId: wsId, pools: { b: pool } }, { 'if-match': etag })
    expect(applied.status).toBe(204)
    expect(Object.keys((await server.get(`/topics/workspaces/${wsId}/pools`)).body)).toEqual(['b'])

    expect((await server.api('update_pool', { workspaceId: wsId, poolName: 'a', pool: {} })).status).toBe(404)
    expect((await server.api('disable_pool', { workspaceId: wsId, poolName: 'a' })).status).toBe(404)
    const change = await server.api('update_pool', { workspaceId: wsId, poolName: 'b', pool: { launcher: { type: 'docker' } } })
    expect(change).toMatchObject({ status: 409, body: { error: 'type_change' } })
    expect((await server.api('stop_worker', { workspaceId: wsId, workerId: crypto.randomUUID() })).status).toBe(404)
  })
})
