/**
 * The worker's WebSocket to the server (http-api.md §14, semantics.md §20): reconnects with
 * backoff (to whichever configured server serves the project by then, see `#locate`), queues
 * frames while disconnected, numbers requests and matches replies, and re-sends unanswered
 * requests after every reconnection (their idempotency keys make that safe).
 *
 * States: connecting → open (socket up, waiting for the session frame) → connected (session
 * frame seen: frames flow) → disconnected (waiting out the backoff) → … ; closed is final, and
 * `fatal` ends the loop when the server refuses the session or our protocol version.
 */
import type { ConsolaInstance } from 'consola'
import type { ApiClient } from '../client/index.ts'
import { RequestCancelledError, ServerRequestError, WorkerFatalError } from './errors.ts'
import { API_VERSION } from '../protocol/version.ts'
import {
  decodeFrame,
  encodeFrame,
  parseServerFrame,
  WORKER_SUBPROTOCOL,
  type FrameFormat,
  type ServerFrame,
  type WorkerFrame,
} from '../protocol/worker.ts'

export const PING_INTERVAL_MS = 54_000
export const BACKOFF_FIRST_MS = 2_000
export const BACKOFF_MAX_MS = 10_000
const FATAL_CLOSE_REASONS = ['session_invalid', 'workspace_mismatch', 'project_not_found']

export { RequestCancelledError, ServerRequestError, WorkerFatalError }

export type ServerCommand = Extract<ServerFrame, [1, unknown]>[1]

export interface ConnectionHandlers {
  /** The session frame: the executions the server believes we hold. Frames may be sent from here. */
  session(executionIds: string[]): void
  /** After unanswered requests and queued frames went out (deliveries re-send from here). */
  flushed(): void
  command(command: ServerCommand): void
  ack(executionId: string, kind: 'result' | 'terminated'): void
  fatal(error: WorkerFatalError): void
}

export interface ConnectionOptions {
  client: ApiClient
  workspaceId: string
  sessionToken: string
  log: ConsolaInstance
  handlers: ConnectionHandlers
  pingIntervalMs?: number
  /** first reconnection wait and cap (tests shorten them) */
  backoff?: { firstMs: number; maxMs: number }
}

/** A request awaiting its reply; `build` is called at every (re)send so selects can shrink their timeout. */
interface PendingRequest {
  id: number
  build: () => Omit<WorkerFrame, 'id'>
  isSent: boolean
  resolve: (result: unknown) => void
  reject: (error: Error) => void
}

type Outgoing = { frame: Omit<WorkerFrame, 'id'> } | { request: PendingRequest }

export class WorkerConnection {
  #ws: WebSocket | null = null
  #format: FrameFormat = 'json'
  #isConnected = false
  #isClosed = false
  /** the server of the last session frame (null before the first) */
  #lastHost: string | null = null
  #nextId = 1
  readonly #pending = new Map<number, PendingRequest>()
  #outbox: Outgoing[] = []
  #wake: (() => void) | null = null
  #loop: Promise<void> | null = null

  constructor(readonly options: ConnectionOptions) {}

  /** Open and past the session frame: frames sent now reach the server in order. */
  get isConnected(): boolean {
    return this.#isConnected
  }

  /** Closed for good (by `close`, or after a fatal refusal). */
  get isClosed(): boolean {
    return this.#isClosed
  }

