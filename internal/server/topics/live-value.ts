/**
 * A topic's current value for the WebSocket, or the error code that ends its subscription
 * (http-api.md §11.1, §16.1). Wraps the REST snapshot builders and adds what only the socket
 * has: the `search` topic, whose value is `null` and which exists for its `query` action.
 */
import { ApiError } from '../../protocol/errors.ts'
import type { Json } from '../../protocol/json.ts'
import { canAccessWorkspace, type Access } from '../auth.ts'
import type { Project } from '../project.ts'
import { toWireValue } from './diff.ts'
import { topicValue } from './index.ts'

export type TopicErrorCode = 'not_found' | 'forbidden'
export type TopicResult = { value: Json } | { error: TopicErrorCode | 'internal_error' }

/** `workspaces/<ws>/search`: the workspace must exist and be readable. */
export function isSearchTopic(segments: readonly string[]): boolean {
  return segments.length === 3 && segments[0] === 'workspaces' && segments[2] === 'search'
}

function searchTopic(project: Project | null, access: Access, workspaceId: string): TopicResult {
  const ws = project?.store.workspaces.getByExternalId(workspaceId)
  if (!ws || ws.state === 'archived') return { error: 'not_found' }
  if (!canAccessWorkspace(access, ws.name)) return { error: 'forbidden' }
  return { value: null }
}

/** Unexpected failures are thrown: the caller logs them and ends the subscription. */
export function computeTopic(project: Project | null, access: Access, segments: string[]): TopicResult {
  if (isSearchTopic(segments)) return searchTopic(project, access, segments[1]!)
  try {
    const value = topicValue(project, access, segments)
    return value === null || value === undefined ? { error: 'not_found' } : { value: toWireValue(value) }
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return { error: 'forbidden' }
    if (err instanceof ApiError && err.status === 404) return { error: 'not_found' }
    throw err
  }
}

/** Actions of `[1, channel, topic, action, args]`: only search's `query` (no matches yet). */
export function executeAction(project: Project | null, access: Access, segments: string[], action: string): { result: Json } | { error: string } {
  if (!isSearchTopic(segments) || action !== 'query') return { error: 'not_found' }
  const topic = searchTopic(project, access, segments[1]!)
  if ('error' in topic) return topic
  // there is no search index yet, so a query matches nothing (§9.7's `matches` shape)
  return { result: [] }
}
