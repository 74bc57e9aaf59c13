import { ApiError } from '../protocol/errors.ts'
import { API_VERSION } from '../protocol/version.ts'

/** Where and how to reach a server (cli.md §5.5–§5.8). */
export interface ServerAddress {
  /** host[:port], no scheme */
  host: string
  secure: boolean
  project?: string
  token?: string
}

/** The server could not be reached (connection refused, DNS, timeout): exit code 3. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError'
}

/**
 * `localhost` and `*.localhost` resolve to loopback without the system resolver (RFC 6761):
 * we connect to 127.0.0.1 and keep the original Host header.
 */
export function connectHost(host: string): { connect: string; hostHeader: string } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host)
  const name = (m?.[1] ?? host).toLowerCase()
  const port = m?.[2]
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return { connect: port ? `127.0.0.1:${port}` : '127.0.0.1', hostHeader: host }
  }
  return { connect: host, hostHeader: host }
}

/** Typed HTTP access to one server; every method throws `ApiError` or `ConnectionError`. */
export class ApiClient {
  readonly address: ServerAddress
  readonly #connect: string
  readonly #hostHeader: string

  constructor(address: ServerAddress) {
    this.address = address
    const { connect, hostHeader } = connectHost(address.host)
    this.#connect = connect
    this.#hostHeader = hostHeader
  }

  /** `http(s)://<connect host>` — use with `headers()` so the Host header stays original. */
  get baseUrl(): string {
    return `${this.address.secure ? 'https' : 'http'}://${this.#connect}`
  }

  get wsBaseUrl(): string {
    return `${this.address.secure ? 'wss' : 'ws'}://${this.#connect}`
  }

  /** Headers every request carries (cli.md §5.8). */
  headers(extra?: Record<string, string>, token = this.address.token): Record<string, string> {
    const h: Record<string, string> = { host: this.#hostHeader, 'x-api-version': API_VERSION, ...extra }
    if (token) h.authorization = `Bearer ${token}`
    if (this.address.project) h['x-project'] = this.address.project
    return h
  }

  /** Raw fetch against this server with the standard headers; network failures become ConnectionError. */
  async fetch(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
    const { token, ...rest } = init
    const headers = this.headers(rest.headers as Record<string, string> | undefined, token ?? this.address.token)
    try {
      return await fetch(this.baseUrl + path, { ...rest, headers })
    } catch (err) {
      throw new ConnectionError(`could not connect to ${this.address.host}: ${(err as Error).message}`)
    }
  }

  /** JSON request; a non-2xx answer throws the server's `ApiError`. 204 → undefined. */
  async request<T>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<T> {
    const init: RequestInit = { method, headers: { ...extraHeaders } }
    if (body !== undefined) {
      init.body = JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
    }
    const res = await this.fetch(path, init)
    return (await readJsonResponse(res)) as T
  }

  /** `POST /api/<name>` */
  post<T = unknown>(name: string, body: unknown = {}, extraHeaders?: Record<string, string>): Promise<T> {
    return this.request<T>('POST', `/api/${name}`, body, extraHeaders)
  }

  /** `GET /topics/<segments…>` (each segment URL-encoded). */
  topic<T = unknown>(...segments: string[]): Promise<T> {
    return this.request<T>('GET', `/topics/${segments.map(encodeURIComponent).join('/')}`)
  }
}

export async function readJsonResponse(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined
  const text = await res.text()
  let parsed: unknown = undefined
  if (text) {
    try {
      parsed = JSON.parse(text)
    } catch {
      if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, text.slice(0, 200))
      throw new ApiError(res.status, 'invalid_response', 'server sent invalid JSON')
    }
  }
  if (!res.ok) {
    const body = (parsed ?? {}) as { error?: string; message?: string; details?: unknown }
    throw new ApiError(res.status, body.error ?? `http_${res.status}`, body.message ?? body.error, body.details)
  }
  return parsed
}
