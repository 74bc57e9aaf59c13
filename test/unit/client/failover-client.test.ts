/**
 * The ApiClient against real loopback servers that answer as several servers of one project do
 * (protocol/ownership.ts): 307 to the owner, 503 while nobody owns it, dead, or a connection
 * that breaks after the request went out.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { createServer, type Server as NetServer } from 'node:net'
import { BlobStores, CofluxClient, ConnectionError, sha256Hex, subscribeTopic } from '../../../internal/client/index.ts'

type Handler = (req: Request) => Response | Promise<Response> | undefined
interface Seen {
  method: string
  path: string
  host: string | null
  auth: string | null
  project: string | null
  body: string
}

const servers: ReturnType<typeof Bun.serve>[] = []
const netServers: NetServer[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true)
  for (const s of netServers.splice(0)) s.close()
})

/** A loopback HTTP server that records every request and answers with `handler`. */
function serve(handler: Handler): { host: string; seen: Seen[] } {
  const seen: Seen[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = new URL(req.url)
      const h = req.headers
      seen.push({ method: req.method, path: url.pathname + url.search, host: h.get('host'), auth: h.get('authorization'), project: h.get('x-project'), body: await req.text() })
      return (await handler(req)) ?? Response.json({ ok: true })
    },
  })
  servers.push(server)
  return { host: `127.0.0.1:${server.port}`, seen }
}

/** What a server that does not own the project answers (Location deliberately somewhere else: clients use Coflux-Owner). */
const notOwner = (owner: string, project = 'p1') =>
  Response.json({ error: 'not_owner', owner, project }, { status: 307, headers: { location: 'http://127.0.0.1:1/elsewhere', 'coflux-owner': owner } })
const noOwner = () => Response.json({ error: 'no_owner', project: 'p1' }, { status: 503, headers: { 'retry-after': '1' } })

/** A port nothing listens on. */
async function deadHost(): Promise<string> {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port
  s.stop(true)
  return `127.0.0.1:${port}`
}

/** Accepts, reads the request, then resets the connection: the request may have been applied. */
async function resettingHost(): Promise<{ host: string; hits: () => number }> {
  let hits = 0
  const server = createServer((socket) =>
    socket.on('data', () => {
      hits++
      socket.resetAndDestroy()
    }),
  )
  netServers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits }
}

const fast = { deadlineMs: 1_500, firstDelayMs: 10, maxDelayMs: 50 }
const client = (host: string, extra: { project?: string; token?: string } = {}) =>
  new CofluxClient({ host, secure: false, token: 'tok', project: 'p1', ...extra }, { failover: fast })

describe('following the owner (307)', () => {
  test('the same request, body and Authorization included, is resent to the owner; later ones go straight there', async () => {
    const owner = serve(() => Response.json({ id: 'W9' }))
    const other = serve(() => notOwner(owner.host))
    const c = client(other.host)
    expect(await c.createWorkspace('ws1')).toEqual({ id: 'W9' })
    expect(other.seen.map((s) => s.path)).toEqual(['/api/create_workspace'])
    expect(owner.seen).toEqual([
      { method: 'POST', path: '/api/create_workspace', host: owner.host, auth: 'Bearer tok', project: 'p1', body: '{"name":"ws1"}' },
    ])
    expect(c.currentHost).toBe(owner.host)
    await c.pauseWorkspace('W9')
    expect(other.seen).toHaveLength(1)
    expect(owner.seen.map((s) => s.path)).toEqual(['/api/create_workspace', '/api/pause_workspace'])
  })

  test('without a configured project, the one the 307 names is sent on (the owner may not know our Host)', async () => {
    const owner = serve(() => Response.json({ version: '0.12.0', api_version: '0.12', access: { workspaces: [] } }))
    const other = serve(() => notOwner(owner.host, 'from307'))
    await client(other.host, { project: undefined }).discover()
    expect(other.seen[0]!.project).toBeNull()
    expect(owner.seen[0]!.project).toBe('from307')
  })

  test('a blob upload follows too, with its bytes', async () => {
    const stored = new Map<string, string>()
    const owner = serve(async (req) => {
      const key = new URL(req.url).pathname.slice('/blobs/'.length)
      if (req.method === 'HEAD') return new Response(null, { status: stored.has(key) ? 200 : 404 })
      return new Response(null, { status: 204 })
    })
    const other = serve(() => notOwner(owner.host))
    const bytes = new TextEncoder().encode('"hello"')
    const key = await new BlobStores(client(other.host)).upload(bytes)
    expect(key).toBe(sha256Hex(bytes))
    expect(owner.seen.map((s) => [s.method, s.body])).toEqual([
      ['HEAD', ''],
      ['PUT', '"hello"'],
    ])
  })

  test('servers that keep redirecting: a clear error once the time is up', async () => {
    let bHost = ''
    const a = serve(() => notOwner(bHost))
    const b = serve(() => notOwner(a.host))
    bHost = b.host
    const err = await client(b.host).discover().catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toContain('the servers kept redirecting to one another')
    expect(err.message).toContain(b.host)
  })
})

