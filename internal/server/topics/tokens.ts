/**
 * The `tokens` topic (http-api.md §11.3, §16.1): tokens not revoked, keyed by external id,
 * times in seconds, `workspaces: null` = all. All-workspace callers see every token; others
 * only the tokens they created. Never the token or its hash.
 */
import type { TokenEntry } from '../../protocol/api.ts'
import { hasAllWorkspaces, type Access } from '../auth.ts'
import type { Project } from '../project.ts'

export function tokensTopic(project: Project | null, access: Access): Record<string, TokenEntry> {
  const out: Record<string, TokenEntry> = {}
  if (!project) return out
  const seesAll = hasAllWorkspaces(access)
  const me = access.principal
  if (!seesAll && !me) return out
  for (const t of project.store.tokens.listUnrevoked()) {
    if (!seesAll && (t.createdBy?.type !== me!.type || t.createdBy.externalId !== me!.externalId)) continue
    out[t.externalId] = {
      id: t.id,
      externalId: t.externalId,
      name: t.name,
      workspaces: t.workspaces,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      createdBy: t.createdBy,
    }
  }
  return out
}
