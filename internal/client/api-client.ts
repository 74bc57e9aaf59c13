import { ApiError } from '../protocol/errors.ts'
import { parseJson, stringifyJson } from '../protocol/json.ts'
import { API_VERSION } from '../protocol/version.ts'

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
}

/** Typed HTTP access to one server; every method throws `ApiError` or `ConnectionError`. */
export class ApiClient {
  readonly address: ServerAddress
  #connect: string
  readonly #hostHeader: string
  readonly #loopbackName: boolean
  readonly #inBrowser: boolean
  /** default per-request timeout (ms) for `request`; streams are not limited */
  timeoutMs = 60_000

  constructor(address: ServerAddress, options: ApiClientOptions = {}) {
    this.address = address
    this.#inBrowser = options.inBrowser ?? false
    const { connect, hostHeader, loopbackName } = this.#inBrowser
      ? { connect: address.host, hostHeader: address.host, loopbackName: false }
      : connectHost(address.host)
    this.#connect = connect
    this.#hostHeader = hostHeader
    this.#loopbackName = loopbackName
  }

  /** `http(s)://<connect host>` — use with `headers()` so the Host header stays original. */
  get baseUrl(): string {
    return `${this.address.secure ? 'https' : 'http'}://${this.#connect}`
  }

  get wsBaseUrl(): string {
    return `${this.address.secure ? 'wss' : 'ws'}://${this.#connect}`
  }

  /** Headers every request carries (cli.md §5.8); a page's browser sets `Host` itself. */
  headers(extra?: Record<string, string>, token = this.address.token): Record<string, string> {
    const h: Record<string, string> = { ...(this.#inBrowser ? {} : { host: this.#hostHeader }), 'x-api-version': API_VERSION, ...extra }
    if (token) h.authorization = `Bearer ${token}`
    if (this.address.project) h['x-project'] = this.address.project
    return h
  }

  /** Raw fetch against this server with the standard headers; network failures become ConnectionError. */
  async fetch(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
    const { token, ...rest } = init
    const headers = this.headers(rest.headers as Record<string, string> | undefined, token ?? this.address.token)
    const url = this.baseUrl + path
    try {
      return await fetch(url, { ...rest, headers })
    } catch (err) {
      if ((err as { name?: string }).name === 'AbortError' && rest.signal?.aborted && !isTimeout(rest.signal)) throw err
      // *.localhost: 127.0.0.1 refused → try ::1 once, and keep it if it answers
      if (this.#loopbackName && this.#connect.startsWith(LOOPBACK_V4)) {
        const v6 = this.#connect.replace(LOOPBACK_V4, LOOPBACK_V6)
        try {
          const res = await fetch(url.replace(this.#connect, v6), { ...rest, headers })
          this.#connect = v6
          return res
        } catch {
          // report the IPv4 failure below
        }
      }
      throw connectionError(this.address.host, url, err)
    }
  }

  /** JSON request; a non-2xx answer throws the server's `ApiError`. 204 → undefined. */
  async request<T>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<T> {
    const res = await this.send(method, path, body, extraHeaders)
    return (await readJsonResponse(res)) as T
  }

  /** Like `request`, but also returns the response (for headers such as ETag). */
  async send(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<Response> {
    const init: RequestInit = { method, headers: { ...extraHeaders }, signal: AbortSignal.timeout(this.timeoutMs) }
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

function isTimeout(signal: AbortSignal): boolean {
  return (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError'
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
