/**
 * Worker sessions in memory (semantics.md §20) and the registry of them. A session is the only
 * owner of its connection, declared targets, capacity and held executions; the lifecycle rules
 * that involve other state (abandoning, re-sending, expiry) are in sessions.ts.
 *
 * Held execution states, one per execution the worker has been given:
 * - starting:  `execute` sent, the worker has not reported it yet (may have been lost)
 * - executing: the worker reported it (heartbeat, `started`, a request)
 * - finished:  it has a result but the worker has not said its process ended; still occupies a slot
 */
import type { DeclaredTargets } from '../protocol/executor.ts'
import type { ServerFrame } from '../protocol/worker.ts'
import type { SessionRecord } from '../store/index.ts'
import type { WorkerChannel } from './types.ts'

export type HeldState = 'starting' | 'executing' | 'finished'

export class LiveSession {
  #record: SessionRecord
  #channel: WorkerChannel | null = null
  #targets: ReadonlySet<string> | null = null
  #declared: DeclaredTargets = {}
  #concurrency = 0
  #maxWaiting = 0
  #draining = false
  readonly #held = new Map<number, HeldState>()
  /** assignments the worker has not reported yet (`execute` may have been lost) */
  readonly #unacknowledged = new Set<number>()
  /** frames queued while disconnected */
  #outbox: ServerFrame[] = []
  #expiry: ReturnType<typeof setTimeout> | null = null
  #executed = 0
  #connectedAt: number | null = null

  constructor(record: SessionRecord) {
    this.#record = record
  }

  get record(): SessionRecord {
    return this.#record
  }
  get id(): number {
    return this.#record.id
  }
  get workspaceId(): number {
    return this.#record.workspaceId
  }
  get channel(): WorkerChannel | null {
    return this.#channel
  }
  get isConnected(): boolean {
    return this.#channel !== null
  }
  get connectedAt(): number | null {
    return this.#connectedAt
  }
  /** target keys (`targetKey`) it declared; null until the first `declare_targets` */
  get targets(): ReadonlySet<string> | null {
    return this.#targets
  }
  get declared(): DeclaredTargets {
    return this.#declared
  }
  /** at most this many executions running (not blocked in a wait) */
  get concurrency(): number {
    return this.#concurrency
  }
  /** at most this many executions blocked in a wait before the longest-waiting is suspended */
  get maxWaiting(): number {
    return this.#maxWaiting
  }
  get isDraining(): boolean {
    return this.#draining
  }
  /** executions ever assigned to it */
  get executed(): number {
    return this.#executed
  }
  /** processes it holds: every held execution, finished ones included until their process ends */
  get load(): number {
    return this.#held.size
  }
  /** held executions that have not finished */
  get executing(): number {
    let n = 0
    for (const state of this.#held.values()) if (state !== 'finished') n++
    return n
  }
  /** connected and not draining: may be given new work when it has room (capacity.ts) */
  get isAccepting(): boolean {
    return this.#channel !== null && !this.#draining
  }

  heldIds(): number[] {
    return [...this.#held.keys()]
  }
  heldState(executionId: number): HeldState | undefined {
    return this.#held.get(executionId)
  }
  holds(executionId: number): boolean {
    return this.#held.has(executionId)
  }
  isUnacknowledged(executionId: number): boolean {
    return this.#unacknowledged.has(executionId)
  }
  unacknowledgedIds(): number[] {
    return [...this.#unacknowledged]
  }

  /** Sends now, or queues until the worker reconnects. */
  send(frame: ServerFrame): void {
    if (this.#channel) this.#channel.send(frame)
    else this.#outbox.push(frame)
  }

  /** A (re)connection: returns the channel it replaces, and flushes nothing (see `flush`). */
  attach(channel: WorkerChannel, now: number): WorkerChannel | null {
    const previous = this.#channel
    this.#channel = channel
    this.#connectedAt = now
    this.#draining = false
    this.clearExpiry()
    return previous !== channel ? previous : null
  }

  /** Sends what was queued while disconnected. */
  flush(): void {
    if (!this.#channel) return
    for (const frame of this.#outbox.splice(0)) this.#channel.send(frame)
  }

  /** Whether `channel` was the current connection (a replaced one's close is ignored). */
  detach(channel: WorkerChannel): boolean {
    if (this.#channel !== channel) return false
    this.#channel = null
    this.#connectedAt = null
    return true
  }

  /** Closes the connection for good (archive, expiry). */
  disconnect(code: number, reason: string): void {
    const channel = this.#channel
    this.#channel = null
    this.#connectedAt = null
    channel?.close(code, reason)
  }

  activated(record: SessionRecord): void {
    this.#record = record
  }

  /** `maxWaiting` absent (0.12 workers): twice the concurrency, as our worker's default. */
  declare(targets: ReadonlySet<string>, declared: DeclaredTargets, concurrency: number, maxWaiting?: number): void {
    this.#targets = targets
    this.#declared = declared
    this.#concurrency = Math.max(1, Math.floor(concurrency) || 1)
    this.#maxWaiting = maxWaiting !== undefined && maxWaiting >= 1 ? Math.floor(maxWaiting) : 2 * this.#concurrency
  }

  offers(targetKey: string): boolean {
    return this.#targets?.has(targetKey) ?? false
  }

  drain(): void {
    this.#draining = true
  }

  /** A new assignment (`starting`, unacknowledged) or one restored from the store. */
  hold(executionId: number, acknowledged = false, counted = true): void {
    this.#held.set(executionId, acknowledged ? 'executing' : 'starting')
    if (!acknowledged) this.#unacknowledged.add(executionId)
    if (counted) this.#executed++
  }

  /** The worker reported the execution; true when this is its first acknowledgement. */
  acknowledge(executionId: number): boolean {
    if (this.#held.get(executionId) === 'starting') this.#held.set(executionId, 'executing')
    return this.#unacknowledged.delete(executionId)
  }

  /** It has a result; the slot stays taken until the worker says the process ended. */
  finish(executionId: number): void {
    if (this.#held.has(executionId)) this.#held.set(executionId, 'finished')
    this.#unacknowledged.delete(executionId)
  }

  /** Frees the slot. */
  release(executionId: number): void {
    this.#held.delete(executionId)
    this.#unacknowledged.delete(executionId)
  }

  setExpiry(timer: ReturnType<typeof setTimeout>): void {
    this.clearExpiry()
    this.#expiry = timer
  }

  clearExpiry(): void {
    if (this.#expiry) clearTimeout(this.#expiry)
    this.#expiry = null
  }
}

/** The project's live sessions by id. */
export class SessionRegistry {
  readonly #sessions = new Map<number, LiveSession>()

  get(id: number): LiveSession | undefined {
    return this.#sessions.get(id)
  }
  has(id: number): boolean {
    return this.#sessions.has(id)
  }
  add(session: LiveSession): void {
    this.#sessions.set(session.id, session)
  }
  remove(id: number): void {
    this.#sessions.get(id)?.clearExpiry()
    this.#sessions.delete(id)
  }
  all(): LiveSession[] {
    return [...this.#sessions.values()]
  }
  ofWorkspace(workspaceId: number): LiveSession[] {
    return this.all().filter((s) => s.workspaceId === workspaceId)
  }
  /** the session of a pool-launched worker */
  ofWorker(workerId: number): LiveSession | undefined {
    for (const s of this.#sessions.values()) if (s.record.workerId === workerId) return s
    return undefined
  }
  close(): void {
    for (const s of this.#sessions.values()) s.clearExpiry()
  }
}
