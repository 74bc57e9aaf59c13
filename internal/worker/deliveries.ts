/**
 * Completions and terminations that must reach the server (semantics.md §20.6). Each is kept
 * until the server acknowledges it (`[4, id, 'result' | 'terminated']`) or the session frame stops
 * listing its execution, and is re-sent after every reconnection. A completion always goes out
 * before its execution's termination.
 *
 * Servers that speak plain JSON (0.12-style) send no acknowledgements; then an execution is
 * forgotten once its termination has been written, as 0.12 did.
 */
import type { WorkerFrame } from '../protocol/worker.ts'

type Frame = Omit<WorkerFrame, 'id'>

export interface DeliveryChannel {
  readonly isConnected: boolean
  readonly hasAcks: boolean
  sendNow(frame: Frame): boolean
}

interface Delivery {
  completion: Frame | null
  isCompletionAcked: boolean
  isTerminated: boolean
  isTerminationAcked: boolean
}

export class Deliveries {
  readonly #items = new Map<string, Delivery>()
  readonly #settled = new Set<() => void>()

  constructor(readonly channel: DeliveryChannel) {}

  /** Executions with something not yet acknowledged. */
  get size(): number {
    return this.#items.size
  }

  has(executionId: string): boolean {
    return this.#items.has(executionId)
  }

  /** Records the execution's completion (`put_result`, `put_error` or `put_timeout`) and sends it. */
  complete(executionId: string, frame: Frame): void {
    const item = this.#item(executionId)
    if (item.completion) return
    item.completion = frame
    this.channel.sendNow(frame)
  }

  /** Records that the executor has exited and sends `notify_terminated`. */
  terminate(executionId: string): void {
    const item = this.#item(executionId)
    item.isTerminated = true
    this.#sendTermination(executionId, item)
  }

  ack(executionId: string, kind: 'result' | 'terminated'): void {
    const item = this.#items.get(executionId)
    if (!item) return
    if (kind === 'result') item.isCompletionAcked = true
    else item.isTerminationAcked = true
    this.#settleIfDone(executionId, item)
  }

  /** The session frame: forget what the server no longer expects. */
  retain(listed: Iterable<string>): void {
    const keep = new Set(listed)
    for (const id of [...this.#items.keys()]) if (!keep.has(id)) this.#forget(id)
  }

  /** After a reconnection: everything unacknowledged again, completion before termination. */
  resend(): void {
    for (const [id, item] of [...this.#items]) {
      if (item.completion && !item.isCompletionAcked) this.channel.sendNow(item.completion)
      if (item.isTerminated) this.#sendTermination(id, item)
    }
  }

  /** Resolves once nothing is waiting for an acknowledgement (drain). */
  whenSettled(): Promise<void> {
    if (this.#items.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#settled.add(resolve))
  }

  #item(executionId: string): Delivery {
    let item = this.#items.get(executionId)
    if (!item) {
      item = { completion: null, isCompletionAcked: false, isTerminated: false, isTerminationAcked: false }
      this.#items.set(executionId, item)
    }
    return item
  }

  #sendTermination(executionId: string, item: Delivery): void {
    if (item.isTerminationAcked) return
    const isSent = this.channel.sendNow({ request: 'notify_terminated', params: [[executionId]] })
    // without acknowledgements, a written termination is as good as it gets (0.12 behaviour)
    if (isSent && !this.channel.hasAcks) {
      item.isCompletionAcked = true
      item.isTerminationAcked = true
      this.#settleIfDone(executionId, item)
    }
  }

  #settleIfDone(executionId: string, item: Delivery): void {
    const isCompletionDone = item.completion === null || item.isCompletionAcked
    if (item.isTerminated && item.isTerminationAcked && isCompletionDone) this.#forget(executionId)
  }

  #forget(executionId: string): void {
    this.#items.delete(executionId)
    if (this.#items.size > 0) return
    for (const resolve of [...this.#settled]) resolve()
    this.#settled.clear()
  }
}
