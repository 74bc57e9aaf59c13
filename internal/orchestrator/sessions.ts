/**
 * Worker sessions (semantics.md §20): connection and resumption, capacity, heartbeats,
 * lost-assignment recovery, termination and expiry.
 */
import type { DeclaredTargets } from '../protocol/executor.ts'
import type { ServerFrame } from '../protocol/worker.ts'
import type { SessionRecord, TagSet } from '../store/index.ts'
import type { Orchestrator } from './orchestrator.ts'
import { armBackstop, sendExecute } from './scheduler.ts'
import { targetKey, type LiveSession, type WorkerChannel } from './types.ts'

const LOST_ASSIGNMENT_GRACE_MS = 10_000

export function sessionLoad(session: LiveSession): number {
  return session.held.size
}

export function sendToSession(session: LiveSession, frame: ServerFrame): void {
  if (session.channel) session.channel.send(frame)
  else session.outbox.push(frame)
}

export function newLiveSession(record: SessionRecord): LiveSession {
  return {
    record,
    channel: null,
    targets: null,
    declared: {},
    concurrency: 0,
    draining: false,
    held: new Map(),
    unacknowledged: new Set(),
    outbox: [],
    expiry: null,
    executed: 0,
    connectedAt: null,
  }
}

export function createSession(
  o: Orchestrator,
  input: { workspaceId: number; provides: TagSet; accepts: TagSet; workerId?: number | null },
): { session: LiveSession; token: string } {
  const { session: record, token } = o.store.sessions.create(input, o.now())
  const session = newLiveSession(record)
  o.sessions.set(record.id, session)
  armExpiry(o, session, record.activationTimeout)
  o.emit({ kind: 'sessions', workspaceId: record.workspaceId })
  return { session, token }
}

export function armExpiry(o: Orchestrator, session: LiveSession, afterMs: number): void {
  if (session.expiry) clearTimeout(session.expiry)
  session.expiry = setTimeout(() => expireSession(o, session.record.id), Math.max(0, afterMs))
}

/** §20.2: a (re)connection replaces any previous one and resumes the session. */
export function connectSession(o: Orchestrator, session: LiveSession, channel: WorkerChannel): void {
  const previous = session.channel
  session.channel = channel
  if (previous && previous !== channel) previous.close(4000, 'session_replaced')
  if (session.expiry) clearTimeout(session.expiry)
  session.expiry = null
  const now = o.now()
  if (session.record.activatedAt === null) {
    o.store.sessions.activate(session.record.id, now)
    session.record = { ...session.record, activatedAt: now }
  }
  session.connectedAt = now
  session.draining = false
  channel.send([0, session.record.externalId, [...session.held.keys()].map((id) => o.execution(id)!.externalId)])
  const queued = session.outbox.splice(0)
  for (const frame of queued) channel.send(frame)
  for (const id of session.unacknowledged) {
    const live = o.assigned.get(id)
    if (live) sendExecute(o, session, live)
  }
  o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
  o.wake()
}

export function disconnectSession(o: Orchestrator, session: LiveSession, channel: WorkerChannel): void {
  if (session.channel !== channel) return
  session.channel = null
  session.connectedAt = null
  armExpiry(o, session, session.record.reconnectionTimeout)
  o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
}

/** §20.1: the session is removed; what it held is abandoned (and retried per policy). */
export function expireSession(o: Orchestrator, sessionId: number): void {
  const session = o.sessions.get(sessionId)
  if (!session) return
  if (session.expiry) clearTimeout(session.expiry)
  o.sessions.delete(sessionId)
  o.store.sessions.expire(sessionId, o.now())
  session.channel?.close(4000, 'session_invalid')
  for (const id of session.held.keys()) {
    o.removeWaitersOfCaller(id)
    o.recordResult(id, { type: 'abandoned' })
    o.assigned.delete(id)
  }
  o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
  o.wake()
}

export function declareTargets(o: Orchestrator, session: LiveSession, targets: DeclaredTargets, concurrency: number): void {
  const keys = new Set<string>()
  for (const [module, byType] of Object.entries(targets)) {
    for (const type of ['task', 'workflow'] as const) {
      for (const name of byType[type] ?? []) keys.add(targetKey(type, module, name))
    }
  }
  session.targets = keys
  session.declared = targets
  session.concurrency = Math.max(1, Math.floor(concurrency) || 1)
  o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
  o.wake()
}

/** Marks an execution as reported by its worker (first acknowledgement is persisted). */
export function acknowledge(o: Orchestrator, session: LiveSession, executionId: number): void {
  if (session.held.get(executionId) === 'starting') session.held.set(executionId, 'executing')
  if (session.unacknowledged.delete(executionId)) o.store.results.acknowledge(executionId, o.now())
}

export function markStarted(o: Orchestrator, session: LiveSession, executionId: number): void {
  acknowledge(o, session, executionId)
  const now = o.now()
  o.store.results.markStarted(executionId, now)
  const live = o.assigned.get(executionId)
  if (live) {
    live.startedAt = now
    armBackstop(o, live)
  }
}

/** §20.4 and the lost-assignment rule of §20.6. */
export function recordHeartbeats(o: Orchestrator, session: LiveSession, statuses: Record<string, number>): void {
  const now = o.now()
  const reported = new Set<number>()
  for (const externalId of Object.keys(statuses)) {
    const exec = o.executionByExternalId(externalId)
    if (!exec) continue
    reported.add(exec.id)
    if (session.held.has(exec.id)) acknowledge(o, session, exec.id)
    else if (o.store.results.get(exec.id)) sendToSession(session, [1, { command: 'abort', params: [externalId] }])
  }
  for (const [id, state] of [...session.held]) {
    if (reported.has(id)) continue
    if (session.unacknowledged.has(id)) {
      checkLostAssignment(o, session, id, now)
      continue
    }
    // the worker no longer holds it: finished ones just free the slot, running ones are abandoned
    session.held.delete(id)
    if (state !== 'finished') o.recordResult(id, { type: 'abandoned' })
    o.assigned.delete(id)
  }
  o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
  o.wake()
}

function checkLostAssignment(o: Orchestrator, session: LiveSession, id: number, now: number): void {
  const live = o.assigned.get(id)
  if (!live || now - live.lastSentAt < LOST_ASSIGNMENT_GRACE_MS) return
  live.misses++
  if (live.misses < 2) return
  live.misses = 0
  if (!live.resent) {
    live.resent = true
    sendExecute(o, session, live)
    return
  }
  // connected and reporting all along, never started: back to the queue without an attempt
  session.held.delete(id)
  session.unacknowledged.delete(id)
  o.store.results.unassign(id)
  o.assigned.delete(id)
  if (live.backstop) clearTimeout(live.backstop)
  live.backstop = null
  live.sessionId = null
  live.assignedAt = null
  o.pending.set(id, live)
  o.wake()
}

/** `notify_terminated`: the process is gone; a result-less execution is abandoned. */
export function notifyTerminated(o: Orchestrator, session: LiveSession, executionIds: number[]): void {
  for (const id of executionIds) {
    if (!o.store.results.get(id)) o.recordResult(id, { type: 'abandoned' })
    session.held.delete(id)
    session.unacknowledged.delete(id)
    o.assigned.delete(id)
    if (session.channel?.supportsAcks) {
      const exec = o.execution(id)
      if (exec) session.channel.send([4, exec.externalId, 'terminated'])
    }
  }
  o.emit({ kind: 'sessions', workspaceId: session.record.workspaceId })
  o.wake()
}
