/**
 * The write path of the log and metric stores (semantics.md §24–§25): accepted items wait in a
 * buffer that is written in one transaction every 500 ms or 1000 items, so a busy run costs a
 * few commits per second rather than one per item. Each written batch is then handed to the
 * subscribers of its run (the live `text/event-stream` reads).
 */

export interface BufferedWriterOptions {
  flushIntervalMs?: number
  flushSize?: number
  /** failures of background flushes and of subscribers; items stay buffered and are retried */
  onError?: (err: unknown) => void
}

interface Subscriber<Stored> {
  accepts: (item: Stored) => boolean
  onBatch: (items: Stored[]) => void
}

/**
 * `Pending` is what waits in the buffer, `Stored` what `write` returns for it (with its row id).
 *
 * @example
 * const writer = new BufferedWriter('log store', (batch) => partition.insert(batch), options)
 * writer.append([pending])
 * const stop = writer.subscribe(runId, (e) => e.executionId === id, (batch) => send(batch))
 */
export class BufferedWriter<Pending, Stored extends { runId: string }> {
  readonly #name: string
  readonly #write: (batch: readonly Pending[]) => Stored[]
  readonly #flushIntervalMs: number
  readonly #flushSize: number
  readonly #onError: (err: unknown) => void
  /** how a run's subscribers see a batch; absent: the order `write` returned */
  readonly #order: ((a: Stored, b: Stored) => number) | undefined
  #pending: Pending[] = []
  #timer: ReturnType<typeof setTimeout> | null = null
  #closed = false
  /** run id → live readers of that run */
  readonly #subscribers = new Map<string, Set<Subscriber<Stored>>>()

  constructor(
    name: string,
    write: (batch: readonly Pending[]) => Stored[],
    options: BufferedWriterOptions & { order?: (a: Stored, b: Stored) => number } = {},
  ) {
    this.#name = name
    this.#write = write
    this.#flushIntervalMs = options.flushIntervalMs ?? 500
    this.#flushSize = options.flushSize ?? 1000
    this.#onError = options.onError ?? (() => {})
    this.#order = options.order
  }

  /** Buffers items; they are written within the flush interval, or at once past the batch size. */
  append(items: readonly Pending[]): void {
    if (this.#closed) throw new Error(`${this.#name} is closed`)
    for (const item of items) this.#pending.push(item)
    if (this.#pending.length >= this.#flushSize) this.flushQuietly()
    else if (this.#pending.length > 0 && this.#timer === null) this.#schedule()
  }

  /** Writes every buffered item in one transaction, then notifies subscribers. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    if (this.#pending.length === 0) return
    const batch = this.#pending
    this.#pending = []
    let stored: Stored[]
    try {
      stored = this.#write(batch)
    } catch (err) {
      // keep them, in order, for the next attempt: the worker was already told they were accepted
      this.#pending = batch.concat(this.#pending)
      if (!this.#closed) this.#schedule()
      throw err
    }
    this.#publish(stored)
  }

  /** `flush`, reporting a failure to `onError` instead of throwing (reads flush first with this). */
  flushQuietly(): void {
    try {
      this.flush()
    } catch (err) {
      this.#onError(err)
    }
  }

  /**
   * Calls `onBatch` with the accepted items of the run in every batch written from now on. Reads
   * are synchronous, so a query followed by `subscribe` in the same tick misses and repeats nothing.
   */
  subscribe(run: string, accepts: (item: Stored) => boolean, onBatch: (items: Stored[]) => void): () => void {
    const subscriber: Subscriber<Stored> = { accepts, onBatch }
    let set = this.#subscribers.get(run)
    if (!set) this.#subscribers.set(run, (set = new Set()))
    set.add(subscriber)
    return () => {
      set.delete(subscriber)
      if (set.size === 0 && this.#subscribers.get(run) === set) this.#subscribers.delete(run)
    }
  }

  /** Writes everything still buffered, then calls `release` (closing the file) and drops subscribers. */
  close(release: () => void): void {
    if (this.#closed) return
    this.#closed = true
    try {
      this.flush()
    } finally {
      release()
      this.#subscribers.clear()
    }
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.flushQuietly(), this.#flushIntervalMs)
    this.#timer.unref?.()
  }

  #publish(stored: Stored[]): void {
    if (this.#subscribers.size === 0) return
    for (const [run, subscribers] of this.#subscribers) {
      const items = stored.filter((item) => item.runId === run)
      if (items.length === 0) continue
      if (this.#order) items.sort(this.#order)
      for (const s of subscribers) {
        const matching = items.filter((item) => s.accepts(item))
        if (matching.length === 0) continue
        try {
          s.onBatch(matching)
        } catch (err) {
          this.#onError(err)
        }
      }
    }
  }
}
