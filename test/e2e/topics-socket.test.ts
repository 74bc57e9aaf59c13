/**
 * The topics WebSocket against the real server (in-process): a subscription's local copy
 * follows API changes and ends equal to the REST snapshot; errors, limits and reconnects.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../internal/client/api-client.ts'
import { subscribeTopic, type TopicSubscription } from '../../internal/client/topic-subscription.ts'
import { ApiError } from '../../internal/protocol/errors.ts'
import type { Json } from '../../internal/protocol/json.ts'
import { resolveServerSettings, startServer, type RunningServer } from '../../internal/server/index.ts'
import { silentLogger } from '../../internal/server/logger.ts'
import { until } from './support/binary.ts'

const dataDirs: string[] = []
const servers = new Set<RunningServer>()
const subscriptions: TopicSubscription[] = []

function start(options: { dataDir?: string; port?: number; publicHost?: string } = {}): { server: RunningServer; client: ApiClient; dataDir: string } {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'coflux-topics-'))
  if (!options.dataDir) dataDirs.push(dataDir)
  const flags = { port: options.port ?? 0, data_dir: dataDir, public_host: options.publicHost }
  const server = startServer(resolveServerSettings(flags, {}, {}), silentLogger)
  servers.add(server)
  return { server, client: new ApiClient({ host: `localhost:${server.port}`, secure: false }), dataDir }
}

/** A subscription whose latest value is readable at any time (closed after all tests). */
function watch(client: ApiClient, path: string[], options: { onError?: (err: Error) => void } = {}) {
  const state: { value: any; updates: number } = { value: undefined, updates: 0 }
  const sub = subscribeTopic(client, path, (value: Json) => {
    state.value = value
    state.updates++
  }, { minBackoffMs: 20, maxBackoffMs: 200, ...options })
  subscriptions.push(sub)
  return { state, sub }
}

let main: ReturnType<typeof start>
beforeAll(() => {
  main = start()
})
afterAll(async () => {
  for (const sub of subscriptions) sub.close()
  for (const server of servers) await server.stop()
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
})

async function createWorkspace(client: ApiClient, name: string): Promise<string> {
  return (await client.post<{ id: string }>('create_workspace', { name })).id
}

describe('subscribeTopic', () => {
  test('the workspaces copy follows rename, pause, create and archive', async () => {
    const { client } = main
    const id = await createWorkspace(client, 'topics-ws')
    const { state, sub } = watch(client, ['workspaces'])
    await sub.ready
    expect(state.value[id]).toEqual({ name: 'topics-ws', baseId: null, state: 'active' })

    await client.post('update_workspace', { workspaceId: id, name: 'topics-renamed' })
    await until(() => state.value[id].name === 'topics-renamed', { message: 'rename' })
    await client.post('pause_workspace', { workspaceId: id })
    await until(() => state.value[id].state === 'paused', { message: 'pause' })
    const child = await client.post<{ id: string }>('create_workspace', { name: 'topics-child', baseId: id })
    await until(() => state.value[child.id]?.baseId === id, { message: 'new workspace' })
    await client.post('archive_workspace', { workspaceId: child.id })
    await until(() => state.value[child.id].state === 'archived', { message: 'archive' })
    expect(state.value).toEqual(await client.topic('workspaces'))
  })

  test('a run topic ends equal to the REST snapshot after a cancel', async () => {
    const { client } = main
    const ws = await createWorkspace(client, 'topics-run')
    const run = await client.post<{ runId: string; executionId: string }>('submit_workflow', {
      workspaceId: ws,
      module: 'app.flows',
      target: 'main',
      arguments: [['json', '{"n": 1.50}']],
    })
    const { state, sub } = watch(client, ['workspaces', ws, 'runs', run.runId])
    await sub.ready
    expect(state.value).toEqual(await client.topic('workspaces', ws, 'runs', run.runId))

    await client.post('cancel_execution', { workspaceId: ws, executionId: run.executionId })
    const result = () => state.value.steps[`${run.runId}:1`].executions['1'].result
    await until(() => result()?.type === 'cancelled', { message: 'cancelled result' })
    expect(state.updates).toBeGreaterThan(1) // arrived as updates, not as a second full value
    expect(state.value).toEqual(await client.topic('workspaces', ws, 'runs', run.runId))
  })

  test('an unknown topic rejects ready with not_found; another workspace with forbidden', async () => {
    const { client, server } = main
    const ws = await createWorkspace(client, 'topics-mine')
    const other = await createWorkspace(client, 'topics-other')
    const missing = watch(client, ['workspaces', ws, 'runs', 'Rnope']).sub.ready
    await expect(missing).rejects.toMatchObject({ name: 'ApiError', code: 'not_found', status: 404 })

    const { sessionId } = await client.post<{ sessionId: string }>('create_session', { workspaceId: ws })
    const scoped = new ApiClient({ host: `localhost:${server.port}`, secure: false, token: sessionId })
    await expect(watch(scoped, ['workspaces', other, 'queue']).sub.ready).rejects.toMatchObject({ code: 'forbidden', status: 403 })
    const { state, sub } = watch(scoped, ['workspaces'])
    await sub.ready
    expect(Object.keys(state.value)).toEqual([ws])
  })

  test('archiving the workspace ends its topics with not_found', async () => {
    const { client } = main
    const ws = await createWorkspace(client, 'topics-doomed')
    const errors: Error[] = []
    const { sub } = watch(client, ['workspaces', ws, 'queue'], { onError: (err) => errors.push(err) })
    await sub.ready
    await client.post('archive_workspace', { workspaceId: ws })
    const [err] = await until(() => (errors.length > 0 ? errors : null), { message: 'subscription error' })
    expect(err).toMatchObject({ name: 'ApiError', code: 'not_found' })
  })

  test('a queue entry leaves `delayed` when its time comes, without any other change', async () => {
    const { client } = main
    const ws = await createWorkspace(client, 'topics-delay')
    const { state, sub } = watch(client, ['workspaces', ws, 'queue'])
    await sub.ready
    const run = await client.post<{ executionId: string }>('submit_workflow', {
      workspaceId: ws,
      module: 'app.flows',
      target: 'later',
      arguments: [],
      delay: 300,
    })
    await until(() => state.value[run.executionId]?.status === 'delayed', { message: 'delayed' })
    await until(() => state.value[run.executionId].status === 'no_session', { message: 'due' })
    expect(state.value).toEqual(await client.topic('workspaces', ws, 'queue'))
  })

  test('a rejected credential or version is the HTTP error of the upgrade', async () => {
    const { client, server } = main
    const bad = new ApiClient({ host: `localhost:${server.port}`, secure: false, token: 'not-a-token' })
    const err = await watch(bad, ['workspaces']).sub.ready.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' })
    const res = await client.fetch('/topics?version=99.99')
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ error: 'version_mismatch', details: { expected: '99.99' } })
  })

  test('reconnects after a server restart and resynchronises', async () => {
    const first = start()
    const ws = await createWorkspace(first.client, 'restart')
    const { state, sub } = watch(first.client, ['workspaces'])
    await sub.ready
    const port = first.server.port
    await first.server.stop()
    servers.delete(first.server)
    const again = start({ dataDir: first.dataDir, port })
    await again.client.post('update_workspace', { workspaceId: ws, name: 'restarted' })
    await until(() => state.value[ws].name === 'restarted', { message: 'fresh value after reconnect' })
  })

  test('the Host header names the project, as for HTTP requests', async () => {
    const routed = start({ publicHost: '%.localhost' })
    const acme = new ApiClient({ host: `acme.localhost:${routed.server.port}`, secure: false })
    const ws = await createWorkspace(acme, 'acme-ws')
    const { state, sub } = watch(acme, ['workspaces'])
    await sub.ready
    expect(Object.keys(state.value)).toEqual([ws])
    const other = new ApiClient({ host: `other.localhost:${routed.server.port}`, secure: false })
    const { state: empty, sub: otherSub } = watch(other, ['workspaces'])
    await otherSub.ready
    expect(empty.value).toEqual({})
  })

  test('a project created after subscribing is picked up', async () => {
    const fresh = start()
    const { state, sub } = watch(fresh.client, ['workspaces'])
    await sub.ready
    expect(state.value).toEqual({})
    const ws = await createWorkspace(fresh.client, 'late')
    await until(() => state.value[ws]?.name === 'late', { message: 'first workspace' })
  })
})

