/**
 * Start-up (semantics.md §20.8): sessions come back disconnected with their expiry timers,
 * assigned executions go back to their sessions (executing when acknowledged, starting
 * otherwise, so a lost `execute` is re-sent), executions of vanished sessions are abandoned,
 * and the queue with its dependencies is rebuilt.
 */
import type { Core } from './core.ts'
import { armBackstop } from './dispatch.ts'
import { LiveSession } from './live-session.ts'
import { armExpiry } from './sessions.ts'

export function restoreState(o: Core): void {
  const now = o.now()
  for (const record of o.store.sessions.live()) {
    const session = new LiveSession(record)
    o.sessions.add(session)
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
    o.queue.restoreAssignment(exec.id, session?.id ?? null, assignment.assignedAt, assignment.startedAt, now)
    if (!session) {
      orphaned.push(exec.id)
      continue
    }
    session.hold(exec.id, assignment.acknowledgedAt !== null, false)
    armBackstop(o, live)
  }
  for (const id of orphaned) o.recordResult(id, { type: 'abandoned' }, { workerLost: true })
}
