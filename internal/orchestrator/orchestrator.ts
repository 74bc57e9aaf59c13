/**
 * The orchestrator of one project: the in-memory scheduling state kept in step with the store,
 * result recording with its consequences (retries, recurrence, waiters, dependents, cascades),
 * and resolution of successor chains (semantics.md §4). The scheduling pass, worker requests,
 * submissions, cancellation and sessions live in sibling modules that operate on this state.
 *
 * Longer than most files: the state and the operations that keep its indexes consistent
 * (result recording, waiter and dependency registration) must change together, in one place.
 */
import { RawJson } from '../protocol/json.ts'
import type { SelectReply } from '../protocol/worker.ts'
import type { ServerReference, ServerValue } from '../protocol/values.ts'
import {
  OrchestrationStore,
  type ExecutionRecord,
  type NewResult,
  type ResultRecord,
  type ResultTypeName,
  type StepRecord,
} from '../store/index.ts'
import { isRetryable, retryDelay } from './retries.ts'
import { effectiveRequires } from './routing.ts'
import type { ChangeEvent, LiveExecution, LiveSession, Waiter } from './types.ts'
import { computeDependencies } from './dependencies.ts'
import { runSchedulerPass } from './scheduler.ts'
import { cancelDescendants } from './cancellation.ts'
import { reevaluateWaiter } from './waiters.ts'
import { restoreState } from './restore.ts'
import type { Launcher } from './launcher.ts'
import { PoolState } from './pool-state.ts'

/** Result types whose successor continues the same logical call's resolution. */
const FOLLOWED: ReadonlySet<ResultTypeName> = new Set([
  'error',
  'abandoned',
  'timeout',
  'suspended',
  'recurred',
  'deferred',
  'cached',
  'spawned',
])

export type Resolution =
  | { final: true; executionId: number; result: ResultRecord }
  | { final: false; executionId: number }

export interface OrchestratorOptions {
  /** grace added to a timeout before the server records it itself (semantics.md §9) */
  backstopGraceMs?: number
  now?: () => number
  /** starts pool workers (semantics.md §21); without one, pools launch nothing */
  launcher?: Launcher
}

export class Orchestrator {
  readonly store: OrchestrationStore
  readonly pending = new Map<number, LiveExecution>()
  readonly assigned = new Map<number, LiveExecution>()
  readonly sessions = new Map<number, LiveSession>()
  /** dependency id → executions whose wait_for or gate includes it */
  readonly dependents = new Map<number, Set<number>>()
  /** unanswered input id → executions whose wait_for or gate includes it */
  readonly inputDependents = new Map<number, Set<number>>()
  /** pending execution id → waiters watching it */
  readonly waiters = new Map<number, Set<Waiter>>()
  /** unanswered input id → waiters watching it */
  readonly inputWaiters = new Map<number, Set<Waiter>>()
  /** idempotency key → remembered reply (semantics.md §20.7) */
  readonly replies = new Map<string, unknown>()
  /** waiters by their select's idempotency key */
  readonly waitersByKey = new Map<string, Waiter>()
  readonly repliesByExecution = new Map<number, string[]>()
  readonly backstopGraceMs: number
  readonly now: () => number
  readonly launcher: Launcher | null
  readonly pools: PoolState
  readonly #listeners = new Set<(event: ChangeEvent) => void>()
  #wakeScheduled = false
  #timer: ReturnType<typeof setTimeout> | null = null
  #timerAt = Infinity
  #safety: ReturnType<typeof setInterval> | null = null
  #nextWaiterId = 1
  #closed = false

  constructor(store: OrchestrationStore, options: OrchestratorOptions = {}) {
    this.store = store
    this.backstopGraceMs = options.backstopGraceMs ?? 30_000
    this.now = options.now ?? Date.now
    this.launcher = options.launcher ?? null
    this.pools = new PoolState(this)
  }

  /** Rebuilds the in-memory state from the store and starts the scheduler. */
  start(): void {
    restoreState(this)
    this.#safety = setInterval(() => this.wake(), 5_000)
    this.wake()
  }

