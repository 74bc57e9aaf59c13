/**
 * Why a queued execution waits (http-api.md §11.2): the first status that applies, with a
 * reason a person can act on. Shown by the queue topic, `coflux queue` and the web UI.
 */
import type { TagSet } from '../protocol/api.ts'
import type { WorkspaceStateName } from '../store/index.ts'
import { hasRoom, limitKey, limitLoads, sessionLoad } from './capacity.ts'
import type { Core } from './core.ts'
import { lastLaunchError, launchingPool } from './pool-queries.ts'
import { pendingDependencyIds } from './queries.ts'
import type { QueuedExecution } from './queue.ts'
import { tagsMatch } from './routing.ts'
import { targetKey } from './types.ts'

export interface QueueStatus {
  status: 'assigned' | 'delayed' | 'paused' | 'waiting' | 'ready' | 'launching' | 'no_session' | 'no_match' | 'at_capacity'
  reason: string
}

/**
 * What every entry of one queue read shares, computed once for the read rather than per entry:
 * running executions per limit key, and each pool's last launch error.
 */
export interface QueueReadContext {
  limitLoads: ReadonlyMap<string, number>
  launchError: (poolId: number) => string | null
}

export function queueReadContext(o: Core): QueueReadContext {
  const errors = new Map<number, string | null>()
  return {
    limitLoads: limitLoads(o),
    launchError: (poolId) => {
      if (!errors.has(poolId)) errors.set(poolId, lastLaunchError(o, poolId))
      return errors.get(poolId)!
    },
  }
}

export function queueStatus(
  o: Core,
  live: QueuedExecution,
  workspaceState: WorkspaceStateName,
  now: number,
  context: QueueReadContext = queueReadContext(o),
): QueueStatus {
  if (live.assignedAt !== null && live.sessionId !== null) {
    const session = o.sessions.get(live.sessionId)
    return { status: 'assigned', reason: `running on session ${session?.record.externalId ?? live.sessionId}` }
  }
  if (live.exec.executeAfter !== null && live.exec.executeAfter > now) {
    return { status: 'delayed', reason: `delayed until ${new Date(live.exec.executeAfter).toISOString()}` }
  }
  if (workspaceState === 'paused') return { status: 'paused', reason: 'workspace paused' }
  const deps = pendingDependencyIds(o, live)
  if (deps.length > 0) return { status: 'waiting', reason: `waiting for ${deps.join(', ')}` }
  const limit = live.step.concurrency
  if (limit) {
    const running = context.limitLoads.get(limitKey(live.exec.workspaceId, limit.key)) ?? 0
    if (running >= limit.limit) return { status: 'waiting', reason: `limit ${limit.key} ${running}/${limit.limit}` }
  }
  if (live.step.type === 'workflow' && live.step.parentExecutionId !== null) return { status: 'ready', reason: 'ready' }
  const pool = launchingPool(o, live)
  if (pool !== null) {
    const error = context.launchError(pool.id)
    const reason = error ? `pool '${pool.name}' failed to launch a worker (${error}); retrying` : `pool '${pool.name}' launching a worker`
    return { status: 'launching', reason }
  }
  const key = targetKey(live.step.type, live.step.module, live.step.target)
  const declaring = o.sessions.ofWorkspace(live.exec.workspaceId).filter((s) => s.isConnected && s.offers(key))
  if (declaring.length === 0) {
    return { status: 'no_session', reason: `no connected worker provides ${live.step.module}/${live.step.target}` }
  }
  const matching = declaring.filter((s) => tagsMatch(live.requires, s.record.provides, s.record.accepts))
  if (matching.length === 0) {
    const offered = declaring.map((s) => describeTags({ ...s.record.provides, ...s.record.accepts })).join('; ')
    return { status: 'no_match', reason: `requires ${describeTags(live.requires)}; connected workers provide ${offered}` }
  }
  const loads = matching.map((s) => ({ s, load: sessionLoad(o, s) }))
  if (loads.every(({ s, load }) => !hasRoom(s, load))) {
    const workers = `${matching.length} matching worker${matching.length === 1 ? '' : 's'}`
    const atWaitingBound = loads.filter(({ s, load }) => s.isAccepting && load.running < s.concurrency && load.waiting >= s.maxWaiting)
    if (atWaitingBound.length > 0) {
      const { s, load } = atWaitingBound[0]!
      return {
        status: 'at_capacity',
        reason: `${workers} at capacity: ${load.waiting}/${s.maxWaiting} executions waiting (worker.max_waiting); suspending the longest-waiting`,
      }
    }
    return { status: 'at_capacity', reason: `${workers} at capacity` }
  }
  return { status: 'ready', reason: 'ready' }
}

function describeTags(tags: TagSet): string {
  return Object.entries(tags).map(([k, v]) => `${k}=${v.join('|')}`).join(', ') || 'nothing'
}
