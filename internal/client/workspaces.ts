import type { ApiClient } from './api-client.ts'
import type { WorkspaceSummary } from '../protocol/api.ts'

/** Raised when a named workspace does not exist (and may not be created). */
export class WorkspaceNotFoundError extends Error {
  readonly exitCode = 1
  override readonly name = 'WorkspaceNotFoundError'
  constructor(readonly workspace: string) {
    super(`workspace not found: ${workspace}`)
  }
}

/** The id of the non-archived workspace called `name`, if any. */
export function findWorkspaceId(all: Record<string, WorkspaceSummary>, name: string): string | undefined {
  for (const [id, ws] of Object.entries(all)) {
    if (ws.name === name && ws.state !== 'archived') return id
  }
  return undefined
}

export function listWorkspaces(client: ApiClient): Promise<Record<string, WorkspaceSummary>> {
  return client.topic<Record<string, WorkspaceSummary>>('workspaces')
}

/**
 * Resolves a workspace name to its id (cli.md §5.9): the non-archived entry with that name.
 * With `autoCreate` (worker, submit, manifests register, pools create/update) a missing
 * workspace is created.
 */
export async function resolveWorkspaceId(
  client: ApiClient,
  name: string,
  options: { autoCreate?: boolean } = {},
): Promise<string> {
  const all = await listWorkspaces(client)
  for (const [id, ws] of Object.entries(all)) {
    if (ws.name === name && ws.state !== 'archived') return id
  }
  if (!options.autoCreate) throw new WorkspaceNotFoundError(name)
  try {
    const created = await client.post<{ id: string }>('create_workspace', { name })
    return created.id
  } catch (err) {
    // lost a race with another process creating it: look again
    const again = await listWorkspaces(client)
    for (const [id, ws] of Object.entries(again)) {
      if (ws.name === name && ws.state !== 'archived') return id
    }
    throw err
  }
}
