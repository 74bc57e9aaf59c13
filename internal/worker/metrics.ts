/**
 * Metric points from executors (executor-protocol.md §5.2–§5.3): `at` resolution, then a
 * leading+trailing throttle per (execution, key), then the batcher to `POST /metrics`.
 */
import type { ConsolaInstance } from 'consola'
import type { NewMetricPoint } from '../protocol/metrics.ts'
import type { Batcher } from './batcher.ts'

/** Where a point comes from: the execution and when the worker received its `execute`. */
export interface MetricSource {
  executionId: string
  runId: string
  workspaceId: string
  receivedAt: number
}

interface KeyState {
  /** ms between sent points; 0 = no throttling */
  windowMs: number
  isAuto: boolean
  lastAt?: number
  hasWarnedAuto: boolean
  hasWarnedOrder: boolean
  lastSentAt?: number
  trailing: NewMetricPoint | null
  timer?: ReturnType<typeof setTimeout>
}

export class MetricRecorder {
  /** executionId → key → state */
  readonly #keys = new Map<string, Map<string, KeyState>>()

  constructor(
    readonly batcher: Batcher<NewMetricPoint>,
    readonly log: ConsolaInstance,
  ) {}

  /** Remembers the key's throttle (points per second); no throttle means every point is sent. */
  define(source: MetricSource, key: string, throttle: number | undefined): void {
    const state = this.#state(source.executionId, key)
    state.windowMs = throttle !== undefined && throttle > 0 ? 1000 / throttle : 0
  }

  record(source: MetricSource, key: string, value: number, at: number | undefined, now = Date.now()): void {
    const state = this.#state(source.executionId, key)
    const resolved = this.#resolveAt(source, key, state, at, now)
    if (resolved === undefined) return
    const entry: NewMetricPoint = { runId: source.runId, executionId: source.executionId, workspaceId: source.workspaceId, key, value, at: resolved }
    this.#throttle(state, entry, now)
  }

  /** Sends the execution's pending trailing points and forgets it (termination). */
  finish(executionId: string): void {
    const keys = this.#keys.get(executionId)
    if (!keys) return
    for (const state of keys.values()) this.#sendTrailing(state)
    this.#keys.delete(executionId)
  }

  /** Shutdown: every pending trailing point goes out. */
  finishAll(): void {
    for (const id of [...this.#keys.keys()]) this.finish(id)
  }

  #state(executionId: string, key: string): KeyState {
    let keys = this.#keys.get(executionId)
    if (!keys) this.#keys.set(executionId, (keys = new Map()))
    let state = keys.get(key)
    if (!state) {
      state = { windowMs: 0, isAuto: false, hasWarnedAuto: false, hasWarnedOrder: false, trailing: null }
      keys.set(key, state)
    }
    return state
  }

  #resolveAt(source: MetricSource, key: string, state: KeyState, at: number | undefined, now: number): number | undefined {
    const automatic = (now - source.receivedAt) / 1000
    if (at === undefined) {
      state.isAuto = true
      return automatic
    }
    if (state.isAuto) {
      if (!state.hasWarnedAuto) {
        state.hasWarnedAuto = true
        this.log.warn(`${source.executionId}: metric '${key}' uses automatic 'at' values; ignoring explicit ones`)
      }
      return automatic
    }
    if (state.lastAt !== undefined && at <= state.lastAt) {
      if (!state.hasWarnedOrder) {
        state.hasWarnedOrder = true
        this.log.warn(`${source.executionId}: metric '${key}' 'at' values must increase; dropping points`)
      }
      return undefined
    }
    state.lastAt = at
    return at
  }

  #throttle(state: KeyState, entry: NewMetricPoint, now: number): void {
    const isOutsideWindow = state.lastSentAt === undefined || now - state.lastSentAt >= state.windowMs
    if (state.windowMs === 0 || (isOutsideWindow && !state.timer)) {
      state.lastSentAt = now
      this.batcher.add(entry)
      return
    }
    state.trailing = entry
    if (!state.timer) {
      const wait = Math.max(0, state.lastSentAt! + state.windowMs - now)
      state.timer = setTimeout(() => this.#sendTrailing(state), wait)
    }
  }

  #sendTrailing(state: KeyState): void {
    clearTimeout(state.timer)
    state.timer = undefined
    if (!state.trailing) return
    this.batcher.add(state.trailing)
    state.trailing = null
    state.lastSentAt = Date.now()
  }
}
