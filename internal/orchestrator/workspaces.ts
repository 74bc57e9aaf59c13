/**
 * Workspace state changes with scheduling consequences (semantics.md §18.4–§18.5).
 */
import { cancelExecution } from './cancellation.ts'
import type { Orchestrator } from './orchestrator.ts'
import { expireSession } from './sessions.ts'

/**
 * Archive: disconnect and remove the workspace's sessions (their executions are abandoned,
 * possibly creating retries), then cancel every result-less execution in it.
 */
export function archiveWorkspace(o: Orchestrator, workspaceId: number): void {
  for (const session of [...o.sessions.values()]) {
    if (session.record.workspaceId !== workspaceId) continue
    session.channel?.close(4000, 'workspace_not_found')
    session.channel = null
    expireSession(o, session.record.id)
  }
  o.store.workspaces.update(workspaceId, { state: 'archived' }, o.now())
  for (const live of [...o.pending.values(), ...o.assigned.values()]) {
    if (live.exec.workspaceId === workspaceId) cancelExecution(o, live.exec.id, workspaceId)
  }
  o.emit({ kind: 'workspaces' })
  o.wake()
}
