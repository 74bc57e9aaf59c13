/**
 * Why a queued execution waits (http-api.md §11.2): the first status that applies, with a
 * reason a person can act on. Shown by the queue topic, `coflux queue` and the web UI.
 */
import type { TagSet, WorkspaceStateName } from '../store/index.ts'
import type { Core } from './core.ts'
import { launchingPool } from './pool-queries.ts'
import { pendingDependencyIds } from './queries.ts'
import type { QueuedExecution } from './queue.ts'
import { tagsMatch } from './routing.ts'
import { targetKey } from './types.ts'

export interface QueueStatus {
  status: 'assigned' | 'delayed' | 'paused' | 'waiting' | 'ready' | 'launching' | 'no_session' | 'no_match' | 'at_capacity'
  reason: string
}

export function queueStatus(o: Core, live: QueuedExecution, workspaceState: WorkspaceStateName, now: number): QueueStatus {
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
  if (live.step.type === 'workflow' && live.step.parentExecutionId !== null) return { status: 'ready', reason: 'ready' }
  const pool = launchingPool(o, live)
  if (pool !== null) return { status: 'launching', reason: `pool '${pool}' launching a worker` }
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
  if (matching.every((s) => !s.hasRoom)) {
    return { status: 'at_capacity', reason: `${matching.length} matching worker${matching.length === 1 ? '' : 's'} at capacity` }
  }
  return { status: 'ready', reason: 'ready' }
}

function describeTags(tags: TagSet): string {
  return Object.entries(tags).map(([k, v]) => `${k}=${v.join('|')}`).join(', ') || 'nothing'
}
