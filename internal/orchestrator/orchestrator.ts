/**
 * The orchestrator of one project: it creates the state owners (see core.ts for who owns what),
 * wakes the scheduler (one pass per event-loop turn, or when the earliest delay is due) and
 * implements the few operations every rule needs. The rules themselves live in the operation
 * modules (results, scheduler, sessions, select, cancellation, …), which see it as a `Core`.
 */
import { parseExecutionId } from '../protocol/ids.ts'
import type { ServerReference, ServerValue } from '../protocol/values.ts'
import { PostgresError, type ExecutionRecord, type NewResult, type OrchestrationStore, type StepRecord, type WorkspaceStateName } from '../store/index.ts'
import { sessionLoad, type SessionLoad } from './capacity.ts'
import type { Core, Resolution, ResultContext } from './core.ts'
import { computeDependencies } from './dependencies.ts'
import type { WorkerLauncher } from './worker-launcher.ts'
import { SessionRegistry, type LiveSession } from './live-session.ts'
import { PoolRegistry, type PoolWorker } from './pool-registry.ts'
import { queueReadContext, queueStatus, type QueueStatus } from './queue-status.ts'
import { ExecutionQueue, type QueuedExecution } from './queue.ts'
import { ReplyCache } from './replies.ts'
import { recordResult, resolveCall } from './results.ts'
import { restoreState } from './restore.ts'
import { effectiveRequires } from './routing.ts'
import { ScheduleRunner } from './schedule-runner.ts'
import { runSchedulerPass } from './scheduler.ts'
import type { ChangeEvent } from './types.ts'
import { WaiterRegistry } from './waiter-registry.ts'

export interface OrchestratorOptions {
  /** grace added to a timeout before the server records it itself (semantics.md §9) */
  backstopGraceMs?: number
  /** how long a new session waits for its worker to reconnect (semantics.md §20.1; default 30 s) */
  reconnectionTimeoutMs?: number
  now?: () => number
  /** starts pool workers (semantics.md §21); without one, pools launch nothing */
  launcher?: WorkerLauncher
  /**
   * Test-only: the schedule runner's clock runs this far ahead of `now`, so an end-to-end test
   * can reach a due time (or miss one) without waiting for the wall clock.
   */
  scheduleClockOffsetMs?: number
}

/** The scheduler also runs this often, whatever happens (a missed wake-up costs at most this). */
const SAFETY_PASS_MS = 5_000

export class Orchestrator implements Core {
  readonly store: OrchestrationStore
  readonly queue = new ExecutionQueue()
  readonly sessions = new SessionRegistry()
  readonly replies = new ReplyCache()
  readonly waiters: WaiterRegistry
  readonly pools: PoolRegistry
  /** starts the runs of schedules when they fall due (schedule-runner.ts) */
  readonly schedules: ScheduleRunner
  readonly launcher: WorkerLauncher | null
  readonly backstopGraceMs: number
  readonly reconnectionTimeoutMs: number
  readonly now: () => number
  readonly #listeners = new Set<(event: ChangeEvent) => void>()
  /** a pass is due at the end of this turn */
  #passDue = false
  /** the end-of-turn callback (pass, then commit) is scheduled */
  #turnScheduled = false
  #batchOpen = false
  /** what waits for this turn's writes to be committed (frames to workers) */
  #afterCommit: (() => void)[] = []
  #timer: ReturnType<typeof setTimeout> | null = null
  #timerAt = Infinity
  #safety: ReturnType<typeof setInterval> | null = null
  #closed = false

