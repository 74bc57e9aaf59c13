/**
 * What topics ask about pools: whether a queued execution is waiting for a launch (the
 * `launching` status, http-api.md §11.2) and which pool worker stands behind a session.
 */
import type { WorkerStateName } from '../store/index.ts'
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'
import { poolsServing } from './pools.ts'
import type { QueuedExecution } from './queue.ts'
import { hasEligibleSession } from './scheduler.ts'

/**
 * The pool that is starting (or will start) a worker for the execution, when no session can take
 * it, with the error of its last launch when that one failed and none is running since.
 */
export function launchingPool(o: Core, live: QueuedExecution): { name: string; lastError: string | null } | null {
  if (o.pools.poolsOf(live.exec.workspaceId).length === 0) return null
  if (hasEligibleSession(o, live)) return null
  const pool = poolsServing(o, live)[0]
  if (!pool) return null
  const last = o.store.workers.ofPool(pool.id, 1).at(-1)
  const failed = last && last.deactivatedAt !== null ? (last.startError ?? last.error) : null
  return { name: pool.name, lastError: failed }
}

/** The pool and state of a pool-launched session's worker; null for manual workers. */
export function sessionWorker(o: Core, session: LiveSession): { poolName: string; state: WorkerStateName } | null {
  if (session.record.workerId === null) return null
  const record = o.pools.workerOfSession(session.record.workerId)?.record ?? o.store.workers.get(session.record.workerId)
  if (!record) return null
  const pool = o.pools.pool(record.poolId) ?? o.store.pools.get(record.poolId)
  return pool ? { poolName: pool.name, state: record.state } : null
}
