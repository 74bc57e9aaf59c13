/**
 * A live topic over the topics WebSocket (http-api.md §11.1): a local copy kept current from
 * the server's updates, resubscribed (fresh value) after a lost connection.
 *
 * Connection states: connecting (socket opening, subscription sent on open) → live (a value
 * has arrived) → waiting (lost; reconnect after a backoff) → connecting …; ended (`close()`,
 * an error frame, or a failure that retrying cannot fix).
 */
import { ApiError } from '../protocol/errors.ts'
import { parseJson, type Json } from '../protocol/json.ts'
import { applyTopicUpdates, parseTopicServerFrame, TOPIC_CLIENT_FRAME, topicsSubprotocols } from '../protocol/topics.ts'
import { API_VERSION } from '../protocol/version.ts'
import { ConnectionError, readJsonResponse, type ApiClient } from './api-client.ts'

export interface SubscribeTopicOptions {
  /** first reconnect delay (ms); doubles per failed attempt up to `maxBackoffMs` (default 250) */
  minBackoffMs?: number
  /** default 10 000 */
  maxBackoffMs?: number
  /**
   * Handshakes to retry before `ready` rejects with `ConnectionError` when plain HTTP answers
   * fine but the upgrade fails (a proxy without WebSocket support, say); default 5. A caller
   * with another way to read the topic passes 0 and switches at once (`runSource`).
   */
  handshakeRetries?: number
  /** Called when reconnecting after `ready` found the server unreachable; it is retried again. */
  onRetry?: (error: Error) => void
  /**
   * Called when the subscription ends with an error after `ready` resolved: the server ended
   * it (`not_found` once a workspace is archived), or reconnecting met a fatal answer (401).
   */
  onError?: (error: Error) => void
}

export interface TopicSubscription {
  /**
   * Resolves with the first value. Rejects with `ApiError` (`not_found`, `forbidden`, 401, …),
   * `VersionMismatchError` or `ConnectionError` (the server could not be reached at all).
   */
  readonly ready: Promise<void>
  close(): void
}

/** The single channel each connection uses: one socket per subscription keeps resyncs simple. */
const CHANNEL = 1
const ERROR_STATUS: Record<string, number> = { not_found: 404, forbidden: 403, unauthorized: 401 }
const DEFAULT_HANDSHAKE_RETRIES = 5

/**
 * Subscribes to a topic; `onValue` gets the whole current value after every change.
 *
 * @example
 * const sub = subscribeTopic(client, ['workspaces', wsId, 'runs', runId], (run) => render(run))
 * await sub.ready
 * // … later
 * sub.close()
 */
export function subscribeTopic(
  client: ApiClient,
  path: string[],
  onValue: (value: Json) => void,
  options: SubscribeTopicOptions = {},
): TopicSubscription {
  return new LiveTopic(client, path, onValue, options)
}

class LiveTopic implements TopicSubscription {
  readonly ready: Promise<void>
  readonly #client: ApiClient
  readonly #path: string[]
  readonly #onValue: (value: Json) => void
  readonly #options: SubscribeTopicOptions
  #resolve!: () => void
  #reject!: (err: Error) => void
  #isReady = false
  #ended = false
  #socket: WebSocket | null = null
  #timer: ReturnType<typeof setTimeout> | null = null
  #failures = 0
  #value: Json | undefined = undefined

  constructor(client: ApiClient, path: string[], onValue: (value: Json) => void, options: SubscribeTopicOptions) {
    this.#client = client
    this.#path = path
    this.#onValue = onValue
    this.#options = options
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    // callers that only use onValue must not get an unhandled rejection
    this.ready.catch(() => {})
    this.#connect()
  }

  close(): void {
    this.#end(this.#isReady ? null : new DOMException('subscription closed', 'AbortError'))
  }

