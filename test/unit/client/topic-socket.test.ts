import { afterEach, describe, expect, test } from 'bun:test'
import { ApiError } from '../../../internal/protocol/errors.ts'
import { CofluxClient, runSource, topicValues, waitForRun } from '../../../internal/client/index.ts'
import { execution, run, step, value } from '../cli-ui/fixtures.ts'

let server: ReturnType<typeof Bun.serve> | undefined
afterEach(() => server?.stop(true))

const pending = run({ 'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', null, { assignedAt: 1 }) }) })

/** A fake server: `/topics` upgrades when `sockets` is true and plays `frames`; REST serves `rest`. */
function fake(opts: { sockets: boolean; frames?: unknown[]; rest?: () => unknown; onUpgrade?: (req: Request) => void }) {
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req, srv) {
      const url = new URL(req.url)
      if (url.pathname === '/topics') {
        opts.onUpgrade?.(req)
        if (opts.sockets && srv.upgrade(req, { data: undefined, headers: { 'Sec-WebSocket-Protocol': 'v1' } })) return undefined
        return new Response(JSON.stringify({ error: 'bad_request' }), { status: 400 })
      }
      return new Response(JSON.stringify(opts.rest?.() ?? {}))
    },
    websocket: {
      message(ws, msg) {
        const [kind, channel, topic] = JSON.parse(String(msg))
        expect(kind).toBe(2)
        expect(topic).toEqual(['workspaces', 'W', 'runs', 'R'])
        for (const f of opts.frames ?? []) ws.send(JSON.stringify((f as unknown[]).map((x) => (x === 'CH' ? channel : x))))
      },
    },
  })
  return new CofluxClient({ host: `localhost:${server.port}`, secure: false, token: 'tok', project: 'p' })
}

describe('topic subscription', () => {
  test('full value then updates; bearer subprotocol and project header', async () => {
    let protocols = ''
    let project = ''
    const client = fake({
      sockets: true,
      onUpgrade: (req) => {
        protocols = req.headers.get('sec-websocket-protocol') ?? ''
        project = req.headers.get('x-project') ?? ''
      },
      frames: [
        [2, 'CH', pending],
        [3, 'CH', [[0, ['steps', 'R:1', 'executions', '1', 'result'], value(42)]]],
      ],
    })
    const ac = new AbortController()
    const { run: final, done } = await waitForRun(runSource(client, 'W', 'R'), { scope: 'initial', signal: ac.signal })
    expect(done).toBe(true)
    expect(final?.steps['R:1']?.executions['1']?.result).toEqual(value(42))
    expect(protocols).toBe(`bearer.${Buffer.from('tok').toString('base64url')}, v1`)
    expect(project).toBe('p')
  })

  test('a subscription error is an ApiError', async () => {
    const client = fake({ sockets: true, frames: [[0, 'CH', 'not_found']] })
    const err = await (async () => {
      for await (const _ of topicValues(client, ['workspaces', 'W', 'runs', 'R'], new AbortController().signal)) void _
    })().catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe('not_found')
  })

  test('runSource passes a subscription error on instead of polling', async () => {
    let polls = 0
    const client = fake({ sockets: true, frames: [[0, 'CH', 'forbidden']], rest: () => (polls++, pending) })
    let fellBack = false
    const source = runSource(client, 'W', 'R', { initialMs: 5, onFallback: () => (fellBack = true) })
    const err = await waitForRun(source, { scope: 'initial', signal: new AbortController().signal }).catch((e) => e)
    expect(err).toMatchObject({ name: 'ApiError', code: 'forbidden', status: 403 })
    expect(fellBack).toBe(false)
    expect(polls).toBe(0)
  })

  test('topicValues ends when the signal aborts', async () => {
    const client = fake({ sockets: true, frames: [[2, 'CH', pending]] })
    const ac = new AbortController()
    const seen: unknown[] = []
    for await (const v of topicValues(client, ['workspaces', 'W', 'runs', 'R'], ac.signal)) {
      seen.push(v)
      ac.abort()
    }
    expect(seen).toEqual([pending])
  })

  test('a lost socket is reopened, not replaced by polling', async () => {
    let connections = 0
    let polls = 0
    const done = run({ 'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', value(1)) }) })
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(req, srv) {
        if (new URL(req.url).pathname !== '/topics') return new Response(JSON.stringify((polls++, pending)))
        if (srv.upgrade(req, { data: undefined, headers: { 'Sec-WebSocket-Protocol': 'v1' } })) return undefined
        return new Response(JSON.stringify({ error: 'bad_request' }), { status: 400 })
      },
      websocket: {
        message(ws, msg) {
          const channel = JSON.parse(String(msg))[1]
          if (++connections === 1) {
            ws.send(JSON.stringify([2, channel, pending]))
            ws.close()
          } else ws.send(JSON.stringify([2, channel, done]))
        },
      },
    })
    const client = new CofluxClient({ host: `localhost:${server.port}`, secure: false })
    let fellBack = false
    const source = runSource(client, 'W', 'R', { onFallback: () => (fellBack = true) })
    const result = await waitForRun(source, { scope: 'initial', signal: new AbortController().signal })
    expect(result.done).toBe(true)
    expect(connections).toBe(2)
    expect(fellBack).toBe(false)
    expect(polls).toBe(0)
  })

  test('no socket: falls back to polling the REST snapshot', async () => {
    let polls = 0
    const client = fake({
      sockets: false,
      rest: () => {
        polls++
        return polls < 2 ? pending : run({ 'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', value(1)) }) })
      },
    })
    let fellBack = ''
    const source = runSource(client, 'W', 'R', { initialMs: 5, onFallback: (reason) => (fellBack = reason) })
    const { done } = await waitForRun(source, { scope: 'initial', signal: new AbortController().signal })
    expect(done).toBe(true)
    expect(fellBack).not.toBe('')
    expect(polls).toBeGreaterThanOrEqual(2)
  })
})
