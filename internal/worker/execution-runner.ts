/**
 * One execution, from the server's `execute` to the reported termination (executor-protocol.md
 * §4, §10, §11, §14): directories and arguments are prepared, an executor is taken and bound,
 * its messages handled, and when its process has exited the directories are removed and the
 * termination is reported — always after the completion.
 *
 * States (heartbeat state): starting (preparing, waiting for an executor) → executing (the
 * `execute` line is written) → aborting (server abort, timeout, suspension or forced stop: the
 * process is killed and nothing but the termination is reported, except `put_timeout`). A
 * suspension is answered before the process ends: its input is closed, then it is killed.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { HEARTBEAT_STATE, LOG_LEVEL, type HeartbeatState } from '../protocol/executor.ts'
import { splitExecutionId } from '../protocol/ids.ts'
import { toNumber } from '../protocol/json.ts'
import type { ExecuteParams, WorkerFrame } from '../protocol/worker.ts'
import type { Deliveries } from './deliveries.ts'
import { ExecutionMessages, type MessageServices, type MessageTarget } from './execution-messages.ts'
import type { Executor, ExecutorEvent, ExecutorListener, ExitStatus } from './executor.ts'
import type { HeldExecution } from './executions.ts'
import type { ExecutorPool } from './executor-pool.ts'
import { remove, type WorkingDirectories } from './working-dirs.ts'

/** names each execution's transfer directory uniquely within the worker's private directory */
let transferCounter = 0

/** How long an executor may take to exit after its completion before it is killed (§4.6). */
export const EXIT_GRACE_MS = 5_000

export interface RunnerServices extends MessageServices {
  deliveries: Deliveries
  executorPool: ExecutorPool
  /** each execution's working directory */
  workingDirs: WorkingDirectories
  /**
   * A private directory (the worker's own, mode 0700) in which each execution's `temp_dir` is
   * named but not created: the adapter creates it when it writes its first transfer file, which
   * most executions never do (executor-protocol.md §8.3).
   */
  transferRoot: string
}

type Outcome = 'completed' | 'failed' | 'timed out' | 'suspended' | 'aborted' | 'stopped'

export class ExecutionRunner implements HeldExecution, MessageTarget, ExecutorListener {
  heartbeatState: HeartbeatState = HEARTBEAT_STATE.starting
  readonly id: string
  readonly module: string
  readonly target: string
  readonly runId: string
  readonly workspaceId: string
  readonly timeoutMs: number
  readonly receivedAt = Date.now()
  workingDir = ''
  #tempDir = ''
  #executor: Executor | null = null
  #outcome: Outcome | null = null
  #hasCompletion = false
  #isCut = false
  /** the server recorded a suspension: the process ends once the answer is written */
  #isSuspended = false
  /** the last write to the executor: a suspension's answer is awaited before its input is closed */
  #lastWrite: Promise<boolean> = Promise.resolve(true)
  /** the session frame no longer lists it: the server expects nothing, not even a termination */
  #isForgotten = false
  #timers: ReturnType<typeof setTimeout>[] = []
  #onCut!: () => void
  readonly #cut = new Promise<void>((resolve) => (this.#onCut = resolve))
  readonly #messages: ExecutionMessages
  readonly #arguments: unknown[]

  constructor(
    readonly services: RunnerServices,
    params: ExecuteParams,
  ) {
    ;[this.id, this.module, this.target, , this.runId, this.workspaceId] = params
    this.timeoutMs = params[6] ?? 0
    this.#arguments = params[3]
    this.#messages = new ExecutionMessages(services, this)
  }

  get executionId(): string {
    return this.id
  }

  get isCut(): boolean {
    return this.#isCut
  }

