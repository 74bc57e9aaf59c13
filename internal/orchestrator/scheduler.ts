/**
 * One scheduling pass: build the planner's read-only view from the queue and the sessions, plan
 * (planner.ts), then apply each decision that still holds, and run the pools step with what no
 * session could take. Works from the in-memory queue; the store is only written for decisions.
 */
import { RESULT_TYPE } from '../store/index.ts'
import type { Core } from './core.ts'
import { hasRoom, limitKey, limitLoads, sessionLoad, suspendableWaiting } from './capacity.ts'
import { assignExecution } from './dispatch.ts'
import type { LiveSession } from './live-session.ts'
import { isSessionEligible, planPass, type CacheHit, type Decision, type PlanView, type SessionView } from './planner.ts'
import { isPoolWorkerAvailable, runPoolStep } from './pools.ts'
import type { QueuedExecution } from './queue.ts'
import { archivedCacheHit } from './rotation.ts'
import { suspendCaller } from './suspension.ts'

/** Runs a pass; returns the earliest future `execute_after`, if any. */
export function runSchedulerPass(o: Core): number | null {
  const plan = planPass(planView(o))
  for (const decision of plan.decisions) apply(o, decision)
  runPoolStep(o, plan.unrouted.filter((live) => o.queue.isPending(live.exec.id)))
  return plan.nextDue
}

export function planView(o: Core): PlanView {
  const now = o.now()
  const active = new Map<number, boolean>()
  const isActive = (id: number) => {
    if (!active.has(id)) active.set(id, o.store.workspaces.get(id)?.state === 'active')
    return active.get(id)!
  }
  const sessions = o.sessions.all().map((s) => sessionView(o, s))
  const loads = limitLoads(o)
  const { candidates, laterDue } = selectCandidates(o, sessions, now, isActive, loads)
  return {
    now,
    candidates,
    laterDue,
    limitLoads: loads,
    sessions,
    cacheHit: (live, isSettled) => cacheHit(o, live, now, isSettled),
    random: Math.random,
  }
}

/**
 * What a pass can act on, without walking the whole queue: from each runnable routing class,
 * its first due executions, as many as the sessions able to take them have room for (at least
 * one, which may launch a pool worker or press a waiting session to suspend); every due child
 * workflow to spawn; executions with a defer key; and first attempts with a cache key still
 * waiting for dependencies (a cache hit does not wait for them). A class whose concurrency
 * limit is reached is left out (the class includes the limit's key).
 */
function selectCandidates(
  o: Core,
  sessions: SessionView[],
  now: number,
  isActive: (workspaceId: number) => boolean,
  loads: ReadonlyMap<string, number>,
) {
  const candidates = new Set<QueuedExecution>()
  let laterDue: number | null = null
  for (const list of o.queue.runnableClasses()) {
    const first = list[0]
    if (!first || !isActive(first.exec.workspaceId)) continue
    const limit = first.step.concurrency
    if (limit && (loads.get(limitKey(first.exec.workspaceId, limit.key)) ?? 0) >= limit.limit) continue
    const spawns = first.step.type === 'workflow' && first.step.parentExecutionId !== null
    let room = 0
    if (!spawns) {
      for (const s of sessions) {
        if (s.waiting < s.maxWaiting && isSessionEligible(s, first)) room += Math.max(0, s.concurrency - s.running)
      }
    }
    const take = spawns ? Infinity : Math.max(1, room)
    let taken = 0
    for (const live of list) {
      // with priorities, a due execution may sort after a delayed one: skip, don't stop
      const after = live.exec.executeAfter
      if (after !== null && after > now) {
        if (laterDue === null || after < laterDue) laterDue = after
        continue
      }
      candidates.add(live)
      if (++taken >= take) break
    }
  }
  for (const live of o.queue.deferKeyed()) if (isActive(live.exec.workspaceId)) candidates.add(live)
  for (const live of o.queue.blocked()) {
    if (live.exec.attempt === 1 && live.step.cacheKey && live.step.cacheConfig && isActive(live.exec.workspaceId)) candidates.add(live)
  }
  return { candidates: [...candidates], laterDue }
}

