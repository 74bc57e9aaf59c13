/**
 * The execution queue: every execution without a result that the scheduler tracks, and the
 * reverse indexes from what executions wait on (executions, inputs) to them. The only owner of
 * that state; others read `QueuedExecution`s and change them through the methods here.
 *
 * States of a queued execution:
 * - pending:  queued, possibly waiting on dependencies, a delay, a worker
 * - assigned: sent to a session (back to pending when the assignment is found lost, §20.6)
 * - gone:     removed when it gets a result
 *
 * So a scheduling pass never walks the whole queue, pending executions that wait for nothing
 * but their due time and a worker ("runnable") are also kept in scheduling order per routing
 * class (workspace, target, requires; child workflows to spawn apart), and those waiting on
 * dependencies or carrying a defer key are listed apart.
 */
import type { TagSet } from '../protocol/api.ts'
import type { ExecutionRecord, StepRecord } from '../store/index.ts'
import { OrderedList } from './ordered-list.ts'
import { targetKey } from './types.ts'

/** A queued execution as others see it. */
export interface QueuedExecution {
  readonly exec: ExecutionRecord
  readonly step: StepRecord
  /** effective requires (§19.2) */
  readonly requires: TagSet
  /** `module\0target\0workspace\0key` when the step has a defer key (§11) */
  readonly deferKey: string | null
  /** wait_for dependencies still pending (all-of) */
  readonly waitingOn: ReadonlySet<number>
  /** suspension gate (any-of); null when there is none or it is satisfied */
  readonly gate: ReadonlySet<number> | null
  /** inputs referenced by wait_for arguments that have no response yet (all-of) */
  readonly waitingOnInputs: ReadonlySet<number>
  /** unanswered inputs of the pending suspension gate (any-of, with `gate`) */
  readonly gateInputs: ReadonlySet<number>
  readonly sessionId: number | null
  readonly assignedAt: number | null
  readonly startedAt: number | null
  /** lost-assignment bookkeeping (§20.6): when `execute` was last sent, misses seen since */
  readonly lastSentAt: number
  readonly misses: number
  readonly resent: boolean
}

/** What an execution waits on, as computed by dependencies.ts. */
export interface Dependencies {
  waitingOn: Set<number>
  gate: Set<number> | null
  waitingOnInputs: Set<number>
  gateInputs: Set<number>
}

export const NO_DEPENDENCIES: Readonly<Dependencies> = Object.freeze({
  waitingOn: new Set<number>(),
  gate: null,
  waitingOnInputs: new Set<number>(),
  gateInputs: new Set<number>(),
})

class Entry implements QueuedExecution {
  waitingOn: Set<number> = new Set()
  gate: Set<number> | null = null
  waitingOnInputs: Set<number> = new Set()
  gateInputs: Set<number> = new Set()
  sessionId: number | null = null
  assignedAt: number | null = null
  startedAt: number | null = null
  lastSentAt = 0
  misses = 0
  resent = false
  backstop: ReturnType<typeof setTimeout> | null = null
  /** executions of one class are interchangeable for routing: the same sessions can take them */
  readonly routingClass: string

  constructor(
    readonly exec: ExecutionRecord,
    readonly step: StepRecord,
    readonly requires: TagSet,
    readonly deferKey: string | null,
  ) {
    const spawned = step.type === 'workflow' && step.parentExecutionId !== null
    const tags = Object.keys(requires).sort().map((k) => `${k}=${requires[k]!.join('|')}`).join(',')
    const target = spawned ? 'spawn' : targetKey(step.type, step.module, step.target)
    this.routingClass = `${exec.workspaceId}\0${target}\0${tags}\0${step.concurrency?.key ?? ''}`
  }
}

/**
 * Each level of priority counts as this much waiting (our improvement to §5.2's order): higher
 * priority goes first, FIFO within a priority, and work of a lower priority that has waited
 * longer than the difference goes before newer work of a higher one, so none starves.
 */
export const PRIORITY_AGEING_MS = 60_000

/** When an execution became (or becomes) due, less its priority's head start. */
export function schedulingKey(live: QueuedExecution): number {
  return (live.exec.executeAfter ?? live.exec.createdAt) - live.step.priority * PRIORITY_AGEING_MS
}

/** Scheduling order: the scheduling key, then creation time, then id. */
export function compareCandidates(a: QueuedExecution, b: QueuedExecution): number {
  const ka = schedulingKey(a)
  const kb = schedulingKey(b)
  if (ka !== kb) return ka - kb
  if (a.exec.createdAt !== b.exec.createdAt) return a.exec.createdAt - b.exec.createdAt
  return a.exec.id - b.exec.id
}