  /** Runs to the end; never rejects. */
  async run(): Promise<void> {
    const started = performance.now()
    try {
      const args = await this.#prepare()
      const executor = this.#isCut ? null : await this.#bind(args)
      if (executor) {
        const exit = await executor.exited
        await this.#messages.idle()
        if (!this.#hasCompletion && !this.#isCut) this.#fail(crashMessage(exit, executor.stderrTail()))
      }
    } catch (err) {
      if (!this.#hasCompletion && !this.#isCut) this.#fail((err as Error).message)
    } finally {
      await this.#finish(performance.now() - started)
    }
  }

  /** The server's `abort` (cancellation, suspension, existing result): kill, report termination only. */
  abort(): void {
    // after a suspension the process is already ending, its answer first (§6.4)
    if (!this.#isSuspended) this.#cutOff('aborted')
  }

  /** Forced shutdown (§10.3): kill; the termination without result makes it abandoned at once. */
  stop(): void {
    this.#cutOff('stopped')
    this.#executor?.kill() // also one ending gracefully after its suspension
  }

  /** The server no longer lists it (abandoned while we were away): kill and forget silently. */
  forget(): void {
    this.#isForgotten = true
    this.#cutOff('aborted')
  }

  // -- MessageTarget ----------------------------------------------------------------------------

  respond(message: unknown): void {
    if (this.#isCut || !this.#executor) return
    this.#lastWrite = this.#executor.send(message)
  }

  complete(outcome: { frame: Omit<WorkerFrame, 'id'> } | { internalError: string }): void {
    if (this.#isCut) return
    if ('internalError' in outcome) return this.#fail(outcome.internalError)
    this.#outcome = outcome.frame.request === 'put_result' ? 'completed' : 'failed'
    this.services.deliveries.complete(this.id, outcome.frame)
  }

  suspended(): void {
    // The server has recorded the suspension; its abort follows, but there is no reason to wait.
    // The executor's `{}` answer comes first (0.12's order): killed before reading it, a scripted
    // executor sees its connection close instead. The answer is handed to the transport in the
    // microtasks after this call, hence the macrotask; once it is written, the input is closed
    // (the adapter then exits with 0, §6.4). Should the write hang, the process is killed anyway.
    if (this.#isSuspended || this.#isCut) return
    this.#isSuspended = true
    this.#clearTimers()
    this.#timers.push(setTimeout(() => this.#cutOff('suspended'), EXIT_GRACE_MS))
    setTimeout(() => void this.#lastWrite.then(() => this.#cutOff('suspended', { isGraceful: true })), 0)
  }

  waitStarted(): void {
    if (this.#executor) this.services.executorPool.markWaiting(this.#executor)
  }

  waitEnded(): void {
    if (this.#executor) this.services.executorPool.markRunning(this.#executor)
  }

  // -- ExecutorListener -------------------------------------------------------------------------

  event(event: ExecutorEvent): void {
    if (this.#hasCompletion || this.#isCut) return
    const stderrLine = capturedStderrLine(event)
    if (stderrLine !== null) this.#executor?.addToStderrTail(stderrLine)
    this.#messages.event(event, () => this.#onCompletionMessage())
  }

  stderr(line: string): void {
    this.#messages.output(3, line)
  }

  // -- lifecycle --------------------------------------------------------------------------------

  async #prepare(): Promise<unknown[]> {
    this.workingDir = this.services.workingDirs.take()
    // a directory costs a disk block and its removal a discard; most executions need none
    this.#tempDir = join(this.services.transferRoot, `coflux-xfer-${++transferCounter}`)
    return Promise.all(this.#arguments.map((arg) => this.services.values.toExecutor(arg)))
  }

  /** Takes an executor and writes `execute`; a dead warm executor is replaced (§10.5). */
  async #bind(args: unknown[]): Promise<Executor | null> {
    for (let attempt = 1; ; attempt++) {
      const executor = await this.#take()
      if (!executor) return null
      this.heartbeatState = HEARTBEAT_STATE.executing
      this.#executor = executor
      executor.listener = this
      if (await executor.send({ method: 'execute', params: this.#executeParams(args) })) {
        this.services.connection.send({ request: 'started', params: [this.id, {}] })
        if (this.timeoutMs > 0) this.#timers.push(setTimeout(() => this.#onTimeout(), this.timeoutMs))
        return executor
      }
      executor.listener = null
      this.#executor = null
      executor.kill()
      if (this.#isCut) return null
      if (attempt === 3) throw new Error('failed to send execute to an executor')
    }
  }

  /** The executor pool's executor, unless the execution is cut first (abort before bind, §10.2). */
  async #take(): Promise<Executor | null> {
    const taking = this.services.executorPool.take()
    const executor = await Promise.race([taking, this.#cut.then(() => null)])
    if (executor && !this.#isCut) return executor
    void taking.then((e) => this.services.executorPool.release(e), () => {})
    return null
  }

  #executeParams(args: unknown[]): Record<string, unknown> {
    const attempt = Number(splitExecutionId(this.id)?.attempt)
    return {
      execution_id: this.id,
      module: this.module,
      target: this.target,
      arguments: args,
      working_dir: this.workingDir,
      run_id: this.runId,
      workspace_id: this.workspaceId,
      attempt: Number.isInteger(attempt) ? attempt : 1,
      timeout_ms: this.timeoutMs,
      temp_dir: this.#tempDir,
    }
  }

  #onCompletionMessage(): void {
    // the first completion wins; the process gets 5 s to exit on its own (§4.6)
    this.#hasCompletion = true
    this.#clearTimers()
    const executor = this.#executor!
    executor.closeInput()
    this.#timers.push(setTimeout(() => executor.kill(), EXIT_GRACE_MS))
  }

  #onTimeout(): void {
    if (this.#hasCompletion || this.#isCut) return
    this.#cutOff('timed out')
    this.services.deliveries.complete(this.id, { request: 'put_timeout', params: [this.id] })
  }

  /** Ends the execution: killed at once, or (graceful) its input closed and killed after the grace. */
  #cutOff(outcome: Outcome, { isGraceful = false } = {}): void {
    if (this.#isCut) return
    this.#isCut = true
    if (!this.#hasCompletion || !this.#outcome) this.#outcome = outcome
    this.heartbeatState = HEARTBEAT_STATE.aborting
    this.#clearTimers()
    this.#messages.cancelRequests()
    const executor = this.#executor
    if (isGraceful && executor) {
      executor.closeInput()
      this.#timers.push(setTimeout(() => executor.kill(), EXIT_GRACE_MS))
    } else {
      executor?.kill()
    }
    this.#onCut()
  }

  #fail(message: string): void {
    this.#outcome = 'failed'
    this.services.deliveries.complete(this.id, { request: 'put_error', params: [this.id, ['internal', message, []]] })
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers = []
  }

  async #finish(elapsedMs: number): Promise<void> {
    this.#clearTimers()
    this.#messages.cancelRequests()
    await this.#messages.idle()
    await Promise.all([
      this.workingDir ? this.services.workingDirs.release(this.workingDir, this.#executor?.pid ?? null) : null,
      existsSync(this.#tempDir) ? remove(this.#tempDir) : null,
    ])
    this.services.metrics.finish(this.id)
    if (!this.#isForgotten) this.services.deliveries.terminate(this.id)
    const outcome = this.#outcome ?? 'aborted'
    const line = `${this.id} ${this.module}/${this.target} ${outcome} (${formatElapsed(elapsedMs)})`
    if (outcome === 'completed' || outcome === 'failed' || outcome === 'timed out' || outcome === 'suspended') this.services.log.info(line)
    else this.services.log.debug(line)
  }
}

/** `executor exited unexpectedly (exit code n)` / `(signal NAME)` and the last stderr lines (§10.4). */
export function crashMessage(exit: ExitStatus, stderrTail: string[]): string {
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`
  const head = `executor exited unexpectedly (${how})`
  return stderrTail.length > 0 ? `${head}\n${stderrTail.join('\n')}` : head
}

/** The text of a `log` the adapter made of a `sys.stderr` write (level 3, §9.1), else null. */
function capturedStderrLine(event: ExecutorEvent): string | null {
  if (event.kind !== 'notification' || event.method !== 'log') return null
  const { level, template } = event.params
  return toNumber(level) === LOG_LEVEL.stderr && typeof template === 'string' ? template : null
}

function formatElapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(2)}s`
}
