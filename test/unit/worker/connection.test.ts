/** The connection to the server: delivery until acknowledged, reconnection, heartbeats, fatal refusals. */
import { afterEach, describe, expect, test } from 'bun:test'
import { backoffDelay, WorkerConnection } from '../../../internal/worker/connection.ts'
import { FakeServer, type FakeServerOptions } from './support/fake-server.ts'
import { inline, recordingLog, startHarness, type Harness } from './support/harness.ts'

let server: FakeServer
let harness: Harness | undefined

afterEach(async () => {
  await harness?.close()
  harness = undefined
  server?.stop()
})

async function start(options: FakeServerOptions = {}) {
  server = new FakeServer(options)
  harness = startHarness(server)
  await server.until(() => server.named('declare_targets').length > 0)
}

const on = (connection: number, request: string, id?: string) =>
  server.frames.filter((f) => f.connection === connection && f.request === request && (id === undefined || JSON.stringify(f.params).includes(id)))

describe('deliveries (semantics.md §20.6)', () => {
  test('results are re-sent after every reconnection until acknowledged', async () => {
    let held: string[] = []
    await start({ acks: false, held: () => held })
    server.execute('D1:1:1', 'echo', [inline(5)])
    await server.until(() => on(1, 'notify_terminated', 'D1:1:1').length)
    held = ['D1:1:1']
    server.disconnect()
    await server.until(() => on(2, 'notify_terminated', 'D1:1:1').length)
    const second = server.frames.filter((f) => f.connection === 2 && ['put_result', 'notify_terminated'].includes(f.request))
    expect(second.map((f) => f.request)).toEqual(['put_result', 'notify_terminated'])
    // acknowledged now: the worker forgets, even though this server keeps listing it
    server.send([4, 'D1:1:1', 'result'])
    server.send([4, 'D1:1:1', 'terminated'])
    await server.until(() => !harness!.session.deliveries.has('D1:1:1'))
    server.disconnect()
    await server.until(() => on(3, 'declare_targets').length)
    await Bun.sleep(100)
    expect(on(3, 'put_result').length + on(3, 'notify_terminated').length).toBe(0)
  })

  test('a completion produced while disconnected goes out after reconnecting, before its termination', async () => {
    await start({ held: () => ['D2:1:1'] })
    server.execute('D2:1:1', 'sleep', [inline(0.4)])
    await server.until(() => server.named('started').length)
    server.disconnect()
    await server.until(() => server.named('notify_terminated').length)
    const frames = server.frames.filter((f) => ['put_result', 'notify_terminated'].includes(f.request))
    expect(frames.map((f) => [f.request, f.connection])).toEqual([['put_result', 2], ['notify_terminated', 2]])
    await server.until(() => harness!.session.deliveries.size === 0)
  })

  test('executions the session frame no longer lists are forgotten; running ones are killed', async () => {
    await start({ acks: false })
    server.execute('D3:1:1', 'echo', [inline(1)])
    server.execute('D3:2:1', 'sleep', [inline(30)])
    await server.until(() => on(1, 'notify_terminated').length && on(1, 'started', 'D3:2:1').length)
    server.disconnect()
    await server.until(() => on(2, 'declare_targets').length)
    await server.until(() => harness!.session.table.size === 0)
    expect(harness!.session.deliveries.size).toBe(0)
    expect(on(2, 'put_result').length + on(2, 'put_error').length + on(2, 'notify_terminated').length).toBe(0)
  })

  test('a plain-JSON server gets no re-sends once the termination was written (no acks)', async () => {
    await start({ json: true })
    server.execute('D4:1:1', 'echo', [inline(1)])
    await server.until(() => server.named('notify_terminated').length)
    expect(harness!.session.deliveries.size).toBe(0)
  })
})

