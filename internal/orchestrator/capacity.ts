/**
 * How full a session is (durable waiting): its concurrency bounds the executions that are
 * *running*; an execution blocked in a wait (a select on unresolved handles: `result()`,
 * `select`, `wait_for`, an input) holds a process but no slot, and those are bounded separately
 * by the session's `maxWaiting`. Executions that finished but whose process has not ended yet
 * still count as running, as they did before.
 */
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'

export interface SessionLoad {
  /** held executions not blocked in a wait */
  running: number
  /** held executions blocked in a wait */
  waiting: number
}

export function sessionLoad(o: Core, session: LiveSession): SessionLoad {
  let waiting = 0
  const held = session.heldIds()
  for (const id of held) if (o.waiters.isWaiting(id)) waiting++
  return { running: held.length - waiting, waiting }
}

/** Whether the session may be given one more execution now. */
export function hasRoom(session: Pick<LiveSession, 'isAccepting' | 'concurrency' | 'maxWaiting'>, load: SessionLoad): boolean {
  return session.isAccepting && load.running < session.concurrency && load.waiting < session.maxWaiting
}

/**
 * The session's waiting executions that may be suspended to make room, longest-waiting first:
 * those waiting indefinitely or that asked to be suspended on timeout (a poll with a timeout
 * would get `null` at its deadline, which a suspension could not honour).
 */
export function suspendableWaiting(o: Core, session: LiveSession): number[] {
  const waiting: { id: number; since: number }[] = []
  for (const id of session.heldIds()) {
    if (session.heldState(id) === 'finished') continue
    const waiter = o.waiters.ofCaller(id)[0]
    if (waiter && (waiter.suspend || waiter.timeoutMs === null)) waiting.push({ id, since: waiter.since })
  }
  return waiting.sort((a, b) => a.since - b.since || a.id - b.id).map((w) => w.id)
}

/** The map key of a concurrency limit: limits count per workspace. */
export function limitKey(workspaceId: number, key: string): string {
  return `${workspaceId}\0${key}`
}

/**
 * Running executions per concurrency-limit key (`limitKey`): assigned ones with a limit that are
 * not blocked in a wait (one waiting on its children does not hold its limit).
 */
export function limitLoads(o: Core): Map<string, number> {
  const loads = new Map<string, number>()
  for (const live of o.queue.assigned()) {
    const limit = live.step.concurrency
    if (!limit || o.waiters.isWaiting(live.exec.id)) continue
    const key = limitKey(live.exec.workspaceId, limit.key)
    loads.set(key, (loads.get(key) ?? 0) + 1)
  }
  return loads
}
