/**
 * The few Docker Engine API calls the docker launcher makes, over the daemon's unix socket (or
 * TCP). API v1.41 (Docker 20.10) is the version asked for: every later daemon still serves it.
 * No SDK: these are eight small requests, and Bun's fetch speaks to a unix socket itself.
 */

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'
const API_PREFIX = '/v1.41'
/** Requests other than `stop` and `pull` are answered at once by a healthy daemon. */
const REQUEST_TIMEOUT_MS = 30_000

/** The daemon answered with an error status; `message` is its own text. */
export class DockerEngineError extends Error {
  override readonly name = 'DockerEngineError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** What a container is doing, from `GET /containers/{id}/json`. */
export interface ContainerState {
  /** created, running, paused, restarting, removing, exited or dead */
  status: string
  exitCode: number
}

/** The subset of the create-container body the launcher sets. */
export interface ContainerSpec {
  Image: string
  Entrypoint: string[]
  Cmd: string[]
  Env: string[]
  Labels: Record<string, string>
  HostConfig: { NetworkMode: string; Init: boolean }
}

/** Where requests go: a base URL, and the socket path for `unix://` hosts. */
export function parseDockerHost(host: string): { baseUrl: string; socketPath: string | null } {
  if (host.startsWith('unix://')) return { baseUrl: 'http://docker', socketPath: host.slice('unix://'.length) }
  if (host.startsWith('/')) return { baseUrl: 'http://docker', socketPath: host }
  if (host.startsWith('tcp://')) return { baseUrl: `http://${host.slice('tcp://'.length)}`.replace(/\/$/, ''), socketPath: null }
  if (host.startsWith('http://') || host.startsWith('https://')) return { baseUrl: host.replace(/\/$/, ''), socketPath: null }
  throw new Error(`unsupported docker host '${host}' (use unix:///path, tcp://host:port or http(s)://host:port)`)
}

/**
 * `fromImage` and `tag` for a pull: without a tag the API would pull every tag of the image.
 *
 * @example
 * imageReference('localhost:5000/app') // {fromImage: 'localhost:5000/app', tag: 'latest'}
 */
export function imageReference(image: string): { fromImage: string; tag: string } {
  const at = image.indexOf('@')
  if (at >= 0) return { fromImage: image.slice(0, at), tag: image.slice(at + 1) }
  const colon = image.lastIndexOf(':')
  // a colon before the last `/` is a registry port, not a tag
  if (colon > image.lastIndexOf('/')) return { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) }
  return { fromImage: image, tag: 'latest' }
}

/**
 * A container's log stream without a TTY is multiplexed: frames of an 8-byte header (stream
 * type, three zero bytes, big-endian length) and the payload. Anything else is returned as it is.
 */
export function demultiplexLogs(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = []
  let offset = 0
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length || bytes[offset]! > 2 || bytes[offset + 1] !== 0 || bytes[offset + 2] !== 0 || bytes[offset + 3] !== 0) {
      return offset === 0 ? bytes : Buffer.concat([...parts, bytes.subarray(offset)])
    }
    const size = new DataView(bytes.buffer, bytes.byteOffset + offset + 4, 4).getUint32(0)
    parts.push(bytes.subarray(offset + 8, Math.min(bytes.length, offset + 8 + size)))
    offset += 8 + size
  }
  return Buffer.concat(parts)
}

export class DockerEngine {
  readonly host: string
  readonly #baseUrl: string
  readonly #socketPath: string | null

  constructor(host: string) {
    this.host = host
    const { baseUrl, socketPath } = parseDockerHost(host)
    this.#baseUrl = baseUrl
    this.#socketPath = socketPath
  }

  /** Creates a container and returns its id; `null` when the image is not present locally. */
  async createContainer(name: string, spec: ContainerSpec): Promise<string | null> {
    const res = await this.#request('POST', `/containers/create?name=${encodeURIComponent(name)}`, { body: spec })
    if (res.status === 404) {
      await res.arrayBuffer()
      return null
    }
    const created = (await (await this.#ok(res, 'create container')).json()) as { Id: string }
    return created.Id
  }

  async startContainer(id: string): Promise<void> {
    await this.#call('POST', `/containers/${id}/start`, 'start container', [304])
  }

  /** The container's state, or `null` when the daemon does not know it. */
  async inspectContainer(id: string): Promise<ContainerState | null> {
    const res = await this.#request('GET', `/containers/${id}/json`)
    if (res.status === 404) {
      await res.arrayBuffer()
      return null
    }
    const info = (await (await this.#ok(res, 'inspect container')).json()) as { State: { Status: string; ExitCode: number } }
    return { status: info.State.Status, exitCode: info.State.ExitCode }
  }

  /** The last `tail` lines of stdout and stderr together, as bytes. */
  async containerLogs(id: string, tail: number): Promise<Uint8Array> {
    const res = await this.#ok(await this.#request('GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=${tail}`), 'read container logs')
    return demultiplexLogs(new Uint8Array(await res.arrayBuffer()))
  }

  /** SIGTERM, then SIGKILL after `graceSeconds`; resolves once the container has stopped. */
  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    await this.#call('POST', `/containers/${id}/stop?t=${graceSeconds}`, 'stop container', [304], (graceSeconds + 30) * 1000)
  }

  /** Sends a signal; a container that is not running (409) has nothing to signal. */
  async signalContainer(id: string, signal: string): Promise<void> {
    await this.#call('POST', `/containers/${id}/kill?signal=${signal}`, 'signal container', [409])
  }

  async removeContainer(id: string): Promise<void> {
    await this.#call('DELETE', `/containers/${id}?force=true`, 'remove container', [404])
  }

  /** Pulls the image; the daemon reports a failed pull inside its progress stream, not in the status. */
  async pullImage(image: string): Promise<void> {
    const { fromImage, tag } = imageReference(image)
    const query = `fromImage=${encodeURIComponent(fromImage)}&tag=${encodeURIComponent(tag)}`
    const res = await this.#ok(await this.#request('POST', `/images/create?${query}`, { timeoutMs: 30 * 60_000 }), `pull image '${image}'`)
    for (const line of (await res.text()).split('\n')) {
      if (!line.trim()) continue
      const progress = JSON.parse(line) as { error?: string }
      if (progress.error) throw new DockerEngineError(500, `pull image '${image}': ${progress.error}`)
    }
  }

  /** A request whose answer has no body worth reading. */
  async #call(method: string, path: string, what: string, accepted: number[], timeoutMs?: number): Promise<void> {
    await (await this.#ok(await this.#request(method, path, { timeoutMs }), what, accepted)).arrayBuffer()
  }

  async #request(method: string, path: string, options: { body?: unknown; timeoutMs?: number } = {}): Promise<Response> {
    const init: RequestInit & { unix?: string } = {
      method,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS),
    }
    if (this.#socketPath !== null) init.unix = this.#socketPath
    try {
      return await fetch(`${this.#baseUrl}${API_PREFIX}${path}`, init)
    } catch (err) {
      throw new Error(`cannot reach the Docker engine at ${this.host}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  }

  /** The response when its status is 2xx or one of `accepted`; else the daemon's message as an error. */
  async #ok(res: Response, what: string, accepted: number[] = []): Promise<Response> {
    if (res.ok || accepted.includes(res.status)) return res
    const text = await res.text()
    let message = text.trim()
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message
    } catch {
      // not JSON: the text as it is
    }
    throw new DockerEngineError(res.status, `${what}: ${message || `HTTP ${res.status}`}`)
  }
}
