/**
 * Pool and worker changes made through the API (http-api.md §9.3). Each writes the store, keeps
 * the in-memory pools in step, drains the workers a change affects (semantics.md §21.1), tells
 * topic subscribers and wakes the scheduler.
 */
import type { PoolConfig, PoolRecord, WorkerRecord } from '../store/index.ts'
import type { Core } from './core.ts'

export function createPool(o: Core, workspaceId: number, name: string, config: PoolConfig): PoolRecord {
  const pool = o.store.pools.create(workspaceId, name, config, o.now())
  poolsChanged(o, workspaceId)
  return pool
}

/** Replaces the pool's configuration; its current workers drain (they run the old one). */
export function updatePool(o: Core, pool: PoolRecord, config: PoolConfig): void {
  o.store.pools.update(pool.id, config, o.now())
  drainWorkers(o, pool.id)
  poolsChanged(o, pool.workspaceId)
}

export function deletePool(o: Core, pool: PoolRecord): void {
  o.store.pools.delete(pool.id, o.now())
  drainWorkers(o, pool.id)
  poolsChanged(o, pool.workspaceId)
}

/** A disabled pool launches nothing and gets no new assignments; its workers drain. */
export function setPoolDisabled(o: Core, pool: PoolRecord, disabled: boolean): void {
  if (pool.disabled === disabled) return
  o.store.pools.setDisabled(pool.id, disabled, o.now())
  if (disabled) drainWorkers(o, pool.id)
  poolsChanged(o, pool.workspaceId)
}

/**
 * `update_pools`: the workspace's pools become exactly `desired`, in one transaction. Pools whose
 * configuration is unchanged (`isUnchanged`) keep their workers.
 */
export function replacePools(
  o: Core,
  workspaceId: number,
  desired: Map<string, PoolConfig>,
  isUnchanged: (current: PoolRecord, next: PoolConfig) => boolean,
): void {
  const now = o.now()
  const drained: number[] = []
  o.store.transaction(() => {
    for (const current of o.store.pools.list(workspaceId)) {
      const next = desired.get(current.name)
      if (!next) {
        o.store.pools.delete(current.id, now)
        drained.push(current.id)
      } else if (!isUnchanged(current, next)) {
        o.store.pools.update(current.id, next, now)
        drained.push(current.id)
      }
    }
    for (const [name, config] of desired) {
      if (!o.store.pools.getByName(workspaceId, name)) o.store.pools.create(workspaceId, name, config, now)
    }
  })
  for (const id of drained) drainWorkers(o, id)
  poolsChanged(o, workspaceId)
}

/** `stop_worker`: drain, then the pools step stops it once it holds nothing. */
export function stopPoolWorker(o: Core, worker: WorkerRecord): void {
  setWorkerState(o, worker, 'draining')
}

/** `resume_worker`: back to active (a stop already sent is not undone). */
export function resumePoolWorker(o: Core, worker: WorkerRecord): void {
  setWorkerState(o, worker, 'active')
}

function setWorkerState(o: Core, worker: WorkerRecord, state: 'active' | 'draining'): void {
  o.pools.stateChanged(o.store.workers.setState(worker.id, state))
  const pool = o.store.pools.get(worker.poolId)
  if (pool) poolsChanged(o, pool.workspaceId)
}

function drainWorkers(o: Core, poolId: number): void {
  for (const worker of o.pools.workersOf(poolId)) {
    if (worker.record.state !== 'draining') o.pools.updated(o.store.workers.setState(worker.record.id, 'draining'))
  }
}

function poolsChanged(o: Core, workspaceId: number): void {
  o.pools.invalidate()
  o.emit({ kind: 'pools', workspaceId })
  o.emit({ kind: 'sessions', workspaceId })
  o.emit({ kind: 'queue', workspaceId })
  o.wake()
}
