/**
 * One scheduling pass (semantics.md §5.2): order the queued executions, collapse deferrals,
 * then for each due one try the cache, check dependencies, spawn child workflows, and route to
 * a session. Works from the in-memory queue; the store is only written for decisions.
 */
import { RESULT_TYPE } from '../store/index.ts'
import { hasPendingDependencies } from './dependencies.ts'
import type { Orchestrator } from './orchestrator.ts'
import { isPoolWorkerAvailable, runPoolStep } from './pools.ts'
import { archivedCacheResult } from './rotation.ts'
import { sessionLoad, sendToSession } from './sessions.ts'
import { tagsMatch } from './routing.ts'
import { targetKey, type LiveExecution, type LiveSession } from './types.ts'

/** Runs a pass; returns the earliest future `execute_after`, if any. */
export function runSchedulerPass(o: Orchestrator): number | null {
  const now = o.now()
  const activeWorkspace = memoize((id: number) => o.store.workspaces.get(id)?.state === 'active')
  const candidates = [...o.pending.values()].filter((l) => activeWorkspace(l.exec.workspaceId))
  candidates.sort(compareCandidates)

  const deferred = collapseDeferrals(o, candidates)
  let nextDue: number | null = null
  let capacityLeft = hasAnyCapacity(o)
  /** due, dependency-free executions no session could take: they may launch pool workers (§21.2) */
  const unrouted: LiveExecution[] = []
  for (const live of candidates) {
    if (deferred.has(live.exec.id) || !o.pending.has(live.exec.id)) continue
    const after = live.exec.executeAfter
    if (after !== null && after > now) {
      if (nextDue === null || after < nextDue) nextDue = after
      continue
    }
    if (live.exec.attempt === 1 && live.step.cacheConfig && live.step.cacheKey) {
      const hit = lookupCache(o, live, now)
      if (hit !== null) {
        o.recordResult(live.exec.id, { type: 'cached', successorId: hit })
        continue
      }
      const archived = archivedCacheResult(o, live, now)
      if (archived !== null) {
        o.recordResult(live.exec.id, archived)
        continue
      }
    }
    if (hasPendingDependencies(live)) continue
    if (live.step.type === 'workflow' && live.step.parentExecutionId !== null) {
      spawnChildRun(o, live, now)
      continue
    }
    const session = capacityLeft ? chooseSession(o, live) : null
    if (!session) {
      unrouted.push(live)
      continue
    }
    assignExecution(o, live, session, now)
    capacityLeft = hasAnyCapacity(o)
  }
  runPoolStep(o, unrouted)
  return nextDue
}

/** `execute_after` ascending (none first), then creation time, then priority descending. */
function compareCandidates(a: LiveExecution, b: LiveExecution): number {
  const ea = a.exec.executeAfter ?? -Infinity
  const eb = b.exec.executeAfter ?? -Infinity
  if (ea !== eb) return ea < eb ? -1 : 1
  if (a.exec.createdAt !== b.exec.createdAt) return a.exec.createdAt - b.exec.createdAt
  if (a.step.priority !== b.step.priority) return b.step.priority - a.step.priority
  return a.exec.id - b.exec.id
}

/** §11: among candidates sharing (module, target, workspace, defer key) all but the newest are deferred. */
function collapseDeferrals(o: Orchestrator, candidates: LiveExecution[]): Set<number> {
  const newest = new Map<string, LiveExecution>()
  for (const live of candidates) if (live.deferKey) newest.set(live.deferKey, live)
  const deferred = new Set<number>()
  for (const live of candidates) {
    if (!live.deferKey) continue
    const survivor = newest.get(live.deferKey)!
    if (survivor === live) continue
    deferred.add(live.exec.id)
    o.recordResult(live.exec.id, { type: 'deferred', successorId: survivor.exec.id })
  }
  return deferred
}

/** §6.1: the newest in-flight or fresh-enough value of another step with the same key, in the ancestry. */
function lookupCache(o: Orchestrator, live: LiveExecution, now: number): number | null {
  const maxAge = live.step.cacheConfig!.maxAge
  const ancestry = new Set(o.store.workspaces.ancestry(live.exec.workspaceId))
  for (const c of o.store.runs.cacheCandidates(live.step.cacheKey!)) {
    if (c.stepId === live.step.id || !ancestry.has(c.workspaceId)) continue
    if (c.resultType === null) return c.executionId
    if (c.resultType === RESULT_TYPE.value && (maxAge === null || c.resultCreatedAt! >= now - maxAge)) return c.executionId
  }
  return null
}

