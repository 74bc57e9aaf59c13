/**
 * Fork mode (our extension of executor-protocol.md §12, negotiated): executors are forked from a
 * preloaded *template* instead of booting a fresh interpreter each time, which costs ~2 ms
 * instead of tens (notes/toolchain.md §4), while each execution still gets its own process.
 *
 * The first executor is spawned with `COFLUX_FORK_SOCKET`. If its `ready` says `"fork": true`
 * it becomes the template: `{"method":"fork","params":{"count":N}}` asks it for N children, which
 * connect back through the socket (fork-socket.ts), and it reports each child's exit as
 * `{"method":"exited","params":{"pid","status"}}`. Otherwise (any 0.12 adapter) that executor is
 * used as a normal one and every later executor is spawned plainly. When the template dies a new
 * one is started; after three templates in a row die without producing a child, plain spawning
 * takes over for good.
 *
 * States: negotiating (no template yet) → forking (template alive) ⇄ restarting → plain.
 */
import type { ConsolaInstance } from 'consola'
import { join } from 'node:path'
import { parseExecutorMessage, type ExecutorNotification } from '../protocol/executor-messages.ts'
import { ExecutorStartError, type Executor, type ExecutorEvent } from './executor.ts'
import { awaitReady, READY_TIMEOUT_MS, SpawnExecutorLauncher, spawnExecutor, type SpawnOptions } from './executor-process.ts'
import { exitStatusFromTemplate, ForkSocket } from './fork-socket.ts'
import type { ExecutorLauncher } from './executor-pool.ts'

const MAX_TEMPLATE_FAILURES = 3
/** socket names are unique per executor launcher: a reload's new one never meets the old one's file */
let socketCounter = 0

interface Waiter {
  resolve: (executor: Executor) => void
  reject: (error: Error) => void
  timer: ReturnType<typeof setTimeout>
}

export class ForkExecutorLauncher implements ExecutorLauncher {
  readonly #plain: SpawnExecutorLauncher
  readonly #socket: ForkSocket
  #mode: 'fork' | 'plain' = 'fork'
  #template: Executor | null = null
  #isStarting = false
  #templateFailures = 0
  #hasForkedChild = false
  #waiters: Waiter[] = []
  /** forks asked of the template whose children have not become ready yet */
  #requested = 0
  #isRequestScheduled = false
  #isClosed = false

  constructor(
    readonly options: SpawnOptions,
    /** a private directory for the socket (unix socket paths are limited to ~107 bytes) */
    socketDir: string,
    readonly log: ConsolaInstance,
    readonly readyTimeoutMs = READY_TIMEOUT_MS,
  ) {
    this.#plain = new SpawnExecutorLauncher(options, log, readyTimeoutMs)
    this.#socket = new ForkSocket(join(socketDir, `fork-${++socketCounter}.sock`), log, (executor) => this.#onChild(executor))
    this.#socket.listen()
  }

  /** Whether executors currently come from a template (for logs and tests). */
  get isForking(): boolean {
    return this.#template !== null
  }

