import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { CofluxClient, ConnectionError, fetchAllLogs, followLogs, pollRun, resolveWorkspaceId, VersionMismatchError, waitForRun } from '../../../internal/client/index.ts'
import { ApiError } from '../../../internal/protocol/errors.ts'
import { JsonNumber, stringifyJson } from '../../../internal/protocol/json.ts'
import { execution, run, step, value } from '../cli-ui/fixtures.ts'

/** A scripted fake server: each test sets `handler`. */
let handler: (req: Request) => Response | Promise<Response> = () => new Response('{}')
let server: ReturnType<typeof Bun.serve>
beforeAll(() => {
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => handler(req) })
})
afterAll(() => server.stop(true))

const client = (extra: { project?: string; token?: string } = {}) =>
  new CofluxClient({ host: `proj.localhost:${server.port}`, secure: false, ...extra })
const json = (body: unknown, status = 200) => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })

describe('ApiClient', () => {
  test('*.localhost goes to 127.0.0.1 with the original Host, version, project and bearer headers', async () => {
    let seen: { headers: Headers; url: string } | undefined
    handler = (req) => {
      seen = { headers: new Headers(req.headers), url: req.url }
      return json({ version: '0.12.0', api_version: '0.12', access: { workspaces: ['*'] } })
    }
    await client({ project: 'p1', token: 'tok' }).discover()
    expect(seen!.headers.get('host')).toBe(`proj.localhost:${server.port}`)
    expect(seen!.headers.get('x-api-version')).toBe('0.12')
    expect(seen!.headers.get('x-project')).toBe('p1')
    expect(seen!.headers.get('authorization')).toBe('Bearer tok')
    expect(new URL(seen!.url).pathname).toBe('/api/discover')
  })

  test('numbers survive exactly (lossless parse and send)', async () => {
    let body = ''
    handler = async (req) => {
      body = await req.text()
      return json('{"executionId": "R:1:2", "attempt": 2, "big": 18446744073709551616, "f": 1.0}')
    }
    const r = (await client().rerunStep('W', 'R:1')) as unknown as Record<string, unknown>
    expect(r.big).toBeInstanceOf(JsonNumber)
    expect(stringifyJson(r)).toBe('{"executionId":"R:1:2","attempt":2,"big":18446744073709551616,"f":1.0}')
    expect(JSON.parse(body)).toEqual({ workspaceId: 'W', stepId: 'R:1' })
  })

  test('error bodies become ApiError with code and details; 204 is fine', async () => {
    handler = () => json({ error: 'bad_request', details: { name: 'exists' } }, 400)
    const err = await client().createWorkspace('x').catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 400, code: 'bad_request', details: { name: 'exists' } })
    handler = () => new Response(null, { status: 204 })
    await expect(client().pauseWorkspace('W')).resolves.toBeUndefined()
    handler = () => new Response('oops', { status: 502 })
    expect(await client().listWorkspaces().catch((e) => e.code)).toBe('http_502')
  })

  test('version mismatch has the spec message', async () => {
    handler = () => json({ error: 'version_mismatch', details: { server: '0.13.0', expected: '0.12' } }, 409)
    const err = await client().discover().catch((e) => e)
    expect(err).toBeInstanceOf(VersionMismatchError)
    expect(err.message).toBe(
      'version mismatch: this CLI expects API version 0.12, but the server is version 0.13.0 — upgrade the server or use a compatible CLI version',
    )
  })

  test('connection refused is a ConnectionError', async () => {
    const c = new CofluxClient({ host: 'localhost:1', secure: false })
    const err = await c.discover().catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toContain('connection refused')
  })

  test('topic segments are URL-encoded', async () => {
    let path = ''
    handler = (req) => {
      path = new URL(req.url).pathname
      return json({ parameters: null, instruction: null, configuration: null, runs: {} })
    }
    await client().getWorkflow('W1', 'app.flows', 'main')
    expect(path).toBe('/topics/workspaces/W1/workflows/app.flows/main')
  })

  test('resolveWorkspaceId skips archived workspaces and auto-creates', async () => {
    const created: string[] = []
    handler = async (req) => {
      if (req.method === 'POST') {
        created.push(((await req.json()) as { name: string }).name)
        return json({ id: 'Wnew' })
      }
      return json({ Wold: { name: 'dev', baseId: null, state: 'archived' }, Wa: { name: 'a', baseId: null, state: 'active' } })
    }
    expect(await resolveWorkspaceId(client(), 'a')).toBe('Wa')
    await expect(resolveWorkspaceId(client(), 'dev')).rejects.toThrow('workspace not found: dev')
    expect(await resolveWorkspaceId(client(), 'dev', { autoCreate: true })).toBe('Wnew')
    expect(created).toEqual(['dev'])
  })
})

describe('logs', () => {
  const entry = (n: number) => ({ executionId: 'R:1:1', workspaceId: 'W', timestamp: n, level: 2, template: `m${n}`, values: {} })

  test('fetchAllLogs follows the cursor through every page', async () => {
    const queries: string[] = []
    handler = (req) => {
      const url = new URL(req.url)
      queries.push(url.search)
      const after = url.searchParams.get('after')
      const start = after ? Number(after) : 0
      const logs = start >= 2500 ? [] : Array.from({ length: Math.min(1000, 2500 - start) }, (_, i) => entry(start + i + 1))
      return json({ logs, cursor: logs.length ? String(start + logs.length) : null })
    }
    const page = await fetchAllLogs(client(), { runId: 'R', workspaceIds: ['W'], from: 5 })
    expect(page.logs).toHaveLength(2500)
    expect(page.cursor).toBe('2500')
    expect(queries[0]).toBe('?run=R&workspaces=W&from=5')
    expect(queries).toHaveLength(4)
  })

  test('followLogs reads SSE data events and ignores other lines', async () => {
    handler = (req) => {
      expect(req.headers.get('accept')).toBe('text/event-stream')
      const body = `: ping\n\ndata: ${JSON.stringify([entry(1), entry(2)])}\n\nevent: x\ndata: ${JSON.stringify([entry(3)])}\n\n`
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    }
    const batches = []
    for await (const batch of followLogs(client(), { runId: 'R' })) batches.push(batch.map((e) => e.timestamp))
    expect(batches).toEqual([[1, 2], [3]])
  })
})

describe('waiting on a run', () => {
  test('polls until the initial step is done', async () => {
    let calls = 0
    handler = () => {
      calls++
      const done = calls >= 3
      return json(run({ 'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', done ? value(1) : null, { assignedAt: 1 }) }) }))
    }
    const seen: number[] = []
    const source = pollRun(client(), 'W', 'R', { initialMs: 5, maxMs: 10 })
    const { run: final, done } = await waitForRun(source, { scope: 'initial', signal: new AbortController().signal, onSnapshot: () => seen.push(calls) })
    expect(done).toBe(true)
    expect(final?.steps['R:1']?.executions['1']?.result?.type).toBe('value')
    expect(seen.length).toBe(2) // the unchanged second poll is not reported
  })

  test('an abort stops waiting', async () => {
    handler = () => json(run({ 'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', null) }) }))
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 30)
    const { done } = await waitForRun(pollRun(client(), 'W', 'R', { initialMs: 5 }), { scope: 'initial', signal: ac.signal })
    expect(done).toBe(false)
  })
})
