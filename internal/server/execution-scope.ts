/**
 * Who may write telemetry for an execution and which workspaces a reader sees (http-api.md
 * §16.1–§16.2), shared by the `/logs` and `/metrics` routes.
 */
import { ApiError } from '../protocol/errors.ts'
import type { ExecutionRecord, WorkspaceRecord } from '../store/index.ts'
import { canAccessWorkspace, type Access } from './auth.ts'
import type { Project } from './project.ts'

export const invalidRequest = (field: string, reason: string) =>
  new ApiError(400, 'invalid_request', `${field}: ${reason}`, { field, reason })

export interface WritableExecution {
  execution: ExecutionRecord
  workspace: WorkspaceRecord
}

/**
 * The execution an entry names, if the caller may write for it: a session token only for
 * executions assigned to that session (permanently, so late entries still count), other callers
 * for executions in workspaces they can access. `runId` / `workspaceId`, when given, must match.
 */
export function writableExecution(
  access: Access,
  project: Project,
  // the claims are only compared, so a posted entry's fields can be passed before their types are checked
  entry: { executionId: string; runId?: unknown; workspaceId?: unknown },
): WritableExecution {
  // late entries may name an execution whose run was archived meanwhile (semantics.md §23)
  const found = project.store.findExecution(entry.executionId)
  if (!found) throw invalidRequest('executionId', 'unknown execution')
  const execution = found.value
  const workspace = project.store.workspaces.get(execution.workspaceId)!
  const isAllowed =
    access.type === 'session'
      ? found.store.results.assignment(execution.id)?.sessionId === access.sessionId
      : canAccessWorkspace(access, workspace.name)
  if (!isAllowed) throw new ApiError(403, 'forbidden', 'forbidden', { executionId: entry.executionId })
  if (entry.runId !== undefined && entry.runId !== execution.runExternalId) throw invalidRequest('runId', 'does not match the execution')
  if (entry.workspaceId !== undefined && entry.workspaceId !== workspace.externalId) {
    throw invalidRequest('workspaceId', 'does not match the execution')
  }
  return { execution, workspace }
}

/** Workspace ids the caller may read, intersected with the requested ones (absent: all visible). */
export function readableWorkspaces(access: Access, project: Project | null, requested: string | undefined): string[] | undefined {
  const wanted = splitList(requested)
  if (access.workspaces.includes('*')) return wanted
  const visible = (project?.store.workspaces.list() ?? []).filter((w) => canAccessWorkspace(access, w.name)).map((w) => w.externalId)
  return wanted ? wanted.filter((w) => visible.includes(w)) : visible
}

/** A comma-separated query parameter; undefined when absent or empty. */
export function splitList(text: string | undefined): string[] | undefined {
  const items = text?.split(',').map((s) => s.trim()).filter(Boolean)
  return items && items.length > 0 ? items : undefined
}