/** A bare socket, for frame-level checks. */
async function rawSocket(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/topics?version=0.12`, ['v1'])
  const frames: unknown[] = []
  const waiting: ((frame: unknown) => void)[] = []
  ws.onmessage = (e) => {
    const frame = JSON.parse(String(e.data))
    const waiter = waiting.shift()
    if (waiter) waiter(frame)
    else frames.push(frame)
  }
  const closed = new Promise<{ code: number }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code })
  })
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = reject
  })
  expect(ws.protocol).toBe('v1')
  return {
    ws,
    closed,
    send: (frame: unknown) => ws.send(JSON.stringify(frame)),
    next: (): Promise<any> => (frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiting.push(resolve))),
  }
}

describe('frames', () => {
  test('updates are coalesced diffs; unsubscribe stops them; search answers an empty list', async () => {
    const { client, server } = main
    const ws = await createWorkspace(client, 'topics-raw')
    const socket = await rawSocket(server.port)
    socket.send([2, 7, ['workspaces', ws, 'queue']])
    expect(await socket.next()).toEqual([2, 7, {}])
    socket.send([2, 8, ['workspaces']])
    expect((await socket.next())[0]).toBe(2)
    // pause emits a workspaces and a queue event: one frame for the topic that changed
    await client.post('pause_workspace', { workspaceId: ws })
    expect(await socket.next()).toEqual([3, 8, [[0, [ws, 'state'], 'paused']]])
    socket.send([3, 8])
    socket.send([1, 9, ['workspaces', ws, 'search'], 'query', ['text']])
    expect(await socket.next()).toEqual([1, 9, []])
    socket.send([1, 10, ['workspaces', ws, 'queue'], 'query', []])
    expect(await socket.next()).toEqual([0, 10, 'not_found'])
    socket.send([0, ['workspaces'], 'anything', []])
    await client.post('resume_workspace', { workspaceId: ws })
    socket.send([2, 11, ['workspaces', ws, 'search']])
    // nothing for the unsubscribed channel 8 came before this answer
    expect(await socket.next()).toEqual([2, 11, null])
    socket.ws.close()
  })

  test('malformed frames close 1008, oversized ones 1009', async () => {
    const { server } = main
    for (const bad of ['not json', '{"a":1}', '[9, 1]', '[2, "x", ["workspaces"]]', '[2, 1, "workspaces"]']) {
      const socket = await rawSocket(server.port)
      socket.ws.send(bad)
      expect((await socket.closed).code).toBe(1008)
    }
    const socket = await rawSocket(server.port)
    socket.send([2, 1, ['x'.repeat(1024 * 1024)]])
    expect((await socket.closed).code).toBe(1009)
    // the server is still fine
    const after = await rawSocket(server.port)
    after.send([2, 1, ['workspaces']])
    expect((await after.next())[0]).toBe(2)
    after.ws.close()
  })
})
