/**
 * What topics ask about pools: whether a queued execution is waiting for a launch (the
 * `launching` status, http-api.md §11.2) and which pool worker stands behind a session.
 */
import type { PoolRecord, WorkerStateName } from '../store/index.ts'
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'
import { poolsServing } from './pools.ts'
import type { QueuedExecution } from './queue.ts'
import { hasEligibleSession } from './scheduler.ts'

/** The pool that is starting (or will start) a worker for the execution, when no session can take it. */
export function launchingPool(o: Core, live: QueuedExecution): PoolRecord | null {
  if (o.pools.poolsOf(live.exec.workspaceId).length === 0) return null
  if (hasEligibleSession(o, live)) return null
  return poolsServing(o, live)[0] ?? null
}

/** The error of the pool's last launch, when that one failed and none is running since. */
export function lastLaunchError(o: Core, poolId: number): string | null {
  const last = o.store.workers.ofPool(poolId, 1).at(-1)
  return last && last.deactivatedAt !== null ? (last.startError ?? last.error) : null
}

/** The pool and state of a pool-launched session's worker; null for manual workers. */
export function sessionWorker(o: Core, session: LiveSession): { poolName: string; state: WorkerStateName } | null {
  if (session.record.workerId === null) return null
  const record = o.pools.workerOfSession(session.record.workerId)?.record ?? o.store.workers.get(session.record.workerId)
  if (!record) return null
  const pool = o.pools.pool(record.poolId) ?? o.store.pools.get(record.poolId)
  return pool ? { poolName: pool.name, state: record.state } : null
}
