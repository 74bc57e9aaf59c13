/**
 * Select waiters (semantics.md §14.4): a running execution blocked in `select` on handles that
 * have not resolved. The registry is the only owner of the waiters, their timeouts and the
 * indexes from a pending execution or unanswered input to the waiters watching it. What a
 * waiter's answer is, and what happens when it resolves, is decided in select.ts.
 */
import { addTo, removeFrom } from './queue.ts'
import type { ResolvedHandle } from './types.ts'

export interface WaiterSpec {
  sessionId: number
  callerId: number
  handles: ResolvedHandle[]
  suspend: boolean
  cancelRemaining: boolean
  /** ms until it gives up (answered null, or suspended when `suspend`); null waits indefinitely */
  timeoutMs: number | null
  /** the request's idempotency key: a re-sent select replaces its earlier waiter */
  key?: string
  reply: (value: unknown) => void
}

export interface Waiter extends Readonly<WaiterSpec> {
  readonly id: number
  /** when it started waiting */
  readonly since: number
}

/** Where a handle stands now: the pending execution a handle waits on (null once final). */
export interface HandleState {
  pendingExecution(executionId: number): number | null
  isAnswered(inputId: number): boolean
}

interface Watch {
  executions: Set<number>
  inputs: Set<number>
  timer: ReturnType<typeof setTimeout> | null
}

export class WaiterRegistry {
  readonly #state: HandleState
  readonly #onInputsChanged: () => void
  readonly #watches = new Map<Waiter, Watch>()
  /** pending execution id → waiters watching it */
  readonly #byExecution = new Map<number, Set<Waiter>>()
  /** unanswered input id → waiters watching it */
  readonly #byInput = new Map<number, Set<Waiter>>()
  readonly #byKey = new Map<string, Waiter>()
  /** caller execution id → its waiters (normally one) */
  readonly #byCaller = new Map<number, Set<Waiter>>()
  #nextId = 1

  constructor(state: HandleState, onInputsChanged: () => void) {
    this.#state = state
    this.#onInputsChanged = onInputsChanged
  }

  /** Registers a waiter on its unresolved handles, with an optional timeout. */
  add(spec: WaiterSpec, now: number, onExpire: (w: Waiter) => void): Waiter {
    const waiter: Waiter = { ...spec, id: this.#nextId++, since: now }
    const timeoutMs = spec.timeoutMs
    if (waiter.key !== undefined) {
      const previous = this.#byKey.get(waiter.key)
      if (previous) this.remove(previous)
      this.#byKey.set(waiter.key, waiter)
    }
    const watch: Watch = { executions: new Set(), inputs: new Set(), timer: null }
    this.#watches.set(waiter, watch)
    addTo(this.#byCaller, waiter.callerId, waiter)
    if (timeoutMs !== null) watch.timer = setTimeout(() => onExpire(waiter), Math.max(0, timeoutMs))
    this.rewatch(waiter)
    return waiter
  }

  /** Re-registers on what is still unresolved (a watched execution moved to its successor). */
  rewatch(waiter: Waiter): void {
    const watch = this.#watches.get(waiter)
    if (!watch) return
    const hadInputs = watch.inputs.size > 0
    this.#unindex(waiter, watch)
    for (const handle of waiter.handles) {
      if (handle.kind === 'input') {
        if (this.#state.isAnswered(handle.id)) continue
        watch.inputs.add(handle.id)
        addTo(this.#byInput, handle.id, waiter)
        continue
      }
      const pending = this.#state.pendingExecution(handle.id)
      if (pending === null) continue
      watch.executions.add(pending)
      addTo(this.#byExecution, pending, waiter)
    }
    if (hadInputs || watch.inputs.size > 0) this.#onInputsChanged()
  }

  remove(waiter: Waiter): void {
    const watch = this.#watches.get(waiter)
    if (waiter.key !== undefined && this.#byKey.get(waiter.key) === waiter) this.#byKey.delete(waiter.key)
    if (!watch) return
    this.#watches.delete(waiter)
    removeFrom(this.#byCaller, waiter.callerId, waiter)
    if (watch.timer) clearTimeout(watch.timer)
    const hadInputs = watch.inputs.size > 0
    this.#unindex(waiter, watch)
    if (hadInputs) this.#onInputsChanged()
  }

  /** Drops every waiter whose caller is this execution (aborted, cancelled, suspended). */
  removeOfCaller(callerId: number): void {
    for (const waiter of this.ofCaller(callerId)) this.remove(waiter)
  }

  /** The waiters of a caller (an execution blocked in a select has one). */
  ofCaller(callerId: number): Waiter[] {
    return [...(this.#byCaller.get(callerId) ?? [])]
  }

  /** Waiters watching this execution; they must be re-evaluated (it resolved or moved on). */
  watchersOf(executionId: number): Waiter[] {
    return [...(this.#byExecution.get(executionId) ?? [])]
  }
  watchersOfInput(inputId: number): Waiter[] {
    return [...(this.#byInput.get(inputId) ?? [])]
  }
  /** Executions blocked in a select on this input. */
  callersWaitingOnInput(inputId: number): number[] {
    return [...(this.#byInput.get(inputId) ?? [])].map((w) => w.callerId)
  }
  /** Inputs some waiter watches. */
  awaitedInputIds(): number[] {
    return [...this.#byInput].filter(([, set]) => set.size > 0).map(([id]) => id)
  }
  /** Every execution id waiters refer to: watched ones, callers and handles (epoch rotation). */
  referencedIds(): number[] {
    const ids = new Set<number>(this.#byExecution.keys())
    for (const waiter of this.#watches.keys()) {
      ids.add(waiter.callerId)
      for (const h of waiter.handles) if (h.kind === 'execution') ids.add(h.id)
    }
    return [...ids]
  }
  /** Whether this execution is blocked in a select. */
  isWaiting(callerId: number): boolean {
    return this.#byCaller.has(callerId)
  }

  close(): void {
    for (const watch of this.#watches.values()) if (watch.timer) clearTimeout(watch.timer)
  }

  #unindex(waiter: Waiter, watch: Watch): void {
    for (const id of watch.executions) removeFrom(this.#byExecution, id, waiter)
    for (const id of watch.inputs) removeFrom(this.#byInput, id, waiter)
    watch.executions.clear()
    watch.inputs.clear()
  }
}