  /** Only our CBOR protocol has `[4, …]` acknowledgements. */
  get hasAcks(): boolean {
    return this.#format === 'cbor'
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  /** Closes for good; unanswered requests are rejected. */
  async close(): Promise<void> {
    this.#isClosed = true
    this.#wake?.()
    this.#ws?.close(1000, 'worker stopping')
    for (const request of this.#pending.values()) request.reject(new RequestCancelledError('connection closed'))
    this.#pending.clear()
    this.#outbox = []
    // a socket stuck in its opening handshake must not hold up the shutdown
    await Promise.race([this.#loop, Bun.sleep(2_000)])
  }

  /** Sends a notification now, or queues it (in order) until the next connection. */
  send(frame: Omit<WorkerFrame, 'id'>): void {
    if (this.#isConnected && this.#write(frame)) return
    this.#outbox.push({ frame })
  }

  /** Sends only if connected; for frames that are rebuilt on every connection anyway. */
  sendNow(frame: Omit<WorkerFrame, 'id'>): boolean {
    return this.#isConnected && this.#write(frame)
  }

  /**
   * Sends a request and resolves with the server's reply. While disconnected it waits; after a
   * reconnection it is sent again. `cancel` withdraws it (the promise rejects with
   * RequestCancelledError).
   */
  request(build: () => Omit<WorkerFrame, 'id'>): { reply: Promise<unknown>; cancel: () => void } {
    let entry!: PendingRequest
    const reply = new Promise<unknown>((resolve, reject) => {
      entry = { id: this.#nextId++, build, isSent: false, resolve, reject }
    })
    if (this.#isClosed) {
      entry.reject(new RequestCancelledError('connection closed'))
      return { reply, cancel: () => {} }
    }
    this.#pending.set(entry.id, entry)
    if (this.#isConnected) this.#sendRequest(entry)
    else this.#outbox.push({ request: entry })
    const cancel = (): void => {
      if (!this.#pending.delete(entry.id)) return
      this.#outbox = this.#outbox.filter((item) => !('request' in item) || item.request !== entry)
      entry.reject(new RequestCancelledError('request withdrawn'))
    }
    return { reply, cancel }
  }

  // -- the connection loop ----------------------------------------------------------------------

  async #run(): Promise<void> {
    let failures = 0
    let isFirst = true
    while (!this.#isClosed) {
      if (!isFirst) await this.#locate()
      isFirst = false
      if (this.#isClosed) break
      const outcome = await this.#connectOnce()
      if (this.#isClosed) break
      if (outcome.fatal) {
        this.#isClosed = true
        this.options.handlers.fatal(outcome.fatal)
        break
      }
      if (outcome.hadSession) failures = 0
      const delay = backoffDelay(failures++, Math.random, this.options.backoff)
      this.options.log.warn(`disconnected from server (${outcome.why}); reconnecting in ${(delay / 1000).toFixed(1)}s`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wake = null
    }
  }

  /**
   * Before reconnecting: ask over plain HTTP which server serves the project now, following a
   * 307 to the owner and moving past dead servers (ApiClient.locate). Bun's WebSocket reports a
   * refused upgrade's status only inside its error message, never the `Coflux-Owner` header,
   * so the socket alone could only cycle through the configured hosts blindly. No server
   * answering is not an error here: the socket attempt fails and the backoff applies.
   */
  async #locate(): Promise<void> {
    const { client, log } = this.options
    const before = client.currentHost
    try {
      await client.locate()
    } catch (err) {
      log.debug(`could not locate the project's server: ${(err as Error).message}`)
    }
    if (client.currentHost !== before) log.debug(`the project is now served by ${client.currentHost}`)
  }

  #connectOnce(): Promise<{ hadSession: boolean; why: string; fatal?: WorkerFatalError }> {
    const { client, workspaceId, sessionToken } = this.options
    const url = `${client.wsBaseUrl}/worker?workspaceId=${encodeURIComponent(workspaceId)}&version=${API_VERSION}`
    const protocols = [`session.${Buffer.from(sessionToken).toString('base64url')}`, WORKER_SUBPROTOCOL.cbor, WORKER_SUBPROTOCOL.json]
    const all = client.headers(undefined, '')
    const headers: Record<string, string> = { host: all.host! }
    if (all['x-project']) headers['x-project'] = all['x-project']
    return new Promise((resolve) => {
      let hadSession = false
      let failure = ''
      let ping: ReturnType<typeof setInterval> | undefined
      const ws = new WebSocket(url, { protocols, headers })
      ws.binaryType = 'arraybuffer'
      this.#ws = ws
      ws.onopen = () => {
        this.#format = ws.protocol === WORKER_SUBPROTOCOL.cbor ? 'cbor' : 'json'
        ping = setInterval(() => ws.ping(), this.options.pingIntervalMs ?? PING_INTERVAL_MS)
      }
      ws.onerror = (event) => {
        failure = (event as ErrorEvent).message ?? 'connection error'
      }
      ws.onmessage = (event) => {
        try {
          const frame = parseServerFrame(decodeFrame(event.data as string | ArrayBuffer, this.#format))
          if (frame[0] === 0) hadSession = true
          this.#dispatch(frame)
        } catch (err) {
          this.options.log.error(`bad frame from server: ${(err as Error).message}`)
          ws.close(1008, 'bad frame')
        }
      }
      ws.onclose = (event) => {
        clearInterval(ping)
        this.#ws = null
        this.#isConnected = false
        const fatal = fatalError(event.code, event.reason, failure)
        const why = event.reason || failure || `code ${event.code}`
        resolve({ hadSession, why, fatal })
      }
    })
  }

  #dispatch(frame: ServerFrame): void {
    const handlers = this.options.handlers
    switch (frame[0]) {
      case 0:
        return this.#onSession(frame[2])
      case 1:
        return handlers.command(frame[1])
      case 2:
      case 3: {
        const request = this.#pending.get(frame[1])
        // a reply replayed for a request we already had answered: ignore
        if (!request) return
        this.#pending.delete(frame[1])
        if (frame[0] === 2) request.resolve(frame[2])
        else request.reject(new ServerRequestError(String(frame[2])))
        return
      }
      case 4:
        return handlers.ack(frame[1], frame[2])
      default: {
        const never: never = frame
        throw new Error(`unhandled frame ${String(never)}`)
      }
    }
  }

  #onSession(executionIds: string[]): void {
    this.#isConnected = true
    const host = this.options.client.currentHost
    const moved = this.#lastHost !== null && host !== this.#lastHost ? ` at ${host}` : ''
    this.options.log.info(this.#lastHost !== null ? `reconnected to server${moved}` : `connected to ${host}`)
    this.#lastHost = host
    this.options.handlers.session(executionIds)
    // requests that went out on an earlier connection first: they precede everything queued
    for (const request of [...this.#pending.values()].sort((a, b) => a.id - b.id)) {
      if (request.isSent) this.#sendRequest(request)
    }
    const outbox = this.#outbox
    this.#outbox = []
    for (const item of outbox) {
      if ('frame' in item) this.send(item.frame)
      else if (this.#pending.has(item.request.id)) this.#sendRequest(item.request)
    }
    if (this.#isConnected) this.options.handlers.flushed()
  }

  #sendRequest(request: PendingRequest): void {
    request.isSent = true
    this.#write({ ...request.build(), id: request.id })
  }

  #write(frame: Omit<WorkerFrame, 'id'> & { id?: number }): boolean {
    const ws = this.#ws
    if (!ws || ws.readyState !== WebSocket.OPEN) return false
    try {
      ws.send(encodeFrame(frame, this.#format))
      return true
    } catch (err) {
      this.options.log.debug(`send failed: ${(err as Error).message}`)
      return false
    }
  }
}

/** First wait 2 s, doubling, capped at 10 s, plus up to 50 % jitter (semantics.md §28). */
export function backoffDelay(
  failures: number,
  random = Math.random,
  { firstMs, maxMs } = { firstMs: BACKOFF_FIRST_MS, maxMs: BACKOFF_MAX_MS },
): number {
  const base = Math.min(firstMs * 2 ** failures, maxMs)
  return Math.round(base * (1 + 0.5 * random()))
}

function fatalError(code: number, reason: string, failure: string): WorkerFatalError | undefined {
  if (code === 4000 && FATAL_CLOSE_REASONS.includes(reason)) {
    return new WorkerFatalError(`server refused the worker: ${reason}`)
  }
  // the upgrade was answered 409 before any frame (http-api.md §14); Bun reports the status in the error
  if (/\b409\b/.test(failure)) {
    return new WorkerFatalError(
      `version mismatch: the server does not accept worker protocol version ${API_VERSION}; use a coflux CLI that matches the server's version`,
    )
  }
  return undefined
}