  #connect(): void {
    let socket: WebSocket
    try {
      socket = this.#client.openTopicsSocket(topicsSubprotocols(this.#client.address.token))
    } catch (err) {
      return this.#end(new ConnectionError(`could not connect to ${this.#client.wsBaseUrl}/topics: ${(err as Error).message}`))
    }
    this.#socket = socket
    this.#value = undefined
    let opened = false
    socket.onopen = () => {
      opened = true
      socket.send(JSON.stringify([TOPIC_CLIENT_FRAME.subscribe, CHANNEL, this.#path]))
    }
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#receive(socket, event.data)
    }
    socket.onerror = () => {} // a close event follows with what we need
    socket.onclose = () => {
      if (this.#socket !== socket) return
      this.#socket = null
      if (this.#ended) return
      if (opened) this.#retryLater()
      else void this.#diagnose()
    }
  }

  #receive(socket: WebSocket, data: unknown): void {
    try {
      if (typeof data !== 'string') throw new Error('expected a text frame')
      const frame = parseTopicServerFrame(parseJson(data))
      if (frame[1] !== CHANNEL) return
      switch (frame[0]) {
        case 0:
          return this.#end(new ApiError(ERROR_STATUS[frame[2]] ?? 500, frame[2], `topic ${this.#path.join('/')}: ${frame[2]}`))
        case 2:
          this.#value = frame[2]
          this.#failures = 0
          break
        case 3:
          if (this.#value === undefined) throw new Error('updates before a value')
          this.#value = applyTopicUpdates(this.#value, frame[2])
          break
        default:
          return // results and aliases: this client neither executes nor subscribes twice
      }
    } catch {
      // a frame we cannot apply leaves the copy unreliable: resubscribe for a fresh value
      socket.close(4000, 'resync')
      return
    }
    try {
      this.#onValue(this.#value)
    } catch (err) {
      return this.#end(err as Error)
    }
    if (!this.#isReady) {
      this.#isReady = true
      this.#resolve()
    }
  }

  /**
   * The handshake failed. A WebSocket cannot see the HTTP status, so ask again over plain HTTP:
   * the server answers §7 errors (401, 409, …) the same way, or 400 when all checks pass. That
   * request also follows a 307 to the project's owner and fails over past a dead server
   * (ApiClient.fetch); when it moved to another server, the socket goes there at once, without
   * counting a failure.
   */
  async #diagnose(): Promise<void> {
    const host = this.#client.currentHost
    try {
      const res = await this.#client.fetch(`/topics?version=${API_VERSION}`, { attemptTimeoutMs: 10_000 })
      await readJsonResponse(res)
    } catch (err) {
      if (this.#ended) return
      if (err instanceof ConnectionError) {
        // nothing to show yet: report it like any request would; once live, ride out restarts
        if (!this.#isReady) return this.#end(err)
        this.#options.onRetry?.(err)
        return this.#retryLater()
      }
      if (!(err instanceof ApiError && err.code === 'bad_request')) return this.#end(err as Error)
    }
    if (this.#ended) return
    if (this.#client.currentHost !== host) return this.#connect()
    if (!this.#isReady && this.#failures >= (this.#options.handshakeRetries ?? DEFAULT_HANDSHAKE_RETRIES)) {
      return this.#end(new ConnectionError(`could not open the topics WebSocket at ${this.#client.address.host}`))
    }
    this.#retryLater()
  }

  #retryLater(): void {
    const min = this.#options.minBackoffMs ?? 250
    const max = this.#options.maxBackoffMs ?? 10_000
    const delay = Math.min(max, min * 2 ** this.#failures++) * (0.5 + Math.random() / 2)
    this.#timer = setTimeout(() => {
      this.#timer = null
      if (!this.#ended) this.#connect()
    }, delay)
  }

  /** Ends the subscription; `error` goes to `ready` if still pending, else to `onError`. */
  #end(error: Error | null): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const socket = this.#socket
    this.#socket = null
    socket?.close(1000)
    if (!error) return
    if (!this.#isReady) this.#reject(error)
    else this.#options.onError?.(error)
  }
}
