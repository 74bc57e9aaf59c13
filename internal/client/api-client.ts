import { ApiError } from '../protocol/errors.ts'
import { parseJson, stringifyJson } from '../protocol/json.ts'
import { isHostPort, OWNER_HEADER } from '../protocol/ownership.ts'
import { API_VERSION } from '../protocol/version.ts'
import { decideFailover, DEFAULT_FAILOVER, isIdempotentRequest, isMaybeSent, retryAfterMs, type AttemptOutcome, type FailoverOptions } from './failover.ts'
import { ServerHosts } from './server-hosts.ts'

/** Where and how to reach a server (cli.md §5.5–§5.8). */
export interface ServerAddress {
  /** host[:port], no scheme */
  host: string
  secure: boolean
  project?: string
  token?: string
}

/** The server speaks another API version (409 `version_mismatch`, cli.md §5.8): fatal, exit 1. */
export class VersionMismatchError extends Error {
  override readonly name = 'VersionMismatchError'
  constructor(readonly serverVersion: string) {
    super(
      `version mismatch: this CLI expects API version ${API_VERSION}, but the server is version ${serverVersion} — ` +
        'upgrade the server or use a compatible CLI version',
    )
  }
}

/** The server could not be reached (connection refused, DNS, timeout): exit code 3. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError'
}

const LOOPBACK_V4 = '127.0.0.1'
const LOOPBACK_V6 = '[::1]'

/**
 * `localhost` and `*.localhost` resolve to loopback without the system resolver (RFC 6761):
 * we connect to 127.0.0.1 (then ::1) and keep the original Host header.
 */
export function connectHost(host: string): { connect: string; hostHeader: string; loopbackName: boolean } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host)
  const name = (m?.[1] ?? host).toLowerCase()
  const port = m?.[2]
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return { connect: port ? `${LOOPBACK_V4}:${port}` : LOOPBACK_V4, hostHeader: host, loopbackName: true }
  }
  return { connect: host, hostHeader: host, loopbackName: false }
}

/** Turns a fetch failure into a ConnectionError with advice. */
function connectionError(host: string, url: string, err: unknown): ConnectionError {
  const e = err as { code?: string; name?: string; message?: string }
  let why: string
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') why = 'timed out'
  else if (e.code === 'ECONNREFUSED' || e.code === 'ConnectionRefused') why = 'connection refused'
  else if (e.code === 'ENOTFOUND') why = 'host not found'
  else why = e.message ?? String(err)
  const hint = why === 'connection refused' ? " (is the server running? start one with 'coflux server')" : ''
  return new ConnectionError(`could not connect to the server at ${host} (${new URL(url).origin}): ${why}${hint}`)
}

export interface ApiClientOptions {
  /**
   * The client runs in a web page served by this server (the built-in UI): it connects to the
   * host as given, because a page cannot set `Host` and `127.0.0.1` would be another origin,
   * and it opens sockets the browser's way (no headers; the project goes in the query string).
   */
  inBrowser?: boolean
  /** how long one request may fail over between servers (tests shorten it) */
  failover?: Partial<FailoverOptions>
}

/** `init` for `ApiClient.fetch`. */
export type ApiFetchInit = RequestInit & {
  /** bearer token instead of the address's */
  token?: string
  /** safe to send twice (default: GET, HEAD and blob PUTs; see `isIdempotentRequest`) */
  idempotent?: boolean
  /** a limit for each attempt at one server, apart from `signal` (which ends the whole request) */
  attemptTimeoutMs?: number
}

/**
 * Typed HTTP access to the configured server (or servers: `host` may list several, and requests
 * follow the project's owner and fail over between them, see failover.ts); every method throws
 * `ApiError` or `ConnectionError`.
 */
export class ApiClient {
  readonly address: ServerAddress
  readonly #hosts: ServerHosts
  /** per host: where to connect and the Host header (`*.localhost` may move to ::1) */
  readonly #routes = new Map<string, { connect: string; hostHeader: string; loopbackName: boolean }>()
  readonly #inBrowser: boolean
  readonly #failover: FailoverOptions
  /** the project a 307 named, sent as X-Project when the address has none (the owner may not know our Host) */
  #learnedProject: string | undefined
  /** default per-request timeout (ms) for `request`; streams are not limited */
  timeoutMs = 60_000

