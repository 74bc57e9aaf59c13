/**
 * Handing executions to sessions (semantics.md §20.3): the assignment is written first, then
 * `execute` is sent (queued while the worker is disconnected), and the server-side deadline is
 * armed (§9). Re-sending after a reconnection or a lost assignment goes through `sendExecute`.
 */
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'
import type { QueuedExecution } from './queue.ts'

export function assignExecution(o: Core, live: QueuedExecution, session: LiveSession, now: number): void {
  const id = live.exec.id
  o.store.results.assign(id, session.id, now)
  o.queue.assign(id, session.id, now)
  session.hold(id)
  sendExecute(o, session, live)
  armBackstop(o, live)
  o.emit({ kind: 'run', runId: live.exec.runId })
  o.emit({ kind: 'queue', workspaceId: live.exec.workspaceId })
  o.emit({ kind: 'sessions', workspaceId: session.workspaceId })
}

export function sendExecute(o: Core, session: LiveSession, live: QueuedExecution): void {
  const workspace = o.store.workspaces.externalIdOf(live.exec.workspaceId)!
  const args = live.step.argumentIds.map((vid) => o.refillValue(o.store.values.get(vid)!))
  o.queue.markSent(live.exec.id, o.now())
  session.send([
    1,
    {
      command: 'execute',
      params: [
        live.exec.externalId,
        live.step.module,
        live.step.target,
        args,
        live.exec.runExternalId,
        workspace,
        live.step.timeout > 0 ? live.step.timeout : null,
      ],
    },
  ])
}

/** Server-side deadline (§9): T0 (started, else assigned) + timeout + grace. */
export function armBackstop(o: Core, live: QueuedExecution): void {
  if (live.step.timeout <= 0) return o.queue.setBackstop(live.exec.id, null)
  const t0 = live.startedAt ?? live.assignedAt ?? o.now()
  const at = t0 + live.step.timeout + o.backstopGraceMs
  const timer = setTimeout(() => {
    const id = live.exec.id
    const sessionId = o.queue.get(id)?.sessionId ?? null
    if (o.recordResult(id, { type: 'timeout' }) && sessionId !== null) {
      o.sessions.get(sessionId)?.send([1, { command: 'abort', params: [live.exec.externalId] }])
    }
  }, Math.max(0, at - o.now()))
  o.queue.setBackstop(live.exec.id, timer)
}
