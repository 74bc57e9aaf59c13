/**
 * The executions this worker holds, from the server's `execute` until the executor has exited
 * and termination was reported (executor-protocol.md §14), and the heartbeats that report them
 * every 5 s, also when there are none (semantics.md §20.4).
 */
import type { HeartbeatState } from '../protocol/executor.ts'
import type { WorkerFrame } from '../protocol/worker.ts'

export const HEARTBEAT_INTERVAL_MS = 5_000

export interface HeldExecution {
  readonly id: string
  heartbeatState: HeartbeatState
}

export class ExecutionTable<T extends HeldExecution = HeldExecution> {
  readonly #held = new Map<string, T>()
  readonly #emptied = new Set<() => void>()
  #timer: ReturnType<typeof setInterval> | undefined

  get size(): number {
    return this.#held.size
  }

  has(id: string): boolean {
    return this.#held.has(id)
  }

  get(id: string): T | undefined {
    return this.#held.get(id)
  }

  values(): T[] {
    return [...this.#held.values()]
  }

  add(execution: T): void {
    this.#held.set(execution.id, execution)
  }

  remove(id: string): void {
    this.#held.delete(id)
    if (this.#held.size > 0) return
    for (const resolve of [...this.#emptied]) resolve()
    this.#emptied.clear()
  }

  /** Resolves when nothing is held any more (drain). */
  whenEmpty(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#emptied.add(resolve))
  }

  /** `record_heartbeats [{id: state}]`. */
  heartbeat(): Omit<WorkerFrame, 'id'> {
    const states: Record<string, HeartbeatState> = {}
    for (const execution of this.#held.values()) states[execution.id] = execution.heartbeatState
    return { request: 'record_heartbeats', params: [states] }
  }

  /** Sends a heartbeat every interval through `send` (which drops it while disconnected). */
  startHeartbeats(send: (frame: Omit<WorkerFrame, 'id'>) => void, intervalMs = HEARTBEAT_INTERVAL_MS): void {
    this.stopHeartbeats()
    this.#timer = setInterval(() => send(this.heartbeat()), intervalMs)
  }

  stopHeartbeats(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
