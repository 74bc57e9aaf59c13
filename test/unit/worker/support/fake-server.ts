/**
 * A scripted stand-in for the server side of the worker: the `/worker` WebSocket speaking the
 * frames of internal/protocol/worker.ts (CBOR when offered), plus in-memory `/blobs`, `POST /logs`,
 * `POST /metrics`, the two `/api` calls the worker makes and `/api/discover`. Tests read what the worker sent
 * and script what the server says.
 */
import type { ServerWebSocket } from 'bun'
import { ApiClient } from '../../../../internal/client/api-client.ts'
import { parseJson } from '../../../../internal/protocol/json.ts'
import { decodeFrame, encodeFrame, type FrameFormat, type WorkerFrame } from '../../../../internal/protocol/worker.ts'

export interface Received extends WorkerFrame {
  at: number
  connection: number
}

interface Socket {
  format: FrameFormat
  connection: number
}

export interface FakeServerOptions {
  /** answer requests; return undefined to leave it unanswered */
  reply?: (frame: WorkerFrame) => { result: unknown } | { error: string } | undefined
  /** executions listed in the session frame (default: none) */
  held?: () => string[]
  /** acknowledge completions and terminations (default true) */
  acks?: boolean
  /** reject the upgrade with this status */
  rejectStatus?: number
  /** offer only JSON */
  json?: boolean
}

export class FakeServer {
  readonly frames: Received[] = []
  readonly logs: any[] = []
  readonly metrics: any[] = []
  readonly blobs = new Map<string, Uint8Array>()
  readonly api: { name: string; body: any; auth: string | null }[] = []
  readonly sessions: { token: string; project: string | null; host: string | null }[] = []
  readonly server: ReturnType<typeof Bun.serve<Socket, any>>
  #socket: ServerWebSocket<Socket> | null = null
  #connections = 0
  #waiters = new Set<() => void>()

