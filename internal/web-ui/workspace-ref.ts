/** Which workspace a URL names: its id, else its name (an active one before an archived one). */
import type { WorkspaceSummary } from '../protocol/api.ts'

export interface WorkspaceRef {
  id: string
  name: string
  summary: WorkspaceSummary
}

export function resolveWorkspace(all: Record<string, WorkspaceSummary>, ref: string): WorkspaceRef | null {
  if (Object.hasOwn(all, ref)) return { id: ref, name: all[ref]!.name, summary: all[ref]! }
  const named = Object.entries(all)
    .filter(([, w]) => w.name === ref)
    .sort(([, a], [, b]) => Number(a.state === 'archived') - Number(b.state === 'archived'))
  const found = named[0]
  return found ? { id: found[0], name: found[1].name, summary: found[1] } : null
}