export class ExecutionQueue {
  readonly #pending = new Map<number, Entry>()
  readonly #assigned = new Map<number, Entry>()
  /** external id → entry, for frames that name executions (every frame from a worker does) */
  readonly #byExternalId = new Map<string, Entry>()
  /** dependency execution id → executions whose wait_for or gate includes it */
  readonly #dependents = new Map<number, Set<number>>()
  /** unanswered input id → executions whose wait_for or gate includes it */
  readonly #inputDependents = new Map<number, Set<number>>()
  /** runnable pending executions by routing class, in scheduling order */
  readonly #runnable = new Map<string, OrderedList<Entry>>()
  /** pending executions with dependencies still unresolved */
  readonly #blocked = new Set<Entry>()
  /** pending executions with a defer key (collapsed by each pass, delayed or not) */
  readonly #deferKeyed = new Set<Entry>()

  /** Queues a result-less, unassigned execution. */
  add(exec: ExecutionRecord, step: StepRecord, requires: TagSet, deferKey: string | null): QueuedExecution {
    const entry = new Entry(exec, step, requires, deferKey)
    this.#pending.set(exec.id, entry)
    this.#byExternalId.set(exec.externalId, entry)
    this.#index(entry)
    return entry
  }

  get(id: number): QueuedExecution | undefined {
    return this.#pending.get(id) ?? this.#assigned.get(id)
  }
  getByExternalId(externalId: string): QueuedExecution | undefined {
    return this.#byExternalId.get(externalId)
  }
  isPending(id: number): boolean {
    return this.#pending.has(id)
  }
  isAssigned(id: number): boolean {
    return this.#assigned.has(id)
  }
  pending(): QueuedExecution[] {
    return [...this.#pending.values()]
  }
  assigned(): QueuedExecution[] {
    return [...this.#assigned.values()]
  }
  all(): QueuedExecution[] {
    return [...this.#pending.values(), ...this.#assigned.values()]
  }
  /** Queued and assigned executions of one workspace. */
  ofWorkspace(workspaceId: number): QueuedExecution[] {
    return this.all().filter((l) => l.exec.workspaceId === workspaceId)
  }
  /** Runnable pending executions, one list per routing class, each in scheduling order. */
  *runnableClasses(): Generator<readonly QueuedExecution[]> {
    for (const list of this.#runnable.values()) yield list.items
  }
  /** Pending executions whose dependencies are not all resolved. */
  blocked(): QueuedExecution[] {
    return [...this.#blocked]
  }
  /** Pending executions with a defer key. */
  deferKeyed(): QueuedExecution[] {
    return [...this.#deferKeyed]
  }
  /** Every id the queue refers to: its executions and what they wait on (epoch rotation). */
  referencedIds(): number[] {
    return [...this.#pending.keys(), ...this.#assigned.keys(), ...this.#dependents.keys()]
  }

  /** pending → assigned to `sessionId`. */
  assign(id: number, sessionId: number, now: number): void {
    const entry = this.#pending.get(id)
    if (!entry) return
    this.#toAssigned(entry, sessionId, now, null)
    entry.misses = 0
    entry.resent = false
  }

  /** An assignment read back from the store at start-up. */
  restoreAssignment(id: number, sessionId: number | null, assignedAt: number, startedAt: number | null, now: number): void {
    const entry = this.#pending.get(id) ?? this.#assigned.get(id)
    if (!entry) return
    this.#toAssigned(entry, sessionId, assignedAt, startedAt)
    entry.lastSentAt = now
  }

  /** assigned → pending: the worker never got it (§20.6), no attempt is consumed. */
  unassign(id: number): void {
    const entry = this.#assigned.get(id)
    if (!entry) return
    this.#clearBackstop(entry)
    this.#assigned.delete(id)
    entry.sessionId = null
    entry.assignedAt = null
    this.#pending.set(id, entry)
    this.#index(entry)
  }

  markStarted(id: number, now: number): void {
    const entry = this.#assigned.get(id)
    if (entry) entry.startedAt = now
  }

  markSent(id: number, now: number): void {
    const entry = this.#pending.get(id) ?? this.#assigned.get(id)
    if (entry) entry.lastSentAt = now
  }

  /** A heartbeat without the unacknowledged execution; returns the misses so far. */
  noteMiss(id: number): number {
    const entry = this.#assigned.get(id)
    if (!entry) return 0
    return ++entry.misses
  }

  /** After two misses: `execute` is re-sent once (`resent`), the count starts again. */
  noteResent(id: number): void {
    const entry = this.#assigned.get(id)
    if (!entry) return
    entry.misses = 0
    entry.resent = true
  }

  resetMisses(id: number): void {
    const entry = this.#assigned.get(id)
    if (entry) entry.misses = 0
  }

  /** Stops tracking (the execution has a result); returns what it was. */
  remove(id: number): QueuedExecution | undefined {
    const entry = this.#pending.get(id) ?? this.#assigned.get(id)
    if (!entry) return undefined
    this.#unindex(entry)
    this.#pending.delete(id)
    this.#assigned.delete(id)
    this.#byExternalId.delete(entry.exec.externalId)
    this.#setDependencies(entry, NO_DEPENDENCIES)
    this.#clearBackstop(entry)
    return entry
  }

  /** The server-side deadline (§9) of an assigned execution; replaces an earlier one. */
  setBackstop(id: number, timer: ReturnType<typeof setTimeout> | null): void {
    const entry = this.#assigned.get(id)
    if (!entry) {
      if (timer) clearTimeout(timer)
      return
    }
    this.#clearBackstop(entry)
    entry.backstop = timer
  }

  /**
   * Replaces a pending execution's dependency registrations in the reverse indexes. Returns
   * whether inputs were or are involved (the inputs topics show who waits on an input).
   */
  setDependencies(id: number, deps: Dependencies): boolean {
    const entry = this.#pending.get(id)
    if (!entry) return false
    this.#unindex(entry)
    const involvesInputs = this.#setDependencies(entry, deps)
    this.#index(entry)
    return involvesInputs
  }

  /** Executions that waited on this execution (each must be recomputed); forgets them. */
  takeDependents(executionId: number): number[] {
    return take(this.#dependents, executionId)
  }
  /** Executions that waited on this input; forgets them. */
  takeInputDependents(inputId: number): number[] {
    return take(this.#inputDependents, inputId)
  }
  /** Queued executions gated on or waiting for this unanswered input. */
  dependentsOfInput(inputId: number): number[] {
    return [...(this.#inputDependents.get(inputId) ?? [])]
  }
  /** Inputs some queued execution depends on. */
  awaitedInputIds(): number[] {
    return [...this.#inputDependents].filter(([, set]) => set.size > 0).map(([id]) => id)
  }

  close(): void {
    for (const entry of this.#assigned.values()) this.#clearBackstop(entry)
  }

  #setDependencies(entry: Entry, deps: Readonly<Dependencies>): boolean {
    const id = entry.exec.id
    const hadInputs = entry.waitingOnInputs.size > 0 || entry.gateInputs.size > 0
    for (const dep of [...entry.waitingOn, ...(entry.gate ?? [])]) removeFrom(this.#dependents, dep, id)
    for (const dep of [...entry.waitingOnInputs, ...entry.gateInputs]) removeFrom(this.#inputDependents, dep, id)
    entry.waitingOn = new Set(deps.waitingOn)
    entry.gate = deps.gate ? new Set(deps.gate) : null
    entry.waitingOnInputs = new Set(deps.waitingOnInputs)
    entry.gateInputs = deps.gate !== null ? new Set(deps.gateInputs) : new Set()
    for (const dep of [...entry.waitingOn, ...(entry.gate ?? [])]) addTo(this.#dependents, dep, id)
    for (const dep of [...entry.waitingOnInputs, ...entry.gateInputs]) addTo(this.#inputDependents, dep, id)
    return hadInputs || entry.waitingOnInputs.size > 0 || entry.gateInputs.size > 0
  }

  #toAssigned(entry: Entry, sessionId: number | null, assignedAt: number, startedAt: number | null): void {
    this.#unindex(entry)
    this.#pending.delete(entry.exec.id)
    this.#assigned.set(entry.exec.id, entry)
    this.#setDependencies(entry, NO_DEPENDENCIES)
    entry.sessionId = sessionId
    entry.assignedAt = assignedAt
    entry.startedAt = startedAt
  }

  /** Files a pending entry where the scheduler looks for it. */
  #index(entry: Entry): void {
    if (entry.deferKey) this.#deferKeyed.add(entry)
    if (hasPendingDependencies(entry)) {
      this.#blocked.add(entry)
      return
    }
    let list = this.#runnable.get(entry.routingClass)
    if (!list) {
      list = new OrderedList<Entry>(compareCandidates)
      this.#runnable.set(entry.routingClass, list)
    }
    list.add(entry)
  }

  #unindex(entry: Entry): void {
    this.#deferKeyed.delete(entry)
    if (this.#blocked.delete(entry)) return
    const list = this.#runnable.get(entry.routingClass)
    if (!list) return
    list.remove(entry)
    if (list.size === 0) this.#runnable.delete(entry.routingClass)
  }

  #clearBackstop(entry: Entry): void {
    if (entry.backstop) clearTimeout(entry.backstop)
    entry.backstop = null
  }
}

/** Whether a queued execution still waits for something (all of wait_for, any of its gate). */
export function hasPendingDependencies(live: QueuedExecution): boolean {
  return (
    live.waitingOn.size > 0 ||
    live.waitingOnInputs.size > 0 ||
    (live.gate !== null && live.gate.size + live.gateInputs.size > 0)
  )
}

export function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key)
  if (!set) index.set(key, (set = new Set()))
  set.add(value)
}

export function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) index.delete(key)
}

function take<K, V>(index: Map<K, Set<V>>, key: K): V[] {
  const set = index.get(key)
  if (!set) return []
  index.delete(key)
  return [...set]
}
