/**
 * Topic snapshots by path (http-api.md §11.3). Returns the value, or null when the topic cannot
 * be initialised (404); throws 403 for a workspace the caller may not read (§16.1).
 */
import type { AssetTopic } from '../../protocol/api.ts'
import { ApiError } from '../../protocol/errors.ts'
import { canAccessWorkspace, type Access } from '../auth.ts'
import type { Project } from '../project.ts'
import { inputTopic, workspaceInputsTopic } from './inputs.ts'
import { poolsTopic, poolTopic } from './pools.ts'
import { schedulesTopic } from './schedules.ts'
import { assetSummary, runSnapshot } from './run.ts'
import { tokensTopic } from './tokens.ts'
import { manifestsTopic, modulesTopic, queueTopic, sessionsTopic, workflowTopic, workspacesTopic } from './workspace.ts'

export function topicValue(project: Project | null, access: Access, segments: string[]): unknown {
  const [head, ...rest] = segments
  if (head === 'workspaces' && rest.length === 0) return workspacesTopic(project, access)
  if (head === 'asset' && rest.length === 1) {
    const asset = project?.store.assets.getByExternalId(rest[0]!)
    // 404, not 403: whether an asset exists is not revealed outside its workspaces (§16.1)
    if (!asset || !canReadAsset(project!, access, asset.id)) return null
    // entry metadata is JSON the store parsed back (typed `unknown` there)
    const entries = project!.store.assets.entries(asset.id) as AssetTopic['entries']
    const topic: AssetTopic = { name: assetSummary(project!, asset.id).name, entries }
    return topic
  }
  if (head === 'tokens' && rest.length === 0) return tokensTopic(project, access)
  // an input id contains a `/` (`RwD6/i1`): accept it encoded in one segment or split in two
  if (head === 'inputs' && (rest.length === 1 || rest.length === 2)) return inputTopic(project, access, rest.join('/'))
  if (head !== 'workspaces' || rest.length < 2) return null
  const [wsId, kind, ...more] = rest as [string, string, ...string[]]
  const ws = project?.store.workspaces.getByExternalId(wsId)
  if (!project || !ws || ws.state === 'archived') return null
  if (!canAccessWorkspace(access, ws.name)) throw new ApiError(403, 'forbidden', 'forbidden')
  switch (kind) {
    case 'manifests':
      return more.length === 0 ? manifestsTopic(project, ws) : null
    case 'modules':
      return more.length === 0 ? modulesTopic(project, ws) : null
    case 'workflows':
      return more.length === 2 ? workflowTopic(project, ws, more[0]!, more[1]!) : null
    case 'runs':
      return more.length === 1 ? runSnapshot(project, more[0]!, ws.id) : null
    case 'queue':
      return more.length === 0 ? queueTopic(project, ws) : null
    case 'sessions':
      return more.length === 0 ? sessionsTopic(project, ws) : null
    case 'pools':
      return more.length === 0 ? poolsTopic(project, ws) : more.length === 1 ? poolTopic(project, ws, more[0]!) : null
    case 'inputs':
      return more.length === 0 ? workspaceInputsTopic(project, ws) : null
    case 'schedules':
      return more.length === 0 ? schedulesTopic(project, ws) : null
    default:
      return null
  }
}

function canReadAsset(project: Project, access: Access, assetId: number): boolean {
  if (access.workspaces.includes('*')) return true
  return project.store.assets.workspaceIdsOf(assetId).some((id) => {
    const ws = project.store.workspaces.get(id)
    return !!ws && canAccessWorkspace(access, ws.name)
  })
}

export { runSnapshot } from './run.ts'
