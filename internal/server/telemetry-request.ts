/**
 * Request parsing shared by `/logs` and `/metrics` (http-api.md §12–§13): the posted batch and
 * the read parameters (`workspaces`, `after`, `from`, `limit`, `Accept: text/event-stream`).
 */
import { ApiError } from '../protocol/errors.ts'
import { readBodyText, type AppContext, type ServerContext } from './context.ts'
import { isEventStreamRequest } from './event-stream.ts'
import { invalidRequest, readableWorkspaces } from './execution-scope.ts'
import type { Project } from './project.ts'

/** The array a worker posts under `field` (`messages`, `entries`); its items are not checked yet. */
export async function readBatch(c: AppContext, server: ServerContext, field: string): Promise<unknown[]> {
  const text = await readBodyText(c, server.settings.maxBodyBytes)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new ApiError(400, 'invalid_json', 'invalid JSON body')
  }
  const items = (body as Record<string, unknown> | null)?.[field]
  if (items === undefined || items === null) throw invalidRequest(field, 'required')
  if (!Array.isArray(items)) throw invalidRequest(field, 'must be an array')
  return items
}

export interface ReadParameters {
  /** workspace ids the caller may read, intersected with the requested ones (§16.1) */
  workspaces: string[] | undefined
  /** a cursor from a previous page */
  after: string | null
  /** Unix ms */
  from: number | undefined
  limit: number | undefined
  isStream: boolean
}

/** The parameters every read takes besides what it reads (`run`, `execution`, `keys`). */
export function readParameters(c: AppContext, project: Project | null): ReadParameters {
  const from = optionalNumber(c.req.query('from'), 'from')
  const limit = optionalNumber(c.req.query('limit'), 'limit')
  return {
    workspaces: readableWorkspaces(c.get('access'), project, c.req.query('workspaces')),
    after: c.req.query('after') ?? null,
    from,
    limit,
    isStream: isEventStreamRequest(c.req.header('accept')),
  }
}

function optionalNumber(text: string | undefined, field: string): number | undefined {
  if (text === undefined || text === '') return undefined
  const n = Number(text)
  if (!Number.isFinite(n)) throw invalidRequest(field, 'invalid')
  return n
}
