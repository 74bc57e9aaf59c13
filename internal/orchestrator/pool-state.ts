/**
 * The in-memory side of pools (semantics.md §21): the live pools of every workspace and the
 * workers that are not deactivated, kept in step with the store. Loaded on first use — after
 * sessions are restored, so the start-up rule of §21.5 can see which workers still have one.
 */
import type { PoolRecord, WorkerRecord } from '../store/index.ts'
import type { Orchestrator } from './orchestrator.ts'
import type { LiveSession } from './types.ts'

/** A worker that is not deactivated. */
export interface LiveWorker {
  record: WorkerRecord
  workspaceId: number
  /** its session (null only when none could be found after a restart) */
  sessionId: number | null
  /** the launch call has not answered yet */
  launching: boolean
  /** a poll is in flight */
  polling: boolean
  lastPolledAt: number
  /** since when it has held no execution; null while busy or not yet declaring targets */
  idleSince: number | null
}

export class PoolState {
  readonly #o: Orchestrator
  #pools: Map<number, PoolRecord> | null = null
  #workers: Map<number, LiveWorker> | null = null
  /** pool id → when it last launched a worker (the 10 s rule of §21.2) */
  readonly lastLaunchAt = new Map<number, number>()
  #closed = false

  constructor(o: Orchestrator) {
    this.#o = o
  }

  get closed(): boolean {
    return this.#closed
  }

  close(): void {
    this.#closed = true
  }

  /** Pools (not deleted) by id. */
  get pools(): Map<number, PoolRecord> {
    this.#pools ??= new Map(this.#o.store.pools.live().map((p) => [p.id, p]))
    return this.#pools
  }

  /** Workers that are not deactivated, by id. */
  get workers(): Map<number, LiveWorker> {
    if (!this.#workers) this.#workers = this.#loadWorkers()
    return this.#workers
  }

  /** Cheap check for the scheduler pass: nothing to do without pools or running workers. */
  get isIdle(): boolean {
    return this.pools.size === 0 && this.workers.size === 0
  }

  /** Re-reads the pools after a change through the API. */
  invalidate(): void {
    this.#pools = null
  }

  pool(id: number): PoolRecord | undefined {
    return this.pools.get(id)
  }

  poolsOf(workspaceId: number): PoolRecord[] {
    return [...this.pools.values()].filter((p) => p.workspaceId === workspaceId)
  }

  workersOf(poolId: number): LiveWorker[] {
    return [...this.workers.values()].filter((w) => w.record.poolId === poolId)
  }

  /** The live worker behind a session, if it is a pool-launched one. */
  workerOf(session: LiveSession): LiveWorker | undefined {
    return session.record.workerId === null ? undefined : this.workers.get(session.record.workerId)
  }

  #loadWorkers(): Map<number, LiveWorker> {
    const o = this.#o
    const sessionByWorker = new Map<number, number>()
    for (const s of o.sessions.values()) if (s.record.workerId !== null) sessionByWorker.set(s.record.workerId, s.record.id)
    const workers = new Map<number, LiveWorker>()
    for (const record of o.store.workers.running()) {
      const sessionId = sessionByWorker.get(record.id) ?? null
      // §21.5: a launch whose result was lost with the previous process, and no session to wait for
      if (record.startedAt === null && sessionId === null) {
        o.store.workers.deactivate(record.id, 'server_restarted', null, o.now())
        continue
      }
      const workspaceId = o.store.pools.get(record.poolId)?.workspaceId ?? 0
      // polled at once: the launcher may have lost track of it with the restart
      workers.set(record.id, { record, workspaceId, sessionId, launching: false, polling: false, lastPolledAt: 0, idleSince: null })
    }
    return workers
  }
}
