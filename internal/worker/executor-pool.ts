/**
 * The executor pool (executor-protocol.md §12): W = min(C, 4) ready executors wait for work, one
 * executor serves exactly one execution, and the pool refills after every take and every exit.
 * A busy executor blocked in a wait (a `select`: `result()`, an input) holds no slot, so the
 * refill counts only the running ones (busy − waiting) against C; the server bounds the waiting
 * ones (`max_waiting`). How an executor comes to life (a fresh process, or a child forked from a
 * preloaded template) is the executor launcher's business; the pool only counts.
 *
 * States: running (refills) → draining (no refills, idle executors closed, on-demand still
 * served) → stopped (everything killed, waiters rejected).
 */
import type { ConsolaInstance } from 'consola'
import { ExecutorStartError, type Executor } from './executor.ts'

/** Starts one executor and resolves once it passed the `ready` handshake. */
export interface ExecutorLauncher {
  launch(): Promise<Executor>
  /** Releases what the executor launcher holds (a template process, a socket). */
  close(): Promise<void>
}

export const WARM_LIMIT = 4

export interface ExecutorPoolOptions {
  concurrency: number
  /** warm target; default min(concurrency, 4) */
  warm?: number
  /** called once when an adapter fails the version check: the worker can't do anything useful */
  onFatal?: (error: ExecutorStartError) => void
}

type ExecutorPoolState = 'running' | 'draining' | 'stopped'

interface Waiter {
  resolve: (executor: Executor) => void
  reject: (error: Error) => void
}

export class ExecutorPool {
  readonly concurrency: number
  readonly warm: number
  #state: ExecutorPoolState = 'running'
  /** oldest first: take() hands out the longest-idle executor */
  #idle: Executor[] = []
  readonly #busy = new Set<Executor>()
  /** busy executors blocked in a wait; a subset of #busy */
  readonly #waiting = new Set<Executor>()
  #spawning = 0
  #waiters: Waiter[] = []
  #hasFailedFatally = false
  readonly #changed = new Set<() => void>()

  constructor(
    readonly launcher: ExecutorLauncher,
    readonly log: ConsolaInstance,
    readonly options: ExecutorPoolOptions,
  ) {
    this.concurrency = options.concurrency
    this.warm = options.warm ?? Math.min(options.concurrency, WARM_LIMIT)
  }

  get idleCount(): number {
    return this.#idle.length
  }

  get busyCount(): number {
    return this.#busy.size
  }

  get waitingCount(): number {
    return this.#waiting.size
  }

  /** A busy executor is now blocked in a wait: its slot is free, so the warm set may refill. */
  markWaiting(executor: Executor): void {
    if (!this.#busy.has(executor) || this.#waiting.has(executor)) return
    this.#waiting.add(executor)
    this.#refill()
    this.#notify()
  }

  /** Its wait is over: the executor runs (and counts against the concurrency) again. */
  markRunning(executor: Executor): void {
    if (this.#waiting.delete(executor)) this.#notify()
  }

  get state(): ExecutorPoolState {
    return this.#state
  }

  /** Spawns the W warm executors, concurrently, without waiting for them. */
  start(): void {
    for (let i = 0; i < this.warm; i++) this.#spawn()
  }

  /** The longest-idle executor, else one spawned on demand. Rejects when spawning fails. */
  take(): Promise<Executor> {
    if (this.#state === 'stopped') return Promise.reject(new Error('worker is stopping'))
    const executor = this.#idle.shift()
    if (executor) {
      this.#busy.add(executor)
      this.#refill()
      return Promise.resolve(executor)
    }
    return new Promise<Executor>((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
      // executors already being spawned serve waiters first; spawn only for the excess
      if (this.#waiters.length > this.#spawning) this.#spawn()
    })
  }

  /** An executor taken but never bound (abort before bind, §10.2) goes back to the pool. */
  release(executor: Executor): void {
    this.#busy.delete(executor)
    this.#waiting.delete(executor)
    if (this.#state === 'running' && executor.isAlive && this.#idle.length < this.warm) {
      this.#idle.unshift(executor)
      this.#notify()
    } else {
      executor.closeInput()
    }
  }

  /** Stops refilling and lets idle executors exit (their stdin is closed). */
  drain(): void {
    if (this.#state !== 'running') return
    this.#state = 'draining'
    for (const executor of this.#idle.splice(0)) executor.closeInput()
    this.#notify()
  }

  /** Kills every executor, idle or busy, and rejects waiting takes. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    this.#state = 'stopped'
    for (const executor of this.#idle.splice(0)) executor.kill()
    for (const executor of this.#busy) executor.kill()
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('worker is stopping'))
    await this.launcher.close()
    this.#notify()
  }

  /** Resolves when `check` holds; re-checked on every pool change (for start-up and tests). */
  until(check: (pool: ExecutorPool) => boolean): Promise<void> {
    if (check(this)) return Promise.resolve()
    return new Promise((resolve) => {
      const listener = (): void => {
        if (!check(this)) return
        this.#changed.delete(listener)
        resolve()
      }
      this.#changed.add(listener)
    })
  }

  #notify(): void {
    for (const listener of [...this.#changed]) listener()
  }

  #refill(): void {
    if (this.#state !== 'running' || this.#hasFailedFatally) return
    const prospective = this.#idle.length + this.#spawning
    const running = this.#busy.size - this.#waiting.size
    if (prospective + running < this.concurrency && prospective < this.warm) this.#spawn()
  }

  #spawn(): void {
    this.#spawning++
    this.launcher.launch().then(
      (executor) => {
        this.#spawning--
        void executor.exited.then(() => this.#onExit(executor))
        this.#place(executor)
      },
      (err: unknown) => {
        this.#spawning--
        this.#onSpawnFailure(err instanceof Error ? err : new Error(String(err)))
      },
    )
  }

  #place(executor: Executor): void {
    const waiter = this.#waiters.shift()
    if (waiter) {
      this.#busy.add(executor)
      waiter.resolve(executor)
      this.#refill()
    } else if (this.#state === 'running') {
      this.#idle.push(executor)
    } else if (this.#state === 'draining') {
      executor.closeInput()
    } else {
      executor.kill()
    }
    this.#notify()
  }

  #onSpawnFailure(err: Error): void {
    const isFatal = err instanceof ExecutorStartError && err.isVersionMismatch
    if (isFatal && !this.#hasFailedFatally) {
      this.#hasFailedFatally = true
      this.options.onFatal?.(err)
    }
    if (this.#waiters.length > this.#spawning) this.#waiters.shift()!.reject(err)
    else if (!isFatal) this.log.warn(`failed to start executor: ${err.message}`)
    this.#notify()
  }

  #onExit(executor: Executor): void {
    const index = this.#idle.indexOf(executor)
    if (index !== -1) {
      // a warm executor died while idle (§10.5): replace it
      this.#idle.splice(index, 1)
      this.log.debug(`idle executor ${executor.pid} exited`)
    }
    this.#busy.delete(executor)
    this.#waiting.delete(executor)
    this.#refill()
    this.#notify()
  }
}