describe('requests across reconnections', () => {
  test('a request made while disconnected waits and keeps its idempotency key', async () => {
    let answer = false
    await start({ held: () => ['Q1:1:1'], reply: (f) => (f.request === 'cancel' && answer ? { result: null } : undefined) })
    server.execute('Q1:1:1', 'request', [inline({ method: 'cancel', params: { handles: [] } })])
    await server.until(() => server.named('cancel').length === 1)
    answer = true
    server.disconnect()
    await server.until(() => server.named('notify_terminated').length)
    const cancels = server.named('cancel')
    expect(cancels.map((f) => [f.connection, f.key])).toEqual([[1, 'Q1:1:1#1'], [2, 'Q1:1:1#1']])
    expect(cancels[0]!.id).toBe(cancels[1]!.id)
    expect(server.named('put_result').length).toBe(1)
  })

  test('a select is re-issued with the time that is left', async () => {
    await start({ held: () => ['Q2:1:1'], reply: () => undefined })
    server.execute('Q2:1:1', 'request', [inline({ method: 'select', params: { handles: [{ type: 'input', id: 'Q2/i1' }], timeout_ms: 60_000, suspend: false } })])
    await server.until(() => server.named('select').length === 1)
    await Bun.sleep(300) // time waited, not synchronisation
    server.disconnect()
    await server.until(() => server.named('select').length === 2)
    const [first, second] = server.named('select').map((f) => f.params[2] as number)
    expect(first).toBe(60_000)
    expect(second).toBeLessThanOrEqual(59_700)
    // a loose lower bound: a loaded machine may take seconds to reconnect
    expect(second).toBeGreaterThan(30_000)
    server.send([2, server.named('select')[1]!.id, null])
    await server.until(() => server.named('put_result').length)
  })
})

describe('liveness', () => {
  test('heartbeats every interval, empty or with the heartbeat state of each held execution', async () => {
    await start()
    await server.until(() => server.named('record_heartbeats').length >= 3)
    expect(server.named('record_heartbeats')[0]!.params).toEqual([{}])
    server.execute('H1:1:1', 'sleep', [inline(0.8)])
    await server.until(() => server.named('record_heartbeats').find((f) => (f.params[0] as any)['H1:1:1'] === 1))
    await server.until(() => server.named('notify_terminated').length)
    const count = server.named('record_heartbeats').length
    await server.until(() => server.named('record_heartbeats').length > count)
    expect(server.named('record_heartbeats').at(-1)!.params).toEqual([{}])
  })

  test('the connection carries the session token, project and host; reconnects after a drop', async () => {
    await start()
    expect(server.sessions[0]).toEqual({ token: 'sess.secret', project: 'p1', host: `localhost:${server.server.port}` })
    server.disconnect()
    await server.until(() => server.connections === 2 && on(2, 'declare_targets').length)
    expect(harness!.log.has(/reconnected to server/)).toBe(true)
  })

  test('session_invalid and 409 are fatal', async () => {
    server = new FakeServer()
    const log = recordingLog()
    let fatal: Error | undefined
    const connection = new WorkerConnection({
      client: server.client(),
      workspaceId: 'W1',
      sessionToken: 't',
      log: log.log,
      backoff: { firstMs: 20, maxMs: 50 },
      handlers: { session: () => {}, flushed: () => {}, command: () => {}, ack: () => {}, fatal: (e) => (fatal = e) },
    })
    connection.start()
    await server.until(() => server.isConnected)
    server.disconnect(4000, 'session_invalid')
    await server.until(() => fatal)
    expect(fatal!.message).toBe('server refused the worker: session_invalid')
    await connection.close()
    server.stop()

    server = new FakeServer({ rejectStatus: 409 })
    fatal = undefined
    const second = new WorkerConnection({ ...connection.options, client: server.client(), handlers: { ...connection.options.handlers, fatal: (e) => (fatal = e) } })
    second.start()
    await server.until(() => fatal)
    expect(fatal!.message).toMatch(/^version mismatch/)
    await second.close()
  })

  test('backoff: 2 s doubling to 10 s, plus up to 50 % jitter', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, () => 0))).toEqual([2000, 4000, 8000, 10000, 10000])
    expect(backoffDelay(0, () => 1)).toBe(3000)
    expect(backoffDelay(5, () => 1)).toBe(15000)
  })
})
