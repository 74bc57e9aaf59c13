/**
 * Workspace state changes with scheduling consequences (semantics.md §18.4–§18.5).
 */
import { cancelExecution } from './cancellation.ts'
import type { Core } from './core.ts'
import { expireSession } from './sessions.ts'

/**
 * Archive: disconnect and remove the workspace's sessions (their executions are abandoned,
 * possibly creating retries), then cancel every result-less execution in it.
 */
export function archiveWorkspace(o: Core, workspaceId: number): void {
  for (const session of o.sessions.ofWorkspace(workspaceId)) {
    session.disconnect(4000, 'workspace_not_found')
    expireSession(o, session.id)
  }
  o.store.workspaces.update(workspaceId, { state: 'archived' }, o.now())
  for (const live of o.queue.ofWorkspace(workspaceId)) cancelExecution(o, live.exec.id, workspaceId)
  o.emit({ kind: 'workspaces' })
  o.wake()
}
