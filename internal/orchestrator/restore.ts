/**
 * Start-up (semantics.md §20.8): sessions come back disconnected with their expiry timers,
 * assigned executions go back to their sessions (executing when acknowledged, starting
 * otherwise, so a lost `execute` is re-sent), executions of vanished sessions are abandoned,
 * and the queue with its dependencies is rebuilt.
 */
import type { Orchestrator } from './orchestrator.ts'
import { armBackstop } from './scheduler.ts'
import { armExpiry, newLiveSession } from './sessions.ts'

export function restoreState(o: Orchestrator): void {
  const now = o.now()
  for (const record of o.store.sessions.live()) {
    const session = newLiveSession(record)
    o.sessions.set(record.id, session)
    const wait = record.activatedAt === null ? record.createdAt + record.activationTimeout - now : record.reconnectionTimeout
    armExpiry(o, session, wait)
  }
  const assignments = new Map(o.store.results.openAssignments().map((a) => [a.executionId, a]))
  const orphaned: number[] = []
  for (const exec of o.store.runs.unfinishedExecutions()) {
    const assignment = assignments.get(exec.id)
    const live = o.track(exec)
    if (!assignment) continue
    const session = o.sessions.get(assignment.sessionId)
    o.pending.delete(exec.id)
    o.setDependencies(live, new Set(), null)
    o.assigned.set(exec.id, live)
    if (!session) {
      orphaned.push(exec.id)
      continue
    }
    live.sessionId = session.record.id
    live.assignedAt = assignment.assignedAt
    live.startedAt = assignment.startedAt
    live.lastSentAt = now
    session.held.set(exec.id, assignment.acknowledgedAt !== null ? 'executing' : 'starting')
    if (assignment.acknowledgedAt === null) session.unacknowledged.add(exec.id)
    armBackstop(o, live)
  }
  for (const id of orphaned) o.recordResult(id, { type: 'abandoned' })
}