  constructor(store: OrchestrationStore, options: OrchestratorOptions = {}) {
    this.store = store
    this.backstopGraceMs = options.backstopGraceMs ?? 30_000
    this.reconnectionTimeoutMs = options.reconnectionTimeoutMs ?? 30_000
    this.now = options.now ?? Date.now
    this.launcher = options.launcher ?? null
    this.pools = new PoolRegistry(store, this.sessions, this.now)
    const offset = options.scheduleClockOffsetMs ?? 0
    this.schedules = new ScheduleRunner(this, offset ? { now: () => this.now() + offset } : {})
    this.waiters = new WaiterRegistry(
      {
        pendingExecution: (id) => {
          const r = this.resolve(id)
          return r.final ? null : r.executionId
        },
        isAnswered: (id) => store.inputs.response(id) !== null,
      },
      () => this.emit({ kind: 'inputs' }),
    )
  }

  /** Rebuilds the in-memory state from the store and starts the scheduler. */
  start(): void {
    restoreState(this)
    // after the queue is rebuilt: what fell due while the server was down starts now
    this.schedules.start()
    this.#safety = setInterval(() => this.wake(), SAFETY_PASS_MS)
    this.wake()
  }

  close(): void {
    this.schedules.close()
    this.commit()
    this.#closed = true
    this.pools.close()
    if (this.#safety) clearInterval(this.#safety)
    if (this.#timer) clearTimeout(this.#timer)
    this.queue.close()
    this.sessions.close()
    this.waiters.close()
    this.replies.close()
  }

  // -------------------------------------------------------------------------------------------
  // Change notification and scheduler wake-ups

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  emit(event: ChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // a broken subscriber must not break scheduling
      }
    }
  }