  launch(): Promise<Executor> {
    if (this.#mode === 'plain') return this.#plain.launch()
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#drop(waiter, new ExecutorStartError(`executor did not send ready within ${+(this.readyTimeoutMs / 1000).toFixed(1)}s`))
          this.#requested = Math.max(0, this.#requested - 1)
        }, this.readyTimeoutMs),
      }
      this.#waiters.push(waiter)
      this.#pump()
    })
  }

  async close(): Promise<void> {
    this.#isClosed = true
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error('worker is stopping'))
    }
    // end of input makes the template exit; its children run to completion on their own
    this.#template?.closeInput()
    await this.#socket.close()
  }

  /** Makes progress for the waiters: start a template, ask it for children, or fall back. */
  #pump(): void {
    if (this.#isClosed || this.#waiters.length === 0) return
    if (this.#mode === 'plain') {
      for (const waiter of this.#waiters.splice(0)) {
        clearTimeout(waiter.timer)
        this.#plain.launch().then(waiter.resolve, waiter.reject)
      }
      return
    }
    if (!this.#template) {
      if (!this.#isStarting) void this.#startTemplate()
      return
    }
    if (this.#waiters.length > this.#requested && !this.#isRequestScheduled) {
      // requests made in the same tick (start-up, refills) become one `fork` message
      this.#isRequestScheduled = true
      queueMicrotask(() => {
        this.#isRequestScheduled = false
        const count = this.#waiters.length - this.#requested
        if (count <= 0 || !this.#template) return
        this.#requested += count
        const fork: ExecutorNotification = { method: 'fork', params: { count } }
        void this.#template.send(fork)
      })
    }
  }

  async #startTemplate(): Promise<void> {
    this.#isStarting = true
    const env = { ...this.options.env, COFLUX_FORK_SOCKET: this.#socket.path }
    const executor = spawnExecutor({ ...this.options, env }, this.log)
    try {
      const ready = await awaitReady(executor, this.readyTimeoutMs)
      if (this.#isClosed) return executor.closeInput()
      if (ready.fork !== true) {
        // an adapter without fork mode (e.g. 0.12): this one is an ordinary executor
        this.#mode = 'plain'
        this.log.debug('adapter does not support fork mode; spawning executors')
        const waiter = this.#first()
        if (waiter) waiter.resolve(executor)
        else executor.closeInput()
        return
      }
      this.#template = executor
      this.#hasForkedChild = false
      executor.listener = { event: (event) => this.#templateEvent(event), stderr: (line) => this.log.debug(`fork template: ${line}`) }
      void executor.exited.then(() => this.#templateExited(executor))
      this.log.debug(`fork template ${executor.pid} ready`)
    } catch (err) {
      const error = err instanceof ExecutorStartError ? err : new ExecutorStartError((err as Error).message)
      if (error.isVersionMismatch) {
        for (const waiter of [...this.#waiters]) this.#drop(waiter, error)
      } else {
        this.#countTemplateFailure()
        const waiter = this.#first()
        if (waiter) this.#drop(waiter, error)
      }
    } finally {
      this.#isStarting = false
      this.#pump()
    }
  }

  #templateEvent(event: ExecutorEvent): void {
    if (event.kind !== 'notification' || event.method !== 'exited') return
    let message
    try {
      message = parseExecutorMessage(event)
    } catch {
      return // without a pid and a status there is nothing to act on
    }
    if (message.method !== 'exited') return
    const { pid, status } = message.params
    const child = this.#socket.exited(pid, exitStatusFromTemplate(status))
    if (!child?.executor) {
      // died before connecting: a failed spawn
      this.#requested = Math.max(0, this.#requested - 1)
      const waiter = this.#first()
      if (waiter) this.#drop(waiter, new ExecutorStartError(`forked executor exited before ready (status ${status})`))
      this.#pump()
    }
  }

  #templateExited(template: Executor): void {
    if (this.#template !== template) return
    this.#template = null
    this.#requested = 0
    this.#socket.templateGone()
    if (this.#isClosed) return
    if (this.#hasForkedChild) this.#templateFailures = 0
    else this.#countTemplateFailure()
    this.log.warn(`fork template ${template.pid} exited; starting a new one`)
    this.#pump()
  }

  #countTemplateFailure(): void {
    if (++this.#templateFailures < MAX_TEMPLATE_FAILURES) return
    this.#mode = 'plain'
    this.log.warn('fork templates keep failing; spawning executors instead')
  }

  #onChild(executor: Executor): void {
    awaitReady(executor, this.readyTimeoutMs).then(
      () => {
        this.#requested = Math.max(0, this.#requested - 1)
        this.#hasForkedChild = true
        this.#templateFailures = 0
        const waiter = this.#first()
        if (waiter) {
          clearTimeout(waiter.timer)
          waiter.resolve(executor)
        } else {
          executor.closeInput()
        }
      },
      (err: Error) => {
        this.#requested = Math.max(0, this.#requested - 1)
        const waiter = this.#first()
        if (waiter) this.#drop(waiter, err)
        this.#pump()
      },
    )
  }

  #first(): Waiter | undefined {
    const waiter = this.#waiters.shift()
    if (waiter) clearTimeout(waiter.timer)
    return waiter
  }

  #drop(waiter: Waiter, error: Error): void {
    const index = this.#waiters.indexOf(waiter)
    if (index !== -1) this.#waiters.splice(index, 1)
    clearTimeout(waiter.timer)
    waiter.reject(error)
  }
}
