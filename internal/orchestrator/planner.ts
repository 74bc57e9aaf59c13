/**
 * The decisions of one scheduling pass (semantics.md §5.2), as a pure function: a read-only view
 * of the queue, the sessions and the cache goes in, a list of decisions comes out. The
 * orchestrator applies them (scheduler.ts). Order the queued executions, collapse deferrals,
 * then for each due one: a cache hit, still waiting on dependencies, a child workflow to spawn,
 * or a session with room that can run it. What no session can take may launch a pool worker.
 */
import type { TagSet } from '../protocol/api.ts'
import type { ServerValue } from '../protocol/values.ts'
import { limitKey } from './capacity.ts'
import { compareCandidates, hasPendingDependencies, type QueuedExecution } from './queue.ts'
import { tagsMatch } from './routing.ts'
import { targetKey } from './types.ts'

/** A session as the planner sees it. */
export interface SessionView {
  readonly id: number
  readonly workspaceId: number
  readonly targets: ReadonlySet<string> | null
  readonly provides: TagSet
  readonly accepts: TagSet
  /** held executions not blocked in a wait; bounded by `concurrency` */
  readonly running: number
  readonly concurrency: number
  /** held executions blocked in a wait; bounded by `maxWaiting` */
  readonly waiting: number
  readonly maxWaiting: number
  /** waiting executions that may be suspended, longest-waiting first */
  readonly suspendable: readonly number[]
  /** connected, not draining, and (for a pool worker) active in an enabled pool */
  readonly isAvailable: boolean
}

/** A cache hit: an execution of the active epoch, or a result copied from an archive. */
export type CacheHit =
  | { kind: 'execution'; executionId: number }
  | { kind: 'archived'; value: ServerValue; executionExternalId: string }

export interface PlanView {
  readonly now: number
  /**
   * Queued executions of active workspaces that this pass could act on: the first runnable
   * ones of each routing class (as many as sessions have room for), those to spawn, those
   * with a defer key or waiting for dependencies with a cache key. Not the whole queue.
   */
  readonly candidates: readonly QueuedExecution[]
  /** the earliest `execute_after` among runnable executions left out of `candidates` */
  readonly laterDue?: number | null
  /** running executions per concurrency-limit key (`limitKey`); absent: none running */
  readonly limitLoads?: ReadonlyMap<string, number>
  readonly sessions: readonly SessionView[]
  /**
   * §6.1 lookup for a first attempt with a cache key (reads only); `isSettled` names
   * executions this pass already resolves otherwise (cached or deferred): not in flight.
   */
  cacheHit(live: QueuedExecution, isSettled: (executionId: number) => boolean): CacheHit | null
  /** picks among eligible sessions */
  random(): number
}

export type Decision =
  /** §11: a newer execution with the same defer key replaces it */
  | { kind: 'defer'; executionId: number; survivorId: number }
  | { kind: 'cache'; executionId: number; hit: CacheHit }
  /** §16: a workflow called from a task starts its own run */
  | { kind: 'spawn'; executionId: number }
  | { kind: 'assign'; executionId: number; sessionId: number }
  /** durable waiting: end a waiting execution's process; its successor is due when a handle resolves */
  | { kind: 'suspend'; executionId: number; sessionId: number }

export interface Plan {
  decisions: Decision[]
  /** due, dependency-free executions no session could take: they may launch pool workers (§21.2) */
  unrouted: QueuedExecution[]
  /** the earliest future `execute_after`, to wake up then */
  nextDue: number | null
}