  /** Schedules one pass at the end of this event loop turn (events are batched). */
  wake(): void {
    if (this.#closed) return
    this.#passDue = true
    this.#scheduleTurnEnd()
  }

  /**
   * Opens this turn's write batch (if none is open): every write until the end of the turn
   * shares one transaction, committed before anything that depends on it leaves the process
   * (`afterCommit`). One commit per turn instead of one per statement.
   */
  batch(): void {
    if (this.#batchOpen || this.#closed) return
    this.#openBatch()
    this.#scheduleTurnEnd()
  }

  #openBatch(): void {
    if (this.#batchOpen) return
    this.store.beginBatch()
    this.#batchOpen = true
  }

  /** Runs `send` once this turn's writes are on disk (at once when no batch is open). */
  afterCommit(send: () => void): void {
    if (this.#batchOpen) this.#afterCommit.push(send)
    else send()
  }

  /**
   * Commits the open batch now, then sends what waited for it. When the commit fails nothing of
   * it is sent: those replies would announce writes that are not there. A batch lost with its
   * database connection (PostgreSQL) is not an error here: the project is being reopened from
   * the store, and the workers resend what went unanswered.
   */
  commit(): void {
    if (!this.#batchOpen) return
    this.#batchOpen = false
    const waiting = this.#afterCommit
    this.#afterCommit = []
    try {
      this.store.commitBatch()
    } catch (err) {
      if (err instanceof PostgresError && err.broken) return
      throw err
    }
    for (const send of waiting) send()
  }

  #scheduleTurnEnd(): void {
    if (this.#turnScheduled) return
    this.#turnScheduled = true
    setImmediate(() => {
      this.#turnScheduled = false
      if (this.#closed) return
      if (this.#passDue) {
        this.#passDue = false
        // the pass's own writes (assignments, cache hits) join the batch
        this.#openBatch()
        this.#armTimer(runSchedulerPass(this))
      }
      this.commit()
    })
  }

  #armTimer(at: number | null): void {
    if (at === null || at >= this.#timerAt) {
      if (at === null && this.#timer && this.#timerAt <= this.now()) this.#timerAt = Infinity
      return
    }
    if (this.#timer) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#timerAt = Infinity
      this.wake()
    }, Math.max(0, at - this.now()))
  }

  // -------------------------------------------------------------------------------------------
  // Queries for the server (topics, API): read-only views, never the state owners themselves

  /** Queued and assigned executions of a workspace. */
  queueOf(workspaceId: number): QueuedExecution[] {
    return this.queue.ofWorkspace(workspaceId)
  }

  /** Why a queued execution waits (§11.2). */
  queueStatusOf(live: QueuedExecution, workspaceState: WorkspaceStateName, now = this.now()): QueueStatus {
    return queueStatus(this, live, workspaceState, now)
  }

  /** A workspace's queue, each execution with why it waits; shared work is done once per read. */
  queueWithStatusOf(workspaceId: number, workspaceState: WorkspaceStateName, now = this.now()): [QueuedExecution, QueueStatus][] {
    const context = queueReadContext(this)
    return this.queue.ofWorkspace(workspaceId).map((live) => [live, queueStatus(this, live, workspaceState, now, context)])
  }

  /** Live sessions of a workspace. */
  sessionsOf(workspaceId: number): LiveSession[] {
    return this.sessions.ofWorkspace(workspaceId)
  }

  /** Running and waiting executions of a session (durable waiting). */
  loadOf(session: LiveSession): SessionLoad {
    return sessionLoad(this, session)
  }

  session(id: number): LiveSession | undefined {
    return this.sessions.get(id)
  }

  /** The live session of a pool-launched worker, if any. */
  sessionOfWorker(workerId: number): LiveSession | undefined {
    return this.sessions.ofWorker(workerId)
  }

  /** The newest in-memory record of a launched worker that is not deactivated. */
  poolWorker(workerId: number): PoolWorker | undefined {
    return this.pools.worker(workerId)
  }

  // -------------------------------------------------------------------------------------------
  // What every rule needs (Core)

  execution(id: number): ExecutionRecord | null {
    return this.queue.get(id)?.exec ?? this.store.runs.getExecution(id)
  }

  executionByExternalId(externalId: string): ExecutionRecord | null {
    const queued = this.queue.getByExternalId(externalId)
    if (queued) return queued.exec
    const parts = parseExecutionId(externalId)
    return parts ? this.store.runs.getExecutionByParts(parts.runId, parts.step, parts.attempt) : null
  }

  resolve(executionId: number): Resolution {
    return resolveCall(this.store, executionId)
  }

  recordResult(executionId: number, input: NewResult, context?: ResultContext): boolean {
    return recordResult(this, executionId, input, context)
  }

  track(exec: ExecutionRecord, step?: StepRecord): QueuedExecution {
    const stepRecord = step ?? this.store.runs.getStep(exec.stepId)!
    const run = this.store.runs.getRun(exec.runId)!
    const deferKey = stepRecord.deferKey
      ? `${stepRecord.module}\0${stepRecord.target}\0${exec.workspaceId}\0${Buffer.from(stepRecord.deferKey).toString('hex')}`
      : null
    const live = this.queue.add(exec, stepRecord, effectiveRequires(run.requires, stepRecord.requires), deferKey)
    // frames keep naming it after its result, when it has left the queue
    this.store.runs.remember(exec)
    computeDependencies(this, live)
    this.emit({ kind: 'queue', workspaceId: exec.workspaceId })
    return live
  }

  refillValue(value: ServerValue): ServerValue {
    const refs = value[0] === 'raw' ? value[2] : value[3]
    if (refs.length === 0) return value
    const filled = refs.map((ref) => this.#refillReference(ref))
    return value[0] === 'raw' ? ['raw', value[1], filled] : ['blob', value[1], value[2], filled]
  }

  #refillReference(ref: ServerReference): ServerReference {
    if (ref[0] === 'execution') {
      // a reference may point into an archived epoch (read there, semantics.md §23.2)
      const e = this.executionByExternalId(ref[1]) ?? this.store.findExecution(ref[1])?.value
      return ['execution', ref[1], e?.module ?? null, e?.target ?? null]
    }
    if (ref[0] === 'asset') {
      const a = this.store.assets.getByExternalId(ref[1]) ?? this.store.epochs?.findAsset(ref[1]) ?? null
      return ['asset', ref[1], a?.name ?? null, a?.totalCount ?? null, a?.totalSize ?? null]
    }
    return ref
  }
}
