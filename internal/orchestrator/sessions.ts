/**
 * Worker session lifecycle (semantics.md §20): creation, connection and resumption, declared
 * targets, heartbeats, lost-assignment recovery, termination and expiry. The session objects
 * themselves are in live-session.ts; these are the rules that also touch the queue and results.
 */
import type { DeclaredTargets } from '../protocol/executor.ts'
import type { TagSet } from '../protocol/api.ts'
import type { Core } from './core.ts'
import { armBackstop, sendExecute } from './dispatch.ts'
import { LiveSession } from './live-session.ts'
import { targetKey, type WorkerChannel } from './types.ts'

const LOST_ASSIGNMENT_GRACE_MS = 10_000

export function createSession(
  o: Core,
  input: { workspaceId: number; provides: TagSet; accepts: TagSet; workerId?: number | null },
): { session: LiveSession; token: string } {
  const { session: record, token } = o.store.sessions.create({ ...input, reconnectionTimeout: o.reconnectionTimeoutMs }, o.now())
  const session = new LiveSession(record)
  o.sessions.add(session)
  armExpiry(o, session, record.activationTimeout)
  o.emit({ kind: 'sessions', workspaceId: record.workspaceId })
  return { session, token }
}

export function armExpiry(o: Core, session: LiveSession, afterMs: number): void {
  session.setExpiry(setTimeout(() => expireSession(o, session.id), Math.max(0, afterMs)))
}

/** §20.2: a (re)connection replaces any previous one and resumes the session. */
export function connectSession(o: Core, session: LiveSession, channel: WorkerChannel): void {
  const now = o.now()
  session.attach(channel, now)?.close(4000, 'session_replaced')
  if (session.record.activatedAt === null) {
    o.store.sessions.activate(session.id, now)
    session.activated({ ...session.record, activatedAt: now })
  }
  channel.send([0, session.record.externalId, session.heldIds().map((id) => o.execution(id)!.externalId)])
  session.flush()
  for (const id of session.unacknowledgedIds()) {
    const live = o.queue.isAssigned(id) ? o.queue.get(id) : undefined
    if (live) sendExecute(o, session, live)
  }
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
  o.wake()
}

export function disconnectSession(o: Core, session: LiveSession, channel: WorkerChannel): void {
  if (!session.detach(channel)) return
  armExpiry(o, session, session.record.reconnectionTimeout)
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
}

/** §20.1: the session is removed; what it held is abandoned (and retried per policy). */
export function expireSession(o: Core, sessionId: number): void {
  const session = o.sessions.get(sessionId)
  if (!session) return
  o.sessions.remove(sessionId)
  o.store.sessions.expire(sessionId, o.now())
  session.disconnect(4000, 'session_invalid')
  for (const id of session.heldIds()) {
    o.waiters.removeOfCaller(id)
    o.recordResult(id, { type: 'abandoned' }, { workerLost: true })
    o.queue.remove(id)
  }
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
  o.wake()
}

export function declareTargets(o: Core, session: LiveSession, targets: DeclaredTargets, concurrency: number, maxWaiting?: number): void {
  const keys = new Set<string>()
  for (const [module, byType] of Object.entries(targets)) {
    for (const type of ['task', 'workflow'] as const) {
      for (const name of byType[type] ?? []) keys.add(targetKey(type, module, name))
    }
  }
  session.declare(keys, targets, concurrency, maxWaiting)
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
  o.wake()
}

/** `session_draining`: the worker takes no new work. */
export function drainSession(o: Core, session: LiveSession): void {
  session.drain()
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
}

/** Marks an execution as reported by its worker (the first acknowledgement is persisted). */
export function acknowledge(o: Core, session: LiveSession, executionId: number): void {
  if (session.acknowledge(executionId)) o.store.results.acknowledge(executionId, o.now())
}

export function markStarted(o: Core, session: LiveSession, executionId: number): void {
  // one write: marking it started also records the first acknowledgement
  session.acknowledge(executionId)
  const now = o.now()
  o.store.results.markStarted(executionId, now)
  o.queue.markStarted(executionId, now)
  const live = o.queue.isAssigned(executionId) ? o.queue.get(executionId) : undefined
  if (live) armBackstop(o, live)
}

/** §20.4 and the lost-assignment rule of §20.6. */
export function recordHeartbeats(o: Core, session: LiveSession, statuses: Record<string, number>): void {
  const now = o.now()
  const reported = new Set<number>()
  for (const externalId of Object.keys(statuses)) {
    const exec = o.executionByExternalId(externalId)
    if (!exec) continue
    reported.add(exec.id)
    if (session.holds(exec.id)) acknowledge(o, session, exec.id)
    else if (o.store.results.get(exec.id)) session.send([1, { command: 'abort', params: [externalId] }])
  }
  for (const id of session.heldIds()) {
    if (reported.has(id)) continue
    if (session.isUnacknowledged(id)) {
      checkLostAssignment(o, session, id, now)
      continue
    }
    // the worker no longer holds it: finished ones just free the slot, running ones are abandoned
    const state = session.heldState(id)
    session.release(id)
    if (state !== 'finished') o.recordResult(id, { type: 'abandoned' }, { workerLost: true })
    o.queue.remove(id)
  }
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
  o.wake()
}

function checkLostAssignment(o: Core, session: LiveSession, id: number, now: number): void {
  const live = o.queue.isAssigned(id) ? o.queue.get(id) : undefined
  if (!live || now - live.lastSentAt < LOST_ASSIGNMENT_GRACE_MS) return
  if (o.queue.noteMiss(id) < 2) return
  if (!live.resent) {
    o.queue.noteResent(id)
    sendExecute(o, session, live)
    return
  }
  // connected and reporting all along, never started: back to the queue without an attempt
  o.queue.resetMisses(id)
  session.release(id)
  o.store.results.unassign(id)
  o.queue.unassign(id)
  o.wake()
}

/** `notify_terminated`: the process is gone; a result-less execution is abandoned. */
export function notifyTerminated(o: Core, session: LiveSession, executionIds: number[]): void {
  for (const id of executionIds) {
    if (!o.store.results.get(id)) o.recordResult(id, { type: 'abandoned' })
    session.release(id)
    o.queue.remove(id)
    if (session.channel?.supportsAcks) {
      const exec = o.execution(id)
      if (exec) session.channel.send([4, exec.externalId, 'terminated'])
    }
  }
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
  o.wake()
}
