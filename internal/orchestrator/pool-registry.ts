/**
 * The in-memory side of pools (semantics.md §21): the live pools of every workspace and the
 * workers they launched that are not deactivated, kept in step with the store. The only owner
 * of that state. Loaded on first use — after sessions are restored, so the start-up rule of
 * §21.5 can see which workers still have one.
 *
 * A launched worker: launching (the launch call has not answered) → started (polled, drained
 * when idle, stopped) → removed when deactivated.
 */
import type { OrchestrationStore, PoolRecord, WorkerRecord } from '../store/index.ts'
import type { SessionRegistry } from './live-session.ts'

/** A worker that is not deactivated. */
export interface PoolWorker {
  readonly record: WorkerRecord
  readonly workspaceId: number
  /** its session (null only when none could be found after a restart) */
  readonly sessionId: number | null
  /** the launch call has not answered yet */
  readonly launching: boolean
  /** a poll is in flight */
  readonly polling: boolean
  readonly lastPolledAt: number
  /** since when it has held no execution; null while busy or not yet declaring targets */
  readonly idleSince: number | null
}

type MutableWorker = { -readonly [K in keyof PoolWorker]: PoolWorker[K] }

export class PoolRegistry {
  readonly #store: OrchestrationStore
  readonly #sessions: SessionRegistry
  readonly #now: () => number
  #pools: Map<number, PoolRecord> | null = null
  #workers: Map<number, MutableWorker> | null = null
  /** pool id → when it last launched a worker (the 10 s rule of §21.2) */
  readonly #lastLaunchAt = new Map<number, number>()
  #closed = false

  constructor(store: OrchestrationStore, sessions: SessionRegistry, now: () => number) {
    this.#store = store
    this.#sessions = sessions
    this.#now = now
  }

  get isClosed(): boolean {
    return this.#closed
  }

  close(): void {
    this.#closed = true
  }

  /** Cheap check for the scheduler pass: nothing to do without pools or running workers. */
  get isIdle(): boolean {
    return this.#poolMap().size === 0 && this.#workerMap().size === 0
  }

  /** Re-reads the pools after a change through the API. */
  invalidate(): void {
    this.#pools = null
  }

  pool(id: number): PoolRecord | undefined {
    return this.#poolMap().get(id)
  }

  poolsOf(workspaceId: number): PoolRecord[] {
    return [...this.#poolMap().values()].filter((p) => p.workspaceId === workspaceId)
  }

  lastLaunchAt(poolId: number): number {
    return this.#lastLaunchAt.get(poolId) ?? -Infinity
  }

  worker(id: number): PoolWorker | undefined {
    return this.#workerMap().get(id)
  }

  workers(): PoolWorker[] {
    return [...this.#workerMap().values()]
  }

  workersOf(poolId: number): PoolWorker[] {
    return this.workers().filter((w) => w.record.poolId === poolId)
  }

  /** The live worker behind a session, if it is a pool-launched one. */
  workerOfSession(workerId: number | null): PoolWorker | undefined {
    return workerId === null ? undefined : this.#workerMap().get(workerId)
  }

  /** A launch was asked for: the worker exists, launching, with its session. */
  launching(record: WorkerRecord, workspaceId: number, sessionId: number, now: number): PoolWorker {
    const worker: MutableWorker = { record, workspaceId, sessionId, launching: true, polling: false, lastPolledAt: now, idleSince: null }
    this.#workerMap().set(record.id, worker)
    this.#lastLaunchAt.set(record.poolId, now)
    return worker
  }

  /** The launch answered (started or failed). */
  launched(id: number, record: WorkerRecord, now: number): void {
    this.#update(id, (w) => {
      w.launching = false
      w.record = record
      w.lastPolledAt = now
    })
  }

  /** The store's newer record of the worker (state, stopping, stopped…). */
  updated(record: WorkerRecord): void {
    this.#update(record.id, (w) => {
      w.record = record
    })
  }

  /** Its state was changed through the API: idleness is measured again. */
  stateChanged(record: WorkerRecord): void {
    this.#update(record.id, (w) => {
      w.record = record
      w.idleSince = null
    })
  }

  pollStarted(id: number, now: number): void {
    this.#update(id, (w) => {
      w.polling = true
      w.lastPolledAt = now
    })
  }

  pollEnded(id: number): void {
    this.#update(id, (w) => {
      w.polling = false
    })
  }

  /** Whether it holds work now; returns since when it has been idle (null when busy). */
  noteLoad(id: number, busy: boolean, now: number): number | null {
    const w = this.#workerMap().get(id)
    if (!w) return null
    w.idleSince = busy ? null : (w.idleSince ?? now)
    return w.idleSince
  }

  /** Deactivated: forgotten. */
  remove(id: number): void {
    this.#workerMap().delete(id)
  }

  #update(id: number, change: (w: MutableWorker) => void): void {
    const w = this.#workerMap().get(id)
    if (w) change(w)
  }

  #poolMap(): Map<number, PoolRecord> {
    this.#pools ??= new Map(this.#store.pools.live().map((p) => [p.id, p]))
    return this.#pools
  }

  #workerMap(): Map<number, MutableWorker> {
    this.#workers ??= this.#loadWorkers()
    return this.#workers
  }

  #loadWorkers(): Map<number, MutableWorker> {
    const workers = new Map<number, MutableWorker>()
    for (const record of this.#store.workers.running()) {
      const sessionId = this.#sessions.ofWorker(record.id)?.id ?? null
      // §21.5: a launch whose result was lost with the previous process, and no session to wait for
      if (record.startedAt === null && sessionId === null) {
        this.#store.workers.deactivate(record.id, 'server_restarted', null, this.#now())
        continue
      }
      const workspaceId = this.#store.pools.get(record.poolId)?.workspaceId ?? 0
      // polled at once: the launcher may have lost track of it with the restart
      workers.set(record.id, { record, workspaceId, sessionId, launching: false, polling: false, lastPolledAt: 0, idleSince: null })
    }
    return workers
  }
}
