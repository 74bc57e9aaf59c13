/**
 * Remembered replies to keyed worker requests (semantics.md §20.7): a request re-sent after a
 * reconnection with the same idempotency key gets the first answer again instead of acting
 * twice. Replies live until the requesting execution's result plus the reconnection timeout.
 */
const KEEP_AFTER_RESULT_MS = 60_000

export class ReplyCache {
  readonly #replies = new Map<string, unknown>()
  readonly #keysByExecution = new Map<number, string[]>()
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()

  get(key: string): unknown {
    return this.#replies.get(key)
  }

  remember(key: string, reply: unknown, executionId?: number): void {
    this.#replies.set(key, reply)
    if (executionId === undefined) return
    const keys = this.#keysByExecution.get(executionId)
    if (keys) keys.push(key)
    else this.#keysByExecution.set(executionId, [key])
  }

  /** The execution has a result: its replies are forgotten after the reconnection window. */
  expireWith(executionId: number): void {
    const keys = this.#keysByExecution.get(executionId)
    if (!keys) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      for (const key of keys) this.#replies.delete(key)
      this.#keysByExecution.delete(executionId)
    }, KEEP_AFTER_RESULT_MS)
    timer.unref?.()
    this.#timers.add(timer)
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer)
  }
}