  constructor(address: ServerAddress, options: ApiClientOptions = {}) {
    this.address = address
    this.#inBrowser = options.inBrowser ?? false
    this.#hosts = new ServerHosts(this.#inBrowser ? address.host.split(',')[0]! : address.host)
    this.#failover = { ...DEFAULT_FAILOVER, ...options.failover }
  }

  /** The server requests go to now: the last one that answered (initially the first configured). */
  get currentHost(): string {
    return this.#hosts.current
  }

  #route(host = this.#hosts.current): { connect: string; hostHeader: string; loopbackName: boolean } {
    let route = this.#routes.get(host)
    if (!route) {
      route = this.#inBrowser ? { connect: host, hostHeader: host, loopbackName: false } : connectHost(host)
      this.#routes.set(host, route)
    }
    return route
  }

  /** `http(s)://<connect host>` of the current server — use with `headers()` so the Host header stays original. */
  get baseUrl(): string {
    return `${this.address.secure ? 'https' : 'http'}://${this.#route().connect}`
  }

  get wsBaseUrl(): string {
    return `${this.address.secure ? 'wss' : 'ws'}://${this.#route().connect}`
  }

  /** Headers every request to the current server carries (cli.md §5.8); a page's browser sets `Host` itself. */
  headers(extra?: Record<string, string>, token = this.address.token): Record<string, string> {
    return this.#headersFor(this.#hosts.current, extra, token)
  }

  #headersFor(host: string, extra: Record<string, string> | undefined, token: string | undefined): Record<string, string> {
    const h: Record<string, string> = { ...(this.#inBrowser ? {} : { host: this.#route(host).hostHeader }), 'x-api-version': API_VERSION, ...extra }
    if (token) h.authorization = `Bearer ${token}`
    const project = this.address.project ?? this.#learnedProject
    if (project) h['x-project'] = project
    return h
  }

  /**
   * Finds the server that serves the project now (a cheap GET that follows 307s and fails over
   * like any request), so a WebSocket opened next goes straight there. Throws `ConnectionError`
   * when no server answered in time.
   */
  async locate(): Promise<string> {
    const res = await this.fetch('/api/discover', { attemptTimeoutMs: 10_000 })
    await res.body?.cancel()
    return this.#hosts.current
  }

  /**
   * Raw fetch against the current server with the standard headers. A 307 from a server that
   * does not own the project is followed to the owner; an unreachable server (or one with no
   * owner to name yet) hands over to the next configured host (failover.ts). Network failures
   * become ConnectionError; `signal` aborting ends the request as it is.
   */
  async fetch(path: string, init: ApiFetchInit = {}): Promise<Response> {
    const { token, idempotent, attemptTimeoutMs, ...rest } = init
    if (this.#inBrowser) {
      try {
        return await this.#attempt(this.#hosts.current, path, rest, token, attemptTimeoutMs)
      } catch (err) {
        if (isCallerAbort(err, rest.signal)) throw err
        throw connectionError(this.#hosts.current, this.baseUrl + path, err)
      }
    }
    const method = (rest.method ?? 'GET').toUpperCase()
    // every attempt sends the same bytes: a stream can be read only once
    if (rest.body instanceof ReadableStream) rest.body = await new Response(rest.body).arrayBuffer()
    const started = Date.now()
    const tried: string[] = []
    let failures = 0
    let redirects = 0
    for (;;) {
      const host = this.#hosts.current
      if (!tried.includes(host)) tried.push(host)
      let res: Response | undefined
      let error: unknown
      let outcome: AttemptOutcome
      try {
        res = await this.#attempt(host, path, { ...rest, redirect: 'manual' }, token, attemptTimeoutMs)
        outcome = await answeredOutcome(res)
      } catch (err) {
        if (isCallerAbort(err, rest.signal)) throw err
        // the caller's own time limit is spent: no other server gets a turn
        if (rest.signal?.aborted) throw this.#giveUpError(host, path, tried, { kind: 'unreachable', isMaybeSent: true }, err, false)
        error = err
        outcome = { kind: 'unreachable', isMaybeSent: isMaybeSent(err) }
      }
      if (outcome.kind === 'answered') {
        if (outcome.status === 307 && outcome.owner) redirects++
        else failures++
      } else failures++
      const step = decideFailover(
        outcome,
        {
          failures,
          redirects,
          elapsedMs: Date.now() - started,
          isIdempotent: idempotent ?? isIdempotentRequest(method, path),
          hostCount: this.#hosts.configured.length,
          hasAlternative: this.#hosts.hasAlternative,
        },
        this.#failover,
      )
      switch (step.kind) {
        case 'accept':
          return res!
        case 'follow':
          await this.#learnProject(res!)
          this.#hosts.follow(step.owner)
          break
        case 'next':
          await res?.body?.cancel()
          this.#hosts.advance()
          break
        case 'give-up':
          await res?.body?.cancel()
          throw this.#giveUpError(host, path, tried, outcome, error, step.isDeadline)
        default: {
          const never: never = step
          throw new Error(`unhandled failover step ${String(never)}`)
        }
      }
      if (step.delayMs > 0) await sleep(step.delayMs, rest.signal)
      if (rest.signal?.aborted) {
        const reason = rest.signal.reason as Error
        if (reason?.name !== 'TimeoutError') throw reason
        throw this.#giveUpError(host, path, tried, { kind: 'unreachable', isMaybeSent: true }, reason, false)
      }
    }
  }

  /** One request to one host; `*.localhost` refused on 127.0.0.1 tries ::1 once and keeps it if it answers. */
  async #attempt(host: string, path: string, init: RequestInit, token: string | undefined, attemptTimeoutMs?: number): Promise<Response> {
    const route = this.#route(host)
    const h = this.#headersFor(host, init.headers as Record<string, string> | undefined, token ?? this.address.token)
    const limit = attemptTimeoutMs ? AbortSignal.timeout(attemptTimeoutMs) : undefined
    const signal = limit && init.signal ? AbortSignal.any([init.signal, limit]) : (limit ?? init.signal ?? undefined)
    const send = async (connect: string): Promise<Response> => {
      const url = `${this.address.secure ? 'https' : 'http'}://${connect}${path}`
      const res = await fetch(url, { ...init, headers: h, signal })
      // a redirect that is not about ownership (a proxy's, say): followed as fetch always did
      if (init.redirect === 'manual' && isRedirect(res.status) && !res.headers.has(OWNER_HEADER) && res.headers.has('location')) {
        await res.body?.cancel()
        return fetch(url, { ...init, headers: h, signal, redirect: 'follow' })
      }
      return res
    }
    try {
      return await send(route.connect)
    } catch (err) {
      if (isCallerAbort(err, init.signal)) throw err
      if (route.loopbackName && route.connect.startsWith(LOOPBACK_V4)) {
        const v6 = route.connect.replace(LOOPBACK_V4, LOOPBACK_V6)
        try {
          const res = await send(v6)
          route.connect = v6
          return res
        } catch {
          // report the IPv4 failure
        }
      }
      throw err
    }
  }

  async #learnProject(res: Response): Promise<void> {
    if (this.address.project) return void (await res.body?.cancel())
    const body = (await res.json().catch(() => undefined)) as { project?: unknown } | undefined
    if (typeof body?.project === 'string' && body.project !== '') this.#learnedProject = body.project
  }

  #giveUpError(host: string, path: string, tried: string[], outcome: AttemptOutcome, error: unknown, isDeadline: boolean): Error {
    const seconds = Math.round(this.#failover.deadlineMs / 1000)
    if (outcome.kind === 'answered') {
      const project = this.address.project ?? this.#learnedProject
      const what = outcome.status === 307 ? 'the servers kept redirecting to one another' : `no server serves ${project ? `project ${project}` : 'the project'} right now`
      return new ConnectionError(`${what} (asked ${tried.join(', ')} for ${seconds}s; a standby takes over within seconds of the owner's death — try again)`)
    }
    const url = `${this.address.secure ? 'https' : 'http'}://${this.#route(host).connect}${path}`
    // one server and nowhere else to go, or a request that may have been applied: the message it always had
    if (!isDeadline) return connectionError(host, url, error)
    return new ConnectionError(`could not reach any of the servers ${tried.join(', ')} within ${seconds}s; last: ${connectionError(host, url, error).message}`)
  }

  /** JSON request; a non-2xx answer throws the server's `ApiError`. 204 → undefined. */
  async request<T>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<T> {
    const res = await this.send(method, path, body, extraHeaders)
    return (await readJsonResponse(res)) as T
  }

  /** Like `request`, but also returns the response (for headers such as ETag). */
  async send(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<Response> {
    const init: ApiFetchInit = { method, headers: { ...extraHeaders }, attemptTimeoutMs: this.timeoutMs }
    if (body !== undefined) {
      init.body = stringifyJson(body)
      ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
    }
    return this.fetch(path, init)
  }

  /** `POST /api/<name>` */
  post<T = unknown>(name: string, body: unknown = {}, extraHeaders?: Record<string, string>): Promise<T> {
    return this.request<T>('POST', `/api/${name}`, body, extraHeaders)
  }

  /**
   * Opens the topics WebSocket (http-api.md §11.1) offering `protocols`. The token travels in a
   * subprotocol; outside a browser the Host header stays the original name (see `connectHost`).
   */
  openTopicsSocket(protocols: string[]): WebSocket {
    const query = new URLSearchParams({ version: API_VERSION })
    if (this.#inBrowser) {
      if (this.address.project) query.set('project', this.address.project)
      return new WebSocket(`${this.wsBaseUrl}/topics?${query}`, protocols)
    }
    return new BunWebSocket(`${this.wsBaseUrl}/topics?${query}`, { headers: this.headers(undefined, ''), protocols })
  }

  /** `GET /topics/<segments…>` (each segment URL-encoded). */
  topic<T = unknown>(...segments: string[]): Promise<T> {
    return this.request<T>('GET', `/topics/${segments.map(encodeURIComponent).join('/')}`)
  }
}