/** §16: a workflow called from a task starts its own run, and the call records `spawned`. */
function spawnChildRun(o: Orchestrator, live: LiveExecution, now: number): void {
  const { exec, step } = live
  const child = o.store.transaction(() => {
    const run = o.store.runs.createRun(
      { parentExecutionId: exec.id, requires: live.requires, memo: step.memoKey !== null, idempotencyKey: null, createdBy: null },
      now,
    )
    const childStep = o.store.runs.createStep(
      {
        runId: run.id,
        parentExecutionId: null,
        module: step.module,
        target: step.target,
        type: 'workflow',
        priority: step.priority,
        waitFor: [],
        cacheConfig: step.cacheConfig,
        cacheKey: step.cacheKey,
        deferKey: null,
        memoKey: null,
        retryLimit: step.retryLimit,
        backoffMin: step.backoffMin,
        backoffMax: step.backoffMax,
        recurrent: false,
        delay: 0,
        timeout: step.timeout,
        requires: null,
        argumentIds: step.argumentIds,
      },
      now,
    )
    return { step: childStep, exec: o.store.runs.createExecution(childStep.id, exec.workspaceId, null, now) }
  })
  o.recordResult(exec.id, { type: 'spawned', successorId: child.exec.id })
  o.track(child.exec, child.step)
  o.emit({ kind: 'run', runId: child.exec.runId })
}

function hasAnyCapacity(o: Orchestrator): boolean {
  for (const s of o.sessions.values()) if (s.channel && !s.draining && sessionLoad(s) < s.concurrency) return true
  return false
}

/**
 * §20.3: connected, not draining, declared the target with its type, same workspace, room, tags,
 * and for a pool worker: the worker active and its pool enabled.
 */
export function isSessionEligible(o: Orchestrator, s: LiveSession, live: LiveExecution, key = targetKey(live.step.type, live.step.module, live.step.target)): boolean {
  if (!s.channel || s.draining || s.record.workspaceId !== live.exec.workspaceId) return false
  if (!s.targets?.has(key) || sessionLoad(s) >= s.concurrency) return false
  return tagsMatch(live.requires, s.record.provides, s.record.accepts) && isPoolWorkerAvailable(o, s)
}

function chooseSession(o: Orchestrator, live: LiveExecution): LiveSession | null {
  const key = targetKey(live.step.type, live.step.module, live.step.target)
  const eligible: LiveSession[] = []
  for (const s of o.sessions.values()) if (isSessionEligible(o, s, live, key)) eligible.push(s)
  if (eligible.length === 0) return null
  return eligible[Math.floor(Math.random() * eligible.length)]!
}

function assignExecution(o: Orchestrator, live: LiveExecution, session: LiveSession, now: number): void {
  const id = live.exec.id
  o.store.results.assign(id, session.record.id, now)
  o.pending.delete(id)
  o.assigned.set(id, live)
  live.sessionId = session.record.id
  live.assignedAt = now
  live.startedAt = null
  live.misses = 0
  live.resent = false
  session.held.set(id, 'starting')
  session.unacknowledged.add(id)
  session.executed++
  sendExecute(o, session, live)
  armBackstop(o, live)
  o.emit({ kind: 'run', runId: live.exec.runId })
  o.emit({ kind: 'queue', workspaceId: live.exec.workspaceId })
  o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
}

export function sendExecute(o: Orchestrator, session: LiveSession, live: LiveExecution): void {
  const workspace = o.store.workspaces.get(live.exec.workspaceId)!
  const args = live.step.argumentIds.map((vid) => o.refillValue(o.store.values.get(vid)!))
  live.lastSentAt = o.now()
  sendToSession(session, [
    1,
    {
      command: 'execute',
      params: [
        live.exec.externalId,
        live.step.module,
        live.step.target,
        args,
        live.exec.runExternalId,
        workspace.externalId,
        live.step.timeout > 0 ? live.step.timeout : null,
      ],
    },
  ])
}

/** Server-side deadline (§9): T0 (started, else assigned) + timeout + grace. */
export function armBackstop(o: Orchestrator, live: LiveExecution): void {
  if (live.backstop) clearTimeout(live.backstop)
  live.backstop = null
  if (live.step.timeout <= 0) return
  const t0 = live.startedAt ?? live.assignedAt ?? o.now()
  const at = t0 + live.step.timeout + o.backstopGraceMs
  live.backstop = setTimeout(() => {
    live.backstop = null
    const id = live.exec.id
    if (o.recordResult(id, { type: 'timeout' }) && live.sessionId !== null) {
      const session = o.sessions.get(live.sessionId)
      if (session) sendToSession(session, [1, { command: 'abort', params: [live.exec.externalId] }])
    }
  }, Math.max(0, at - o.now()))
}

function memoize<K, V>(fn: (k: K) => V): (k: K) => V {
  const cache = new Map<K, V>()
  return (k) => {
    if (!cache.has(k)) cache.set(k, fn(k))
    return cache.get(k)!
  }
}