describe('failing over', () => {
  test('a dead first host: the next one answers, and stays current', async () => {
    const dead = await deadHost()
    const live = serve(() => Response.json({}))
    const c = client(`${dead},${live.host}`)
    await c.listWorkspaces()
    expect(c.currentHost).toBe(live.host)
    await c.createWorkspace('x')
    expect(live.seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /topics/workspaces', 'POST /api/create_workspace'])
  })

  test('503 no_owner: asked again until a server owns the project', async () => {
    let refusals = 2
    const one = serve(() => (refusals-- > 0 ? noOwner() : Response.json({ id: 'W1' })))
    const c = client(one.host)
    expect(await c.createWorkspace('x')).toEqual({ id: 'W1' })
    expect(one.seen).toHaveLength(3)
    expect(one.seen.every((s) => s.body === '{"name":"x"}')).toBe(true)
  })

  test('503 no_owner at the first host, a 307 at the second: the owner gets the request', async () => {
    const owner = serve(() => Response.json({ id: 'W2' }))
    const standby = serve(() => notOwner(owner.host))
    const orphaned = serve(() => noOwner())
    expect(await client(`${orphaned.host},${standby.host}`).createWorkspace('y')).toEqual({ id: 'W2' })
    expect([orphaned.seen.length, standby.seen.length, owner.seen.length]).toEqual([1, 1, 1])
  })

  test('nobody owns it for too long: the error says so and names the hosts', async () => {
    const a = serve(() => noOwner())
    const b = serve(() => noOwner())
    const err = await client(`${a.host},${b.host}`).discover().catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toContain('no server serves project p1 right now')
    expect(err.message).toContain(`${a.host}, ${b.host}`)
  })

  test('every host dead: a ConnectionError naming each, within the time limit', async () => {
    const [a, b] = [await deadHost(), await deadHost()]
    const err = await client(`${a},${b}`).discover().catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toMatch(new RegExp(`^could not reach any of the servers ${a}, ${b} within 2s; last: could not connect to the server at .*connection refused`))
  })

  test('one dead host: the error it always gave, at once', async () => {
    const dead = await deadHost()
    const err = await client(dead).discover().catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toBe(`could not connect to the server at ${dead} (http://${dead}): connection refused (is the server running? start one with 'coflux server')`)
  })

  test('a connection broken after sending: a POST is not repeated, a GET goes to the next host', async () => {
    const broken = await resettingHost()
    const live = serve(() => Response.json({ id: 'W3' }))
    const err = await client(`${broken.host},${live.host}`).createWorkspace('z').catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toContain(`could not connect to the server at ${broken.host}`)
    expect(live.seen).toHaveLength(0)
    expect(broken.hits()).toBe(1)
    await client(`${broken.host},${live.host}`).listWorkspaces()
    expect(live.seen.map((s) => s.path)).toEqual(['/topics/workspaces'])
  })

  test("the caller's abort ends the request as it is", async () => {
    const a = serve(() => noOwner())
    const ac = new AbortController()
    const pending = client(a.host).fetch('/api/discover', { signal: ac.signal })
    ac.abort()
    const err = await pending.catch((e) => e)
    expect(err.name).toBe('AbortError')
  })
})

test('the topics socket follows a 307 that refused its upgrade, without counting a failure', async () => {
  const value = { hello: 'world' }
  const owner = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req, srv) {
      if (srv.upgrade(req, { data: undefined, headers: { 'Sec-WebSocket-Protocol': 'v1' } })) return undefined
      return Response.json({ error: 'bad_request' }, { status: 400 })
    },
    websocket: {
      message(ws, msg) {
        const [, channel] = JSON.parse(String(msg))
        ws.send(JSON.stringify([2, channel, value]))
      },
    },
  })
  servers.push(owner)
  const other = serve(() => notOwner(`127.0.0.1:${owner.port}`))
  const seen: unknown[] = []
  const sub = subscribeTopic(client(other.host), ['workspaces'], (v) => seen.push(v), { handshakeRetries: 0 })
  await sub.ready
  sub.close()
  expect(seen).toEqual([value])
  expect(other.seen.map((s) => s.path)).toEqual(['/topics?version=0.12', '/topics?version=0.12'])
})