/**
 * Bun's WebSocket also takes headers; typed apart because the web UI's type check (DOM lib)
 * sees only the browser's constructor.
 */
const BunWebSocket = WebSocket as unknown as new (url: string, options: { headers: Record<string, string>; protocols: string[] }) => WebSocket

/** The caller's own signal ended the request (not a timeout of ours, which is a connection failure). */
function isCallerAbort(err: unknown, signal: AbortSignal | null | undefined): boolean {
  if ((err as { name?: string }).name !== 'AbortError' || !signal?.aborted) return false
  return (signal.reason as { name?: string } | undefined)?.name !== 'TimeoutError'
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}

/** What the failover policy needs from an answer; the body is read (from a copy) only for 503. */
async function answeredOutcome(res: Response): Promise<AttemptOutcome> {
  if (res.status === 307) {
    const owner = res.headers.get(OWNER_HEADER)?.trim()
    return { kind: 'answered', status: 307, owner: owner && isHostPort(owner) ? owner : undefined }
  }
  if (res.status !== 503) return { kind: 'answered', status: res.status }
  const body = (await res.clone().json().catch(() => undefined)) as { error?: unknown } | undefined
  const code = typeof body?.error === 'string' ? body.error : undefined
  return { kind: 'answered', status: 503, code, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) }
}

/** Waits `ms`, or less when `signal` aborts (the caller looks at it next). */
function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Reads a JSON answer with the lossless parser (numbers keep their exact text, values.md §6);
 * a non-2xx answer becomes the server's `ApiError` (`{error, message?, details?}`).
 */
export async function readJsonResponse(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined
  const text = await res.text()
  let parsed: unknown = undefined
  if (text) {
    try {
      parsed = parseJson(text)
    } catch {
      if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, text.slice(0, 200))
      throw new ApiError(res.status, 'invalid_response', 'server sent invalid JSON')
    }
  }
  if (!res.ok) {
    const body = (parsed ?? {}) as { error?: unknown; message?: unknown; details?: unknown }
    const code = typeof body.error === 'string' ? body.error : `http_${res.status}`
    if (code === 'version_mismatch') {
      const server = (body.details as { server?: unknown } | undefined)?.server
      throw new VersionMismatchError(typeof server === 'string' ? server : 'unknown')
    }
    const message = typeof body.message === 'string' ? body.message : code
    throw new ApiError(res.status, code, message, body.details)
  }
  return parsed
}