export function sessionView(o: Core, s: LiveSession): SessionView {
  const load = sessionLoad(o, s)
  return {
    id: s.id,
    workspaceId: s.workspaceId,
    targets: s.targets,
    provides: s.record.provides,
    accepts: s.record.accepts,
    running: load.running,
    concurrency: s.concurrency,
    waiting: load.waiting,
    maxWaiting: s.maxWaiting,
    suspendable: load.waiting > 0 ? suspendableWaiting(o, s) : [],
    isAvailable: s.isAccepting && isPoolWorkerAvailable(o, s),
  }
}

/** Whether some session could take the execution now (it has room and is eligible). */
export function hasEligibleSession(o: Core, live: QueuedExecution): boolean {
  return o.sessions.all().some((s) => hasRoom(s, sessionLoad(o, s)) && isSessionEligible(sessionView(o, s), live))
}

/** Applies a decision unless the pass's own earlier decisions made it moot. */
function apply(o: Core, decision: Decision): void {
  if (decision.kind === 'suspend') return suspendWaiting(o, decision.executionId, decision.sessionId)
  if (!o.queue.isPending(decision.executionId)) return
  const live = o.queue.get(decision.executionId)!
  switch (decision.kind) {
    case 'defer':
      o.recordResult(live.exec.id, { type: 'deferred', successorId: decision.survivorId })
      return
    case 'cache':
      o.recordResult(live.exec.id, cachedResult(o, decision.hit))
      return
    case 'spawn':
      spawnChildRun(o, live, o.now())
      return
    case 'assign': {
      const session = o.sessions.get(decision.sessionId)
      if (session && hasRoom(session, sessionLoad(o, session))) assignExecution(o, live, session, o.now())
      return
    }
    default: {
      const unknown: never = decision
      throw new Error(`unknown decision ${String(unknown)}`)
    }
  }
}

/** Suspend under pressure: the waiting execution ends; its successor is gated on what it awaited. */
function suspendWaiting(o: Core, executionId: number, sessionId: number): void {
  const session = o.sessions.get(sessionId)
  const waiter = o.waiters.ofCaller(executionId)[0]
  const caller = o.execution(executionId)
  if (!session || !waiter || !caller || !session.holds(executionId)) return
  suspendCaller(o, session, caller, waiter.handles, null)
}

/** §6.1: the newest in-flight or fresh-enough value of another step with the same key, in the ancestry. */
function cacheHit(o: Core, live: QueuedExecution, now: number, isSettled: (executionId: number) => boolean): CacheHit | null {
  const maxAge = live.step.cacheConfig!.maxAge
  const ancestry = new Set(o.store.workspaces.ancestry(live.exec.workspaceId))
  for (const c of o.store.runs.cacheCandidates(live.step.cacheKey!)) {
    if (c.stepId === live.step.id || !ancestry.has(c.workspaceId)) continue
    if (c.resultType === null && !isSettled(c.executionId)) return { kind: 'execution', executionId: c.executionId }
    if (c.resultType === RESULT_TYPE.value && (maxAge === null || c.resultCreatedAt! >= now - maxAge)) {
      return { kind: 'execution', executionId: c.executionId }
    }
  }
  return archivedCacheHit(o, live, now)
}

function cachedResult(o: Core, hit: CacheHit) {
  if (hit.kind === 'execution') return { type: 'cached' as const, successorId: hit.executionId }
  // an archived value is copied into the active epoch only when the hit is applied
  return { type: 'cached' as const, valueId: o.store.values.put(hit.value), successorRef: hit.executionExternalId }
}

/** §16: a workflow called from a task starts its own run, and the call records `spawned`. */
function spawnChildRun(o: Core, live: QueuedExecution, now: number): void {
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
        resumeLimit: step.resumeLimit,
        concurrency: step.concurrency,
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
    return { step: childStep, exec: o.store.runs.createExecution(childStep.id, exec.workspaceId, null, now, null, childStep) }
  })
  o.recordResult(exec.id, { type: 'spawned', successorId: child.exec.id })
  o.track(child.exec, child.step)
  o.emit({ kind: 'run', runId: child.exec.runId })
}
