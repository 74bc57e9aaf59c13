/**
 * Batches entries to an HTTP endpoint (`POST /logs`, `POST /metrics`; semantics.md §24–§25):
 * a batch goes out when it is full or when the flush interval has passed since its first entry.
 * One POST is in flight at a time so entries keep their order. Failed posts are retried with
 * backoff; a batch the server refuses outright (4xx other than 408/429) is dropped with a warning,
 * because sending it again cannot succeed.
 */
import type { ConsolaInstance } from 'consola'
import type { ApiClient } from '../client/index.ts'
import { stringifyJson } from '../protocol/json.ts'

/** Beyond this many unsent entries the oldest are dropped: a dead server must not eat all memory. */
const MAX_BUFFERED = 100_000
const RETRY_FIRST_MS = 1_000
const RETRY_MAX_MS = 30_000

export class RejectedBatchError extends Error {
  override readonly name = 'RejectedBatchError'
}

export interface BatcherOptions<T> {
  name: string
  batchSize: number
  /** ms; 0 sends every entry immediately */
  flushIntervalMs: number
  post: (entries: T[]) => Promise<void>
  log: ConsolaInstance
}

export class Batcher<T> {
  #buffer: T[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #sending: Promise<void> | null = null
  #retryDelay = 0
  #dropped = 0

  constructor(readonly options: BatcherOptions<T>) {}

  get pending(): number {
    return this.#buffer.length
  }

  add(entry: T): void {
    this.#buffer.push(entry)
    if (this.#buffer.length > MAX_BUFFERED) {
      this.#buffer.shift()
      if (this.#dropped++ === 0) this.options.log.warn(`${this.options.name}: buffer full, dropping the oldest entries`)
    }
    if (this.#buffer.length >= this.options.batchSize || this.options.flushIntervalMs <= 0) this.#kick()
    else this.#timer ??= setTimeout(() => this.#kick(), this.options.flushIntervalMs)
  }

  /** Sends everything buffered, retrying until it is delivered or `deadline` (epoch ms) passes. */
  async flush(deadline = Infinity): Promise<void> {
    while ((this.#buffer.length > 0 || this.#sending) && Date.now() < deadline) {
      this.#kick()
      const sending = this.#sending
      if (!sending) break
      await Promise.race([sending, Bun.sleep(Math.max(0, Math.min(deadline - Date.now(), 1000)))])
    }
  }

  #kick(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#sending || this.#buffer.length === 0) return
    this.#sending = this.#sendLoop().finally(() => {
      this.#sending = null
      if (this.#buffer.length > 0) this.#timer ??= setTimeout(() => this.#kick(), this.options.flushIntervalMs)
    })
  }

  async #sendLoop(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.slice(0, this.options.batchSize)
      try {
        await this.options.post(batch)
        this.#buffer.splice(0, batch.length)
        this.#retryDelay = 0
      } catch (err) {
        if (err instanceof RejectedBatchError) {
          this.#buffer.splice(0, batch.length)
          this.options.log.warn(`${this.options.name}: server rejected ${batch.length} entries: ${err.message}`)
          continue
        }
        this.#retryDelay = Math.min(this.#retryDelay ? this.#retryDelay * 2 : RETRY_FIRST_MS, RETRY_MAX_MS)
        this.options.log.debug(`${this.options.name}: post failed (${(err as Error).message}); retrying in ${this.#retryDelay}ms`)
        await Bun.sleep(this.#retryDelay)
      }
    }
  }
}

export interface EndpointOptions {
  client: ApiClient
  /** server path, used when `url` is not configured */
  path: '/logs' | '/metrics'
  url?: string
  token?: string
  /** the body's array field */
  field: 'messages' | 'entries'
}

/** A `post` for Batcher: JSON body `{<field>: entries}` with the given bearer token. */
export function httpPoster<T>(options: EndpointOptions): (entries: T[]) => Promise<void> {
  return async (entries) => {
    const body = stringifyJson({ [options.field]: entries })
    const init = { method: 'POST', body, headers: { 'content-type': 'application/json' } }
    let res: Response
    if (options.url) {
      const headers: Record<string, string> = { ...init.headers }
      if (options.token) headers.authorization = `Bearer ${options.token}`
      res = await fetch(options.url, { ...init, headers })
    } else {
      res = await options.client.fetch(options.path, { ...init, token: options.token })
    }
    if (res.ok) {
      await res.body?.cancel()
      return
    }
    const text = await res.text().catch(() => '')
    const message = `HTTP ${res.status}${text ? ` ${text.slice(0, 200)}` : ''}`
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new RejectedBatchError(message)
    throw new Error(message)
  }
}