  constructor(readonly options: FakeServerOptions = {}) {
    this.server = Bun.serve<Socket, any>({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (req, server) => this.#fetch(req, server),
      websocket: {
        open: (ws) => {
          this.#socket = ws
          this.#changed()
          const held = this.options.held?.() ?? []
          this.send([0, 'S1', held])
        },
        message: (ws, data) => this.#message(ws, data),
        close: (ws) => {
          if (this.#socket === ws) this.#socket = null
          this.#changed()
        },
      },
    })
  }

  get url(): string {
    return `127.0.0.1:${this.server.port}`
  }

  get connections(): number {
    return this.#connections
  }

  get isConnected(): boolean {
    return this.#socket !== null
  }

  client(): ApiClient {
    return new ApiClient({ host: `localhost:${this.server.port}`, secure: false, project: 'p1', token: 'tok' })
  }

  send(frame: unknown): void {
    const ws = this.#socket
    if (!ws) throw new Error('no worker connected')
    ws.send(encodeFrame(frame, ws.data.format))
  }

  execute(id: string, target: string, args: unknown[] = [], timeoutMs: number | null = null): void {
    const [runId] = id.split(':')
    this.send([1, { command: 'execute', params: [id, 'fake', target, args, runId, 'W1', timeoutMs] }])
  }

  abort(id: string): void {
    this.send([1, { command: 'abort', params: [id] }])
  }

  /** Drops the worker's connection (it will reconnect). */
  disconnect(code = 1001, reason = 'going away'): void {
    this.#socket?.close(code, reason)
  }

  named(request: string): Received[] {
    return this.frames.filter((f) => f.request === request)
  }

  /** Waits until `check` returns something truthy; re-checked on every frame and connection change. */
  async until<T>(check: () => T | undefined | false | null, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = check()
      if (value) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${check.toString()}`)
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#waiters.delete(done)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(done, 50)
        this.#waiters.add(done)
      })
    }
  }

  stop(): void {
    this.server.stop(true)
  }

  #changed(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }

  async #fetch(req: Request, server: Bun.Server<Socket>): Promise<Response | undefined> {
    const url = new URL(req.url)
    if (url.pathname === '/worker') {
      if (this.options.rejectStatus) return new Response('{"error":"version_mismatch"}', { status: this.options.rejectStatus })
      const offered = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((s) => s.trim())
      const session = offered.find((p) => p.startsWith('session.'))
      this.sessions.push({
        token: Buffer.from(session?.slice('session.'.length) ?? '', 'base64url').toString(),
        project: req.headers.get('x-project'),
        host: req.headers.get('host'),
      })
      const format: FrameFormat = !this.options.json && offered.includes('v1.cbor') ? 'cbor' : 'json'
      const ok = server.upgrade(req, {
        data: { format, connection: ++this.#connections },
        headers: { 'sec-websocket-protocol': format === 'cbor' ? 'v1.cbor' : 'v1' },
      })
      return ok ? undefined : new Response('upgrade failed', { status: 400 })
    }
    if (url.pathname.startsWith('/blobs/')) return this.#blob(req, url.pathname.slice(7))
    if (url.pathname === '/logs' && req.method === 'POST') {
      this.logs.push(...(parseJson(await req.text()) as any).messages)
      this.#changed()
      return Response.json({ ok: true })
    }
    if (url.pathname === '/metrics' && req.method === 'POST') {
      this.metrics.push(...(parseJson(await req.text()) as any).entries)
      this.#changed()
      return Response.json({ ok: true })
    }
    // the worker asks which server serves the project before each reconnection (ApiClient.locate)
    if (url.pathname === '/api/discover') return Response.json({ version: '0.12.0', api_version: '0.12', access: { workspaces: ['*'] } })
    if (url.pathname.startsWith('/api/')) {
      this.api.push({ name: url.pathname.slice(5), body: await req.json(), auth: req.headers.get('authorization') })
      this.#changed()
      if (url.pathname === '/api/create_session') return Response.json({ sessionId: `sess${this.api.length}.secret` })
      return new Response(null, { status: 204 })
    }
    if (url.pathname === '/topics/workspaces') return Response.json({ W1: { name: 'default', baseId: null, state: 'active' } })
    return new Response('not found', { status: 404 })
  }

  async #blob(req: Request, key: string): Promise<Response> {
    const stored = this.blobs.get(key)
    if (req.method === 'HEAD') return new Response(null, { status: stored ? 200 : 404 })
    if (req.method === 'GET') return stored ? new Response(stored) : Response.json({ error: 'not_found' }, { status: 404 })
    if (req.method === 'PUT') {
      const bytes = new Uint8Array(await req.arrayBuffer())
      const hash = new Bun.CryptoHasher('sha256').update(bytes).digest('hex')
      if (hash !== key) return Response.json({ error: 'hash_mismatch' }, { status: 400 })
      this.blobs.set(key, bytes)
      return new Response(null, { status: 204 })
    }
    return new Response(null, { status: 405 })
  }

  #message(ws: ServerWebSocket<Socket>, data: string | Buffer): void {
    const frame = decodeFrame(typeof data === 'string' ? data : new Uint8Array(data), ws.data.format) as WorkerFrame
    this.frames.push({ ...frame, at: Date.now(), connection: ws.data.connection })
    this.#changed()
    if (this.options.acks !== false && ws.data.format === 'cbor') {
      if (['put_result', 'put_error', 'put_timeout'].includes(frame.request)) this.send([4, frame.params[0], 'result'])
      if (frame.request === 'notify_terminated') for (const id of frame.params[0] as string[]) this.send([4, id, 'terminated'])
    }
    if (frame.id !== undefined && this.options.reply) {
      const answer = this.options.reply(frame)
      if (answer && 'result' in answer) this.send([2, frame.id, answer.result])
      else if (answer) this.send([3, frame.id, answer.error])
    }
  }
}