  close(): void {
    this.#closed = true
    this.pools.close()
    if (this.#safety) clearInterval(this.#safety)
    if (this.#timer) clearTimeout(this.#timer)
    for (const live of this.assigned.values()) if (live.backstop) clearTimeout(live.backstop)
    for (const s of this.sessions.values()) if (s.expiry) clearTimeout(s.expiry)
    for (const set of [...this.waiters.values(), ...this.inputWaiters.values()]) for (const w of set) if (w.timer) clearTimeout(w.timer)
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
    if (this.#wakeScheduled || this.#closed) return
    this.#wakeScheduled = true
    setImmediate(() => {
      this.#wakeScheduled = false
      if (this.#closed) return
      const nextDue = runSchedulerPass(this)
      this.#armTimer(nextDue)
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
  // Lookups

  execution(id: number): ExecutionRecord | null {
    return this.pending.get(id)?.exec ?? this.assigned.get(id)?.exec ?? this.store.runs.getExecution(id)
  }

  executionByExternalId(externalId: string): ExecutionRecord | null {
    const parts = externalId.split(':')
    if (parts.length !== 3) return null
    const [run, step, attempt] = parts as [string, string, string]
    if (!/^\d+$/.test(step) || !/^\d+$/.test(attempt)) return null
    return this.store.runs.getExecutionByParts(run, Number(step), Number(attempt))
  }

  live(id: number): LiveExecution | undefined {
    return this.pending.get(id) ?? this.assigned.get(id)
  }

  /** Follows successors to the final result, or to the execution that is still pending. */
  resolve(executionId: number): Resolution {
    let id = executionId
    const seen = new Set<number>()
    for (;;) {
      seen.add(id)
      const result = this.store.results.get(id)
      if (!result) return { final: false, executionId: id }
      if (result.successorId !== null && FOLLOWED.has(result.type) && !seen.has(result.successorId)) {
        id = result.successorId
        continue
      }
      return { final: true, executionId: id, result }
    }
  }

  /** A value's references with module/target and asset summaries filled in (to workers). */
  refillValue(value: ServerValue): ServerValue {
    const refs = value[0] === 'raw' ? value[2] : value[3]
    if (refs.length === 0) return value
    const filled = refs.map((ref) => this.refillReference(ref))
    return value[0] === 'raw' ? ['raw', value[1], filled] : ['blob', value[1], value[2], filled]
  }

  refillReference(ref: ServerReference): ServerReference {
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

  /** The select answer for a final resolution (executor-protocol.md §6.2). */
  selectReply(winner: number, result: ResultRecord): SelectReply {
    switch (result.type) {
      case 'value':
      case 'cached':
      case 'deferred':
      case 'spawned': {
        const value = result.valueId !== null ? this.store.values.get(result.valueId) : null
        return { winner, status: 'ok', value: value ? this.refillValue(value) : ['raw', new RawJson('null'), []] }
      }
      case 'error':
        return {
          winner,
          status: 'error',
          error: result.error ?? { type: 'builtins.Exception', message: '', frames: [] },
        }
      case 'cancelled':
        return { winner, status: 'cancelled' }
      case 'abandoned':
        return { winner, status: 'abandoned' }
      case 'timeout':
        return { winner, status: 'timeout' }
      default:
        return { winner, status: 'cancelled' }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Live executions

  /** Starts tracking a result-less, unassigned execution (new attempt, restore). */
  track(exec: ExecutionRecord, step?: StepRecord): LiveExecution {
    const stepRecord = step ?? this.store.runs.getStep(exec.stepId)!
    const run = this.store.runs.getRun(exec.runId)!
    const live: LiveExecution = {
      exec,
      step: stepRecord,
      requires: effectiveRequires(run.requires, stepRecord.requires),
      waitingOn: new Set(),
      gate: null,
      waitingOnInputs: new Set(),
      gateInputs: new Set(),
      deferKey: stepRecord.deferKey
        ? `${stepRecord.module}\0${stepRecord.target}\0${exec.workspaceId}\0${Buffer.from(stepRecord.deferKey).toString('hex')}`
        : null,
      sessionId: null,
      assignedAt: null,
      startedAt: null,
      backstop: null,
      lastSentAt: 0,
      misses: 0,
      resent: false,
    }
    this.pending.set(exec.id, live)
    computeDependencies(this, live)
    this.emit({ kind: 'queue', workspaceId: exec.workspaceId })
    return live
  }

  /**
   * Replaces an execution's dependency registrations in the reverse indexes. Input
   * dependencies (`inputs`) are absent for callers that only clear or track executions.
   */
  setDependencies(
    live: LiveExecution,
    waitingOn: Set<number>,
    gate: Set<number> | null,
    inputs: { waitingOn: Set<number>; gate: Set<number> } = { waitingOn: new Set(), gate: new Set() },
  ): void {
    const hadInputs = live.waitingOnInputs.size > 0 || live.gateInputs.size > 0
    for (const dep of [...live.waitingOn, ...(live.gate ?? [])]) this.dependents.get(dep)?.delete(live.exec.id)
    for (const dep of [...live.waitingOnInputs, ...live.gateInputs]) this.inputDependents.get(dep)?.delete(live.exec.id)
    live.waitingOn = waitingOn
    live.gate = gate
    live.waitingOnInputs = inputs.waitingOn
    live.gateInputs = gate !== null ? inputs.gate : new Set()
    for (const dep of [...waitingOn, ...(gate ?? [])]) addTo(this.dependents, dep, live.exec.id)
    for (const dep of [...live.waitingOnInputs, ...live.gateInputs]) addTo(this.inputDependents, dep, live.exec.id)
    // which inputs have waiting executions is shown in the inputs topics
    if (hadInputs || live.waitingOnInputs.size > 0 || live.gateInputs.size > 0) this.emit({ kind: 'inputs' })
  }

  // -------------------------------------------------------------------------------------------
  // Results

  /**
   * Records a result unless one exists (first write wins), applying the retry policy and
   * recurrence at that moment so a result's successor never changes (§4.2). Returns whether
   * this call wrote the result.
   */
  recordResult(executionId: number, input: NewResult): boolean {
    if (this.store.results.get(executionId)) return false
    const exec = this.execution(executionId)
    if (!exec) return false
    const step = this.live(executionId)?.step ?? this.store.runs.getStep(exec.stepId)!
    const now = this.now()
    let result: NewResult = input
    let successor: ExecutionRecord | null = null
    const written = this.store.transaction(() => {
      if (this.store.results.get(executionId)) return false
      if (input.successorId == null && isRetryable(input.type, input.retryable ?? null) && step.retryLimit !== 0) {
        const delay = retryDelay(
          { limit: step.retryLimit, backoffMin: step.backoffMin, backoffMax: step.backoffMax },
          this.#previousResults(exec),
        )
        if (delay !== null) {
          successor = this.store.runs.createExecution(step.id, exec.workspaceId, delay > 0 ? now + delay : null, now)
        }
      } else if (input.type === 'value' && step.recurrent && this.#isNullValue(input.valueId ?? null)) {
        result = { ...input, type: 'recurred' }
        successor = this.store.runs.createExecution(step.id, exec.workspaceId, step.delay > 0 ? now + step.delay : null, now)
      }
      const successorId = input.successorId ?? (successor as ExecutionRecord | null)?.id ?? null
      return this.store.results.record(executionId, { ...result, successorId }, now)
    })
    if (!written) return false
    this.#afterResult(exec, step, result.type, successor)
    return true
  }

  /** Result types of the step's earlier executions in the same workspace, newest first (§8.3). */
  #previousResults(exec: ExecutionRecord): (ResultTypeName | null)[] {
    return this.store.runs
      .executionsOfStep(exec.stepId)
      .filter((e) => e.id !== exec.id && e.workspaceId === exec.workspaceId && e.attempt < exec.attempt)
      .sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt)
      .map((e) => this.store.results.get(e.id)?.type ?? null)
  }

  #isNullValue(valueId: number | null): boolean {
    if (valueId === null) return true
    const value = this.store.values.get(valueId)
    return !!value && value[0] === 'raw' && value[1].text === 'null' && value[2].length === 0
  }

  #afterResult(exec: ExecutionRecord, step: StepRecord, type: ResultTypeName, successor: ExecutionRecord | null): void {
    const live = this.pending.get(exec.id) ?? this.assigned.get(exec.id)
    this.pending.delete(exec.id)
    if (live) {
      this.setDependencies(live, new Set(), null)
      if (live.backstop) clearTimeout(live.backstop)
      live.backstop = null
    }
    const sessionId = live?.sessionId ?? null
    if (sessionId !== null) {
      const session = this.sessions.get(sessionId)
      if (session?.held.has(exec.id)) session.held.set(exec.id, 'finished')
      session?.unacknowledged.delete(exec.id)
    }
    this.assigned.delete(exec.id)
    if (successor) this.track(successor, step)
    // waiters and dependents move to the successor or get their answer
    this.release(this.waiters, this.dependents, exec.id)
    // §9: a timeout cancels the incomplete descendants; cancellation cascades from cancellation.ts
    if (type === 'timeout') cancelDescendants(this, exec.id, exec.workspaceId)
    this.#scheduleReplyCleanup(exec.id)
    this.emit({ kind: 'run', runId: exec.runId })
    this.emit({ kind: 'queue', workspaceId: exec.workspaceId })
    this.wake()
  }

  /**
   * Something others wait on resolved or moved on (an execution's result, an input's response):
   * its select waiters are answered or re-registered, and what depended on it is recomputed.
   */
  release(waiters: Map<number, Set<Waiter>>, dependents: Map<number, Set<number>>, id: number): void {
    const watchers = waiters.get(id)
    if (watchers) {
      waiters.delete(id)
      for (const waiter of watchers) reevaluateWaiter(this, waiter)
    }
    const waiting = dependents.get(id)
    if (!waiting) return
    dependents.delete(id)
    for (const dependentId of waiting) {
      const dependent = this.pending.get(dependentId)
      if (!dependent) continue
      computeDependencies(this, dependent)
      this.emit({ kind: 'queue', workspaceId: dependent.exec.workspaceId })
    }
  }

  /** Remembered replies live until the result plus the reconnection timeout (§20.7). */
  #scheduleReplyCleanup(executionId: number): void {
    const keys = this.repliesByExecution.get(executionId)
    if (!keys) return
    setTimeout(() => {
      for (const key of keys) this.replies.delete(key)
      this.repliesByExecution.delete(executionId)
    }, 60_000).unref?.()
  }

  // -------------------------------------------------------------------------------------------
  // Waiters

  addWaiter(waiter: Omit<Waiter, 'id' | 'watching' | 'watchingInputs' | 'timer'>, timeoutMs: number | null, onExpire: (w: Waiter) => void): Waiter {
    const full: Waiter = { ...waiter, id: this.#nextWaiterId++, watching: new Set(), watchingInputs: new Set(), timer: null }
    if (full.key !== undefined) {
      const previous = this.waitersByKey.get(full.key)
      if (previous) this.removeWaiter(previous)
      this.waitersByKey.set(full.key, full)
    }
    if (timeoutMs !== null) full.timer = setTimeout(() => onExpire(full), Math.max(0, timeoutMs))
    this.watch(full)
    return full
  }

  /** Registers a waiter on every still-pending execution and unanswered input of its handles. */
  watch(waiter: Waiter): void {
    const hadInputs = waiter.watchingInputs.size > 0
    for (const id of waiter.watching) this.waiters.get(id)?.delete(waiter)
    for (const id of waiter.watchingInputs) this.inputWaiters.get(id)?.delete(waiter)
    waiter.watching = new Set()
    waiter.watchingInputs = new Set()
    for (const handle of waiter.handles) {
      if (handle.kind === 'input') {
        if (this.store.inputs.response(handle.id)) continue
        waiter.watchingInputs.add(handle.id)
        addTo(this.inputWaiters, handle.id, waiter)
        continue
      }
      const r = this.resolve(handle.id)
      if (r.final) continue
      waiter.watching.add(r.executionId)
      addTo(this.waiters, r.executionId, waiter)
    }
    if (hadInputs || waiter.watchingInputs.size > 0) this.emit({ kind: 'inputs' })
  }

  removeWaiter(waiter: Waiter): void {
    if (waiter.key !== undefined && this.waitersByKey.get(waiter.key) === waiter) this.waitersByKey.delete(waiter.key)
    if (waiter.timer) clearTimeout(waiter.timer)
    waiter.timer = null
    for (const id of waiter.watching) this.waiters.get(id)?.delete(waiter)
    waiter.watching.clear()
    if (waiter.watchingInputs.size > 0) {
      for (const id of waiter.watchingInputs) this.inputWaiters.get(id)?.delete(waiter)
      waiter.watchingInputs.clear()
      this.emit({ kind: 'inputs' })
    }
  }

  /** Drops every waiter whose caller is this execution (aborted, cancelled, suspended). */
  removeWaitersOfCaller(callerId: number): void {
    for (const set of [...this.waiters.values(), ...this.inputWaiters.values()]) {
      for (const w of [...set]) if (w.callerId === callerId) this.removeWaiter(w)
    }
  }
}

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key)
  if (!set) index.set(key, (set = new Set()))
  set.add(value)
}