export function planPass(view: PlanView): Plan {
  const candidates = [...view.candidates].sort(compareCandidates)
  const decisions: Decision[] = []
  const deferred = collapseDeferrals(candidates, decisions)
  /** executions this pass resolves without running them: a later cache lookup must not pick them */
  const settled = new Set(deferred)
  // running counts change as the plan assigns; the view itself is never changed
  const running = new Map(view.sessions.map((s) => [s.id, s.running]))
  const hasRoom = (s: SessionView) => s.isAvailable && running.get(s.id)! < s.concurrency && s.waiting < s.maxWaiting
  let anyRoom = view.sessions.some(hasRoom)
  /** sessions that could run a due execution but for their waiting bound → how many */
  const blocked = new Map<number, number>()
  const unrouted: QueuedExecution[] = []
  let nextDue: number | null = view.laterDue ?? null
  // limit loads change as the plan assigns, like session loads
  const limitLoads = new Map(view.limitLoads ?? [])
  const isLimited = (live: QueuedExecution) => {
    const limit = live.step.concurrency
    return !!limit && (limitLoads.get(limitKey(live.exec.workspaceId, limit.key)) ?? 0) >= limit.limit
  }
  for (const live of candidates) {
    if (deferred.has(live.exec.id)) continue
    const after = live.exec.executeAfter
    if (after !== null && after > view.now) {
      if (nextDue === null || after < nextDue) nextDue = after
      continue
    }
    if (live.exec.attempt === 1 && live.step.cacheConfig && live.step.cacheKey) {
      const hit = view.cacheHit(live, (id) => settled.has(id))
      if (hit) {
        settled.add(live.exec.id)
        decisions.push({ kind: 'cache', executionId: live.exec.id, hit })
        continue
      }
    }
    if (hasPendingDependencies(live)) continue
    if (live.step.type === 'workflow' && live.step.parentExecutionId !== null) {
      decisions.push({ kind: 'spawn', executionId: live.exec.id })
      continue
    }
    // waits for a running execution with its key to end: not a worker's doing, so not unrouted
    if (isLimited(live)) continue
    const eligible = anyRoom ? view.sessions.filter((s) => hasRoom(s) && isSessionEligible(s, live)) : []
    if (eligible.length === 0) {
      unrouted.push(live)
      for (const s of view.sessions) {
        if (s.waiting >= s.maxWaiting && running.get(s.id)! < s.concurrency && isSessionEligible(s, live)) {
          blocked.set(s.id, (blocked.get(s.id) ?? 0) + 1)
        }
      }
      continue
    }
    const session = eligible[Math.floor(view.random() * eligible.length)]!
    decisions.push({ kind: 'assign', executionId: live.exec.id, sessionId: session.id })
    running.set(session.id, running.get(session.id)! + 1)
    if (live.step.concurrency) {
      const key = limitKey(live.exec.workspaceId, live.step.concurrency.key)
      limitLoads.set(key, (limitLoads.get(key) ?? 0) + 1)
    }
    anyRoom = view.sessions.some(hasRoom)
  }
  for (const s of view.sessions) decisions.push(...planSuspensions(s, blocked.get(s.id) ?? 0))
  return { decisions, unrouted, nextDue }
}

/**
 * Suspend under pressure: over its waiting bound, a session suspends the excess; at the bound
 * with due work it could run, it suspends enough of its longest-waiting executions to take it.
 */
function planSuspensions(s: SessionView, blockedCount: number): Decision[] {
  const excess = Math.max(0, s.waiting - s.maxWaiting)
  const forWork = blockedCount > 0 ? Math.min(blockedCount, s.waiting - s.maxWaiting + 1) : 0
  const count = Math.min(Math.max(excess, forWork), s.suspendable.length)
  return s.suspendable.slice(0, count).map((executionId) => ({ kind: 'suspend' as const, executionId, sessionId: s.id }))
}

/** §11: among candidates sharing (module, target, workspace, defer key) all but the newest are deferred. */
function collapseDeferrals(candidates: QueuedExecution[], decisions: Decision[]): Set<number> {
  const newest = new Map<string, QueuedExecution>()
  for (const live of candidates) if (live.deferKey) newest.set(live.deferKey, live)
  const deferred = new Set<number>()
  for (const live of candidates) {
    if (!live.deferKey) continue
    const survivor = newest.get(live.deferKey)!
    if (survivor === live) continue
    deferred.add(live.exec.id)
    decisions.push({ kind: 'defer', executionId: live.exec.id, survivorId: survivor.exec.id })
  }
  return deferred
}

/**
 * §20.3, apart from room: same workspace, declared the target with its type, and tags that
 * match. Availability (connected, not draining, pool worker active) is the view's `isAvailable`.
 */
export function isSessionEligible(s: SessionView, live: QueuedExecution): boolean {
  if (!s.isAvailable || s.workspaceId !== live.exec.workspaceId) return false
  if (!s.targets?.has(targetKey(live.step.type, live.step.module, live.step.target))) return false
  return tagsMatch(live.requires, s.provides, s.accepts)
}
